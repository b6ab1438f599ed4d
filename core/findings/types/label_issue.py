"""Label issues: images whose given label out-of-sample evidence doubts
(confident learning, components/label_issues). How they are suggested
weighs the image's other findings and the label evidence together, so
that rule is components/quality_report/suggested_actions.py's."""

from core.findings.issue_types import LABEL_ISSUES_SECTION, IssueType, register

LABEL_ISSUE = "label_issue"

register(
    IssueType(
        name=LABEL_ISSUE,
        title="label issue",
        section=LABEL_ISSUES_SECTION,
        order=10,
        detector="tasks.classification.label_issues.analysis.find_label_issues",
        fills=("suggested_label", "detail"),
    )
)
