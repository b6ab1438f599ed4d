"""Near-duplicates: an image within a small pixel distance of another
(a shift, a brightness change; components/duplicates). With another
label than its copy's it argues its image is of no class: that weighs
with a label issue in components/quality_report/suggested_actions.py;
alone it is for review."""

from core.findings.issue_types import DUPLICATES_SECTION, IssueType, register

NEAR_DUPLICATE = "near_duplicate"

register(
    IssueType(
        name=NEAR_DUPLICATE,
        title="near duplicate",
        section=DUPLICATES_SECTION,
        order=30,
        detector="components.duplicates.finding.find_duplicates",
        fills=("suggested_label", "duplicate_of", "detail"),
    )
)
