"""One suggested action per flagged image, with a confidence: relabel it,
remove it, or let a person review it.

On real data most label problems are images that belong to no class
(scribbles, other numeral systems, several numerals, blank scans), so a
flagged image is not offered a relabel unless the out-of-sample evidence
is confident in another class. Every finding of an image but an exact
duplicate's gets the same suggestion, decided from all of them together:

- what an issue type decides alone (its `own_row` and `whole_image`
  rules, core/findings/types/): remove, confidence 1, an unreadable
  file or a blank image (every finding of the image); and on its own
  row, an exact duplicate (a copy adds nothing; with a conflicting
  label it also teaches both labels; `dcp fix` removes the train copy of
  a leak, never the test copy);
- remove: a label issue that looks like no class: far from every class
  in the auditor's embedding, a near-duplicate of an image with another
  label, no class probable out of sample (the largest below
  NO_CLASS_PROBABILITY), or, unless the evidence is confident in another
  class (a relabel), a label every round doubts or an outlier in the
  trained model's embedding;
- relabel: a label issue whose most probable class out of sample is
  another class, with at least RELABEL_PROBABILITY;
- review: everything else.

The confidence of a suggestion from label evidence is the chance that
the given label is wrong as the least doubtful round sees it (one minus
the most probability any round gives it): a change is only as sure as
the round that argues most for leaving the image alone. A relabel whose
new class some round gives less than SURE_CLASS_PROBABILITY is no surer
than that round's probability of it. On dcai-roman, against human
review, the changes this puts at 0.99 or more were 88 to 91% what the
reviewers do, and touched no image they keep, in two runs with other
seeds. Without label evidence, the confidence is the finding's score.
"""

import dataclasses
from collections.abc import Mapping, Sequence

from core.findings.finding import RELABEL, REMOVE, REVIEW, Finding
from core.findings.issue_types import Suggestion, issue_type
from core.findings.types import LABEL_ISSUE, NEAR_DUPLICATE, OUTLIER

# A relabel needs this out-of-sample probability of the new class.
RELABEL_PROBABILITY = 0.7
# Below this in some round, the new class is not sure enough for the
# relabel to be any surer than that round's probability of it.
SURE_CLASS_PROBABILITY = 0.9
# Below this for every class, an image looks like no class at all.
NO_CLASS_PROBABILITY = 0.5


@dataclasses.dataclass(frozen=True)
class LabelEvidence:
    """The out-of-sample view of one image's label (ranking.csv)."""

    given_probability: float
    suggested_label: str  # the most probable class
    suggested_probability: float
    no_class: bool = False  # far from every class (the auditor's view)
    # The least probability of the suggested label in any round.
    agreed_probability: float | None = None
    # Every round doubts the given label (ranking.DOUBTED_GIVEN).
    doubted: bool = False
    # The most probability any round gives the given label.
    given_at_most: float | None = None


def suggest_actions(
    findings: Sequence[Finding], evidence: Mapping[str, LabelEvidence]
) -> list[Finding]:
    """`findings`, in order, each with its image's suggested_action and
    confidence; a relabel also sets suggested_label.

    Args:
      findings: every analysis's findings.
      evidence: by image path, for the images whose label was judged.
    """
    by_image: dict[str, list[Finding]] = {}
    for finding in findings:
        by_image.setdefault(finding.path, []).append(finding)
    decided = {
        path: _suggest(rows, evidence.get(path))
        for path, rows in by_image.items()
    }
    suggested = []
    for finding in findings:
        own_row = issue_type(finding.issue).own_row
        if own_row is None:
            action, confidence, label = decided[finding.path]
        else:
            action, confidence, label = _fields(own_row(finding))
        suggested.append(
            dataclasses.replace(
                finding,
                suggested_action=action,
                confidence=confidence,
                suggested_label=label or finding.suggested_label,
            )
        )
    return suggested


def _suggest(
    rows: Sequence[Finding], evidence: LabelEvidence | None
) -> tuple[str, float, str]:
    """(action, confidence, new label or "") for one image's findings."""
    issues = {row.issue for row in rows}
    for row in rows:
        whole_image = issue_type(row.issue).whole_image
        if whole_image is not None:
            return _fields(whole_image(row))
    if LABEL_ISSUE not in issues or evidence is None:
        return REVIEW, max(_bounded(row.score) for row in rows), ""
    given_at_most = (
        evidence.given_probability
        if evidence.given_at_most is None
        else evidence.given_at_most
    )
    wrong = 1.0 - given_at_most
    if (
        evidence.no_class
        or any(_conflicting(row) for row in rows)
        or evidence.suggested_probability < NO_CLASS_PROBABILITY
    ):
        return REMOVE, wrong, ""
    given = rows[0].given_label
    if (
        evidence.suggested_label != given
        and evidence.suggested_probability >= RELABEL_PROBABILITY
    ):
        agreed = evidence.agreed_probability
        if agreed is not None and agreed < SURE_CLASS_PROBABILITY:
            return RELABEL, min(wrong, agreed), evidence.suggested_label
        return RELABEL, wrong, evidence.suggested_label
    # Checked after the relabel: the trained model memorises a swapped
    # label, which alone can put the image far from its neighbours in
    # that model's embedding (24 of the embedded digits' 54 flips).
    if any(row.issue == OUTLIER for row in rows):
        return REMOVE, wrong, ""
    # Doubted, and no other class sure enough for a relabel: the image
    # looks like no class.
    if evidence.doubted:
        return REMOVE, wrong, ""
    return REVIEW, wrong, ""


def _conflicting(row: Finding) -> bool:
    """A near-duplicate of an image with another label (the duplicate
    analysis gives the copy's label as the suggested one)."""
    return row.issue == NEAR_DUPLICATE and row.suggested_label not in (
        "",
        row.given_label,
    )


def _fields(suggestion: Suggestion) -> tuple[str, float, str]:
    return suggestion.action, suggestion.confidence, suggestion.label


def _bounded(score: float) -> float:
    return min(max(score, 0.0), 1.0)
