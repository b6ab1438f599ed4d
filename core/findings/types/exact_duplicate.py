"""Exact duplicates: the later copy of two files with the same bytes
(components/duplicates). A copy adds nothing, and with a conflicting
label it teaches both labels: its own row is a certain removal, whatever
else the image is flagged with (`dcp fix` removes the train copy of a
leak, never the test copy)."""

from core.findings.finding import REMOVE, Finding
from core.findings.issue_types import (
    DUPLICATES_SECTION,
    IssueType,
    Suggestion,
    register,
)

EXACT_DUPLICATE = "exact_duplicate"


def remove_the_copy(finding: Finding) -> Suggestion:
    return Suggestion(REMOVE, 1.0)


register(
    IssueType(
        name=EXACT_DUPLICATE,
        title="exact duplicate",
        section=DUPLICATES_SECTION,
        order=20,
        detector="components.duplicates.finding.find_duplicates",
        fills=("suggested_label", "duplicate_of", "detail"),
        own_row=remove_the_copy,
    )
)
