"""Broken files: what the ETL quarantined as unreadable (read back by
components/quality_report). An unreadable image teaches nothing: a
certain removal of the image. The report has no picture of it and shows
what is wrong instead."""

from core.findings.finding import REMOVE, Finding
from core.findings.issue_types import (
    OUTLIERS_SECTION,
    IssueType,
    Suggestion,
    register,
)

BROKEN_FILE = "broken_file"


def remove_the_image(finding: Finding) -> Suggestion:
    return Suggestion(REMOVE, 1.0)


register(
    IssueType(
        name=BROKEN_FILE,
        title="broken file",
        section=OUTLIERS_SECTION,
        order=40,
        detector="components.quality_report.analysis.broken_files",
        fills=("detail",),
        has_image=False,
        whole_image=remove_the_image,
    )
)
