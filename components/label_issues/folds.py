"""The K-fold split every out-of-sample signal shares, robust to small
classes: K shrinks to the smallest class that can be judged, and a class
too small to judge is left out with a note instead of failing the run."""

import dataclasses

import numpy as np
from sklearn.model_selection import StratifiedKFold

# A class needs images in at least two folds: one to learn it from, one
# to be judged.
MIN_FOLDS = 2


@dataclasses.dataclass(frozen=True)
class FoldPlan:
    judged: np.ndarray  # bool [n]: the image's class can be judged
    # (fit, held-out) indices into all n images, judged images only.
    folds: list[tuple[np.ndarray, np.ndarray]]
    notes: list[str]  # what was left out or reduced, in words


def plan_folds(
    labels: np.ndarray, class_names: list[str], *, folds: int, seed: int
) -> FoldPlan:
    """Stratified folds over the images of the classes with at least
    MIN_FOLDS images; K is `folds`, or fewer if a judged class is
    smaller. No folds (and nothing judged) if fewer than two classes
    can be judged."""
    if folds < MIN_FOLDS:
        raise ValueError(
            f"quality.folds is {folds}; it must be at least {MIN_FOLDS}:"
            " raise it in params.yaml."
        )
    present, counts = np.unique(labels, return_counts=True)
    small = present[counts < MIN_FOLDS]
    notes = [
        f"class {class_names[c]} has {counts[present == c][0]} image(s),"
        f" too few to judge its labels; add images of it"
        for c in small
    ]
    judged = ~np.isin(labels, small)
    judged_counts = counts[counts >= MIN_FOLDS]
    if len(judged_counts) < 2:
        notes.append(
            "fewer than two classes have enough images: no label was judged"
        )
        return FoldPlan(np.zeros(len(labels), bool), [], notes)
    k = min(folds, int(judged_counts.min()))
    if k < folds:
        notes.append(
            f"{k} folds instead of quality.folds={folds}: the smallest"
            f" judged class has {judged_counts.min()} images"
        )
    indices = np.flatnonzero(judged)
    splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
    return FoldPlan(
        judged,
        [
            (indices[fit], indices[held_out])
            for fit, held_out in splitter.split(indices, labels[indices])
        ],
        notes,
    )
