"""Confident learning (cleanlab) over out-of-sample probabilities: a
score per image and the images it judges mislabelled."""

import dataclasses

import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

# Tukey's "far out": this many interquartile ranges above the third
# quartile. On dcai-roman 9 reviewed images lie beyond it with a doubtful
# label; the reviewers remove 6 of them and keep 2. On the embedded
# digits 11 of the 12 images of no class do, among 30 of 1,367.
_FAR_OUT = 3.0
# An image of several digits may still lean to one of them.
NO_CLASS_MAX_GIVEN = 0.7
# Every round gives the given label less than this: flagged, whatever
# cleanlab's count. On dcai-roman cleanlab's count leaves out most
# images the reviewers remove, which no class claims either.
DOUBTED_GIVEN = 0.1


@dataclasses.dataclass(frozen=True)
class RankedLabel:
    path: str
    given: int
    suggested: int  # the most probable class out of sample
    score: float  # 1 - cleanlab's label quality: higher is more suspect
    flagged: bool  # cleanlab counts it among the label errors
    given_probability: float  # out of sample, of the given label
    suggested_probability: float  # out of sample, of `suggested`
    # Far from every class where the signal measures it, and its label
    # doubtful: the image looks like no class at all.
    no_class: bool = False
    # The least probability of `suggested` in any round: a relabel is
    # only as sure as the round that doubts it most.
    agreed_probability: float = 0.0
    # The most probability any round gives the given label.
    given_at_most: float = 1.0

    @property
    def doubted(self) -> bool:
        """Every round doubts the given label."""
        return self.given_at_most < DOUBTED_GIVEN


def rank_labels(
    paths: list[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    atypicality: np.ndarray | None = None,
    rounds: list[np.ndarray] | None = None,
) -> list[RankedLabel]:
    """Every image, most suspect first; with `atypicality` (one distance
    per image), an image beyond its far-out fence whose given label is
    not clear either (below NO_CLASS_MAX_GIVEN) is marked no_class, and
    flagged; so is an image whose given label every round doubts (below
    DOUBTED_GIVEN). `rounds`, the probabilities of each round that
    `probabilities` averages, give agreed_probability and given_at_most
    (default: the average's own)."""
    if len(paths) != len(labels) or len(labels) != len(probabilities):
        raise ValueError(
            f"{len(paths)} paths, {len(labels)} labels and"
            f" {len(probabilities)} rows of probabilities must agree."
        )
    if not len(paths):
        return []
    # cleanlab wants every class it is given a column for to be present.
    present = np.unique(labels)
    columns = probabilities[:, present]
    columns = columns / np.maximum(columns.sum(axis=1, keepdims=True), 1e-12)
    local = np.searchsorted(present, labels)
    quality = get_label_quality_scores(local, columns)
    flagged = find_label_issues(local, columns)
    suggested = probabilities.argmax(axis=1)
    rows = np.arange(len(labels))
    given = probabilities[rows, labels]
    no_class = np.zeros(len(labels), bool)
    if atypicality is not None:
        no_class = (atypicality > _far_out(atypicality)) & (
            given < NO_CLASS_MAX_GIVEN
        )
    each_round = rounds or [probabilities]
    agreed = np.min([p[rows, suggested] for p in each_round], axis=0)
    given_at_most = np.max([p[rows, labels] for p in each_round], axis=0)
    order = np.argsort(quality, kind="stable")
    return [
        RankedLabel(
            path=paths[i],
            given=int(labels[i]),
            suggested=int(suggested[i]),
            score=float(1.0 - quality[i]),
            flagged=bool(
                flagged[i] or no_class[i] or given_at_most[i] < DOUBTED_GIVEN
            ),
            given_probability=float(given[i]),
            suggested_probability=float(probabilities[i, suggested[i]]),
            no_class=bool(no_class[i]),
            agreed_probability=float(agreed[i]),
            given_at_most=float(given_at_most[i]),
        )
        for i in order
    ]


def _far_out(values: np.ndarray) -> float:
    low, high = np.percentile(values, [25, 75])
    return float(high + _FAR_OUT * (high - low))
