"""Outliers: images far from their neighbours in the trained model's
embedding (cleanlab's k-nearest-neighbour score, components/outliers).
With a label issue it argues the image is of no class: that weighs in
components/quality_report/suggested_actions.py; alone it is for review."""

from core.findings.issue_types import OUTLIERS_SECTION, IssueType, register

OUTLIER = "outlier"

register(
    IssueType(
        name=OUTLIER,
        title="outlier",
        section=OUTLIERS_SECTION,
        order=110,
        detector="components.outliers.finding.embedding_findings",
        fills=("detail",),
    )
)
