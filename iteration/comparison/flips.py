"""Eval images one run's model gets right and the other's wrong: each
run's model predicts its own run's eval split, and the images are
matched by their bytes (sha256), so a relabelled or moved image is
still the same image."""

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class EvalPredictions:
    """One run's model on its own eval split, one entry per image."""

    paths: list[str]
    sha256: list[str]
    labels: list[str]  # the run's own labels
    predicted: list[str]
    confidence: np.ndarray  # the predicted label's probability

    @property
    def correct(self) -> np.ndarray:
        return np.array(self.labels) == np.array(self.predicted)


@dataclasses.dataclass(frozen=True)
class Flip:
    sha256: str
    path_a: str
    path_b: str
    label_a: str
    label_b: str
    predicted_a: str
    predicted_b: str
    confidence_a: float
    confidence_b: float


@dataclasses.dataclass(frozen=True)
class Flips:
    matched: int  # eval images in both runs
    right_a: int  # of the matched, right in A
    right_b: int
    only_a: int  # eval images of one run only
    only_b: int
    right_to_wrong: list[Flip]  # right in A, wrong in B; surest B first
    wrong_to_right: list[Flip]  # surest B first


def find_flips(a: EvalPredictions, b: EvalPredictions) -> Flips:
    """Compare A's and B's predictions on the eval images both have;
    copies of one image pair up in path order."""
    rows_a, rows_b = _rows_by_hash(a), _rows_by_hash(b)
    pairs = [
        (i, j)
        for sha256 in sorted(rows_a.keys() & rows_b.keys())
        for i, j in zip(rows_a[sha256], rows_b[sha256], strict=False)
    ]
    correct_a, correct_b = a.correct, b.correct
    flips = [
        _flip(a, b, i, j) for i, j in pairs if correct_a[i] != correct_b[j]
    ]
    return Flips(
        matched=len(pairs),
        right_a=sum(bool(correct_a[i]) for i, _ in pairs),
        right_b=sum(bool(correct_b[j]) for _, j in pairs),
        only_a=len(a.paths) - len(pairs),
        only_b=len(b.paths) - len(pairs),
        right_to_wrong=sorted(
            (f for f in flips if f.label_a == f.predicted_a),
            key=_surest_in_b_first,
        ),
        wrong_to_right=sorted(
            (f for f in flips if f.label_b == f.predicted_b),
            key=_surest_in_b_first,
        ),
    )


def predictions(
    paths: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    *,
    sha256_of: Mapping[str, str],
    class_names: Sequence[str],
) -> EvalPredictions:
    """A model's [n, classes] probabilities on the images at `paths`
    with class indices `labels`; `sha256_of` maps each path to its
    file's hash."""
    missing = [path for path in paths if path not in sha256_of]
    if missing:
        raise ValueError(
            f"{missing[0]} and {len(missing) - 1} other eval images have no"
            " sha256 in the run's examples: the Transform's output and the"
            " ExampleGen's examples are of different runs"
        )
    predicted = probabilities.argmax(axis=1)
    return EvalPredictions(
        paths=list(paths),
        sha256=[sha256_of[path] for path in paths],
        labels=[class_names[label] for label in labels],
        predicted=[class_names[index] for index in predicted],
        confidence=probabilities[np.arange(len(paths)), predicted],
    )


def _surest_in_b_first(flip: Flip) -> tuple[float, str]:
    return -flip.confidence_b, flip.path_b


def _rows_by_hash(run: EvalPredictions) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = defaultdict(list)
    for index in sorted(range(len(run.paths)), key=run.paths.__getitem__):
        rows[run.sha256[index]].append(index)
    return rows


def _flip(a: EvalPredictions, b: EvalPredictions, i: int, j: int) -> Flip:
    return Flip(
        sha256=a.sha256[i],
        path_a=a.paths[i],
        path_b=b.paths[j],
        label_a=a.labels[i],
        label_b=b.labels[j],
        predicted_a=a.predicted[i],
        predicted_b=b.predicted[j],
        confidence_a=float(a.confidence[i]),
        confidence_b=float(b.confidence[j]),
    )
