"""How a detection set's ground truth is spread: boxes per class, where
their centres lie and how big they are, as ultralytics' labels.jpg
shows it."""

import dataclasses
from collections.abc import Sequence

import numpy as np

from tasks.detection.mean_average_precision import ImageBoxes

BINS = 20  # per axis of each histogram, over 0..1


@dataclasses.dataclass(frozen=True, eq=False)
class LabelDistribution:
    class_names: tuple[str, ...]
    instances: tuple[int, ...]  # ground-truth boxes per class
    edges: np.ndarray  # of the bins of every histogram axis, 0..1
    # Box counts [y bin, x bin] of the centres, rows from the image's top.
    centres: np.ndarray
    # Box counts [height bin, width bin], as shares of the image's.
    sizes: np.ndarray


def label_distribution(
    ground_truth: Sequence[ImageBoxes],
    class_names: Sequence[str],
    *,
    bins: int = BINS,
) -> LabelDistribution:
    """The spread of `ground_truth`'s boxes, [ymin, xmin, ymax, xmax]
    normalised to 0..1 of the image; a class index points into
    `class_names`."""
    boxes = np.concatenate(
        [
            np.zeros((0, 4)),
            *(
                np.asarray(i.boxes, np.float64).reshape(-1, 4)
                for i in ground_truth
            ),
        ]
    )
    classes = np.concatenate(
        [
            np.zeros(0, int),
            *(np.asarray(i.classes, int).reshape(-1) for i in ground_truth),
        ]
    )
    instances = np.bincount(classes, minlength=len(class_names))
    # Clipped so that a corner a rounding error off the image still counts.
    boxes = np.clip(boxes, 0.0, 1.0)
    edges = np.arange(bins + 1) / bins
    return LabelDistribution(
        tuple(class_names),
        tuple(instances.tolist()),
        edges,
        _histogram((boxes[:, :2] + boxes[:, 2:]) / 2, edges),
        _histogram(boxes[:, 2:] - boxes[:, :2], edges),
    )


def _histogram(points: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts [first coordinate's bin, second's] of points [n, 2]; a
    point on an edge goes to the bin above it, 1 to the last."""
    counts, _, _ = np.histogram2d(points[:, 0], points[:, 1], [edges, edges])
    return counts.astype(int)
