"""Confident learning (cleanlab) over out-of-sample probabilities: a
score per image and the images it judges mislabelled."""

import dataclasses

import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores


@dataclasses.dataclass(frozen=True)
class RankedLabel:
    path: str
    given: int
    suggested: int  # the most probable class out of sample
    score: float  # 1 - cleanlab's label quality: higher is more suspect
    flagged: bool  # cleanlab counts it among the label errors


def rank_labels(
    paths: list[str], labels: np.ndarray, probabilities: np.ndarray
) -> list[RankedLabel]:
    """Every image, most suspect first."""
    if len(paths) != len(labels) or len(labels) != len(probabilities):
        raise ValueError(
            f"{len(paths)} paths, {len(labels)} labels and"
            f" {len(probabilities)} rows of probabilities must agree."
        )
    quality = get_label_quality_scores(labels, probabilities)
    flagged = find_label_issues(labels, probabilities)
    suggested = probabilities.argmax(axis=1)
    order = np.argsort(quality, kind="stable")
    return [
        RankedLabel(
            path=paths[i],
            given=int(labels[i]),
            suggested=int(suggested[i]),
            score=float(1.0 - quality[i]),
            flagged=bool(flagged[i]),
        )
        for i in order
    ]
