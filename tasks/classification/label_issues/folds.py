"""The K-fold split every out-of-sample signal shares, robust to small
classes: K shrinks to the smallest class that can be judged, and a class
too small to judge is left out with a note instead of failing the run.

Images that must never be learnt from (a test split) are judged too, at
no extra training: they are dealt out over the folds' held-out parts and
kept out of every fold's fit part."""

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
    labels: np.ndarray,
    class_names: list[str],
    *,
    folds: int,
    seed: int,
    never_fit: np.ndarray | None = None,
) -> FoldPlan:
    """Stratified folds over the images of the classes with at least
    MIN_FOLDS images; K is `folds`, or fewer if a judged class is
    smaller. No folds (and nothing judged) if fewer than two classes
    can be judged. The images marked in `never_fit` (bool [n]) only
    count, and are only judged, as held out: each is in one fold's
    held-out part and in no fit part."""
    if folds < MIN_FOLDS:
        raise ValueError(
            f"quality.folds is {folds}; it must be at least {MIN_FOLDS}:"
            " raise it in params.yaml."
        )
    held_only = np.zeros(len(labels), bool) if never_fit is None else never_fit
    present, counts = np.unique(labels[~held_only], return_counts=True)
    small = present[counts < MIN_FOLDS]
    notes = [
        f"class {class_names[c]} has {counts[present == c][0]} image(s),"
        f" too few to judge its labels; add images of it"
        for c in small
    ]
    notes += [
        f"class {class_names[c]} is only in images never learnt from"
        " (test): their labels cannot be judged"
        for c in np.setdiff1d(labels[held_only], present)
    ]
    judged = np.isin(labels, present) & ~np.isin(labels, small)
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
    indices = np.flatnonzero(judged & ~held_only)
    splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
    dealt = np.array_split(
        np.random.default_rng(seed).permutation(
            np.flatnonzero(judged & held_only)
        ),
        k,
    )
    return FoldPlan(
        judged,
        [
            (indices[fit], np.sort(np.concatenate([indices[held_out], extra])))
            for (fit, held_out), extra in zip(
                splitter.split(indices, labels[indices]), dealt, strict=True
            )
        ],
        notes,
    )
