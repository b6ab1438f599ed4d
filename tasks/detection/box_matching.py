"""Precision, recall and F1 against the confidence threshold, and the
confusion matrix, of a detector's boxes: the figures and plots
ultralytics gives after `yolo val`.

Boxes are [ymin, xmin, ymax, xmax] in any units an image's ground truth
and detections share, as `ImageBoxes` (see mean_average_precision).

Precision and recall: detections match as COCO matches them, per image
and class, by descending score, each to the unmatched ground-truth box
of its class it overlaps most, if their IoU is at least `iou`. At a
confidence threshold, the detections that count are those scored at
least the threshold. The thresholds are 0, 0.01, ..., 1 and the figures
at each are exact; ultralytics interpolates between the detections'
scores on 1000 points instead. As in ultralytics: above a class's
highest score nothing is kept and precision is 1; a class never detected
has precision 0; a class without ground truth has no curves (its
detections show in the confusion matrix); "all classes" is the mean over
the classes with ground truth.

The confusion matrix follows ultralytics' ConfusionMatrix.process_batch:
rows are predicted classes and columns true ones, each with background
last, and boxes pair by IoU whatever their classes.
"""

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from tasks.detection.mean_average_precision import ImageBoxes

# Exact decimals: a detection scored 0.07 counts at threshold 0.07.
CONFIDENCE_THRESHOLDS = np.arange(101) / 100
# Every ClassCurves shares it.
CONFIDENCE_THRESHOLDS.flags.writeable = False
ALL_CLASSES = "all classes"
BACKGROUND = "background"


@dataclasses.dataclass(frozen=True, eq=False)
class ClassCurves:
    """One class's figures at each confidence threshold."""

    name: str
    images: int  # with a ground-truth box of the class
    instances: int  # ground-truth boxes of the class
    confidence: np.ndarray  # the thresholds, CONFIDENCE_THRESHOLDS
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class PrecisionRecallCurves:
    per_class: tuple[ClassCurves, ...]  # the classes with ground truth
    # Means over per_class (0 if it is empty); images and instances of
    # the whole set, images without boxes included.
    all_classes: ClassCurves


@dataclasses.dataclass(frozen=True)
class ClassScores:
    """A row of ultralytics' validation table, at one confidence."""

    name: str
    images: int
    instances: int
    precision: float
    recall: float
    f1: float


@dataclasses.dataclass(frozen=True)
class BestF1:
    confidence: float  # where the mean F1 over classes is highest
    per_class: tuple[ClassScores, ...]
    all_classes: ClassScores  # the means over per_class


@dataclasses.dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    labels: tuple[str, ...]  # the class names, then BACKGROUND
    # Boxes, [predicted, true]: the last row holds the missed ground
    # truth, the last column the detections of nothing.
    counts: np.ndarray


def box_iou(boxes: npt.ArrayLike, others: npt.ArrayLike) -> np.ndarray:
    """The IoU of each of `boxes` [n, 4] with each of `others` [m, 4], as
    [n, m]; 0 between two empty boxes."""
    a = np.asarray(boxes, np.float64).reshape(-1, 1, 4)
    b = np.asarray(others, np.float64).reshape(1, -1, 4)
    corner_min = np.maximum(a[..., :2], b[..., :2])
    corner_max = np.minimum(a[..., 2:], b[..., 2:])
    intersection = np.prod(np.clip(corner_max - corner_min, 0, None), -1)
    union = _area(a) + _area(b) - intersection
    return np.divide(
        intersection,
        union,
        out=np.zeros_like(intersection),
        where=union > 0,
    )


def precision_recall_curves(
    ground_truth: Sequence[ImageBoxes],
    detections: Sequence[ImageBoxes],
    class_names: Sequence[str],
    *,
    iou: float = 0.5,
) -> PrecisionRecallCurves:
    """Precision, recall and F1 at each of CONFIDENCE_THRESHOLDS, per
    class with ground truth and over all, of `detections` (with scores)
    against `ground_truth`, one entry per image in the same order each; a
    class index points into `class_names`."""
    _check(ground_truth, detections, iou)
    hit = _joined(
        _true_positives(truth, found, iou)
        for truth, found in zip(ground_truth, detections, strict=True)
    )
    score = _joined(_scores(found) for found in detections)
    found_class = _joined(_classes(found) for found in detections)
    true_classes = [_classes(truth) for truth in ground_truth]
    instances = np.bincount(_joined(true_classes), minlength=len(class_names))
    images = np.bincount(
        _joined(np.unique(c) for c in true_classes),
        minlength=len(class_names),
    )
    per_class = tuple(
        _class_curves(
            name,
            int(images[index]),
            int(instances[index]),
            score[found_class == index],
            hit[found_class == index],
        )
        for index, name in enumerate(class_names)
        if instances[index]
    )
    return PrecisionRecallCurves(
        per_class,
        _mean_curves(per_class, len(ground_truth), int(instances.sum())),
    )


def best_f1(curves: PrecisionRecallCurves) -> BestF1:
    """Each class's precision, recall and F1 at the confidence threshold
    where the mean F1 over classes is highest, as ultralytics' table
    reports them (it smooths the mean curve first; this does not). Of
    thresholds with the same mean F1, the highest: the same F1 from the
    fewest detections."""
    f1 = curves.all_classes.f1
    index = len(f1) - 1 - int(np.argmax(f1[::-1]))
    return BestF1(
        float(CONFIDENCE_THRESHOLDS[index]),
        tuple(_scores_at(c, index) for c in curves.per_class),
        _scores_at(curves.all_classes, index),
    )


def confusion_matrix(
    ground_truth: Sequence[ImageBoxes],
    detections: Sequence[ImageBoxes],
    class_names: Sequence[str],
    *,
    iou: float = 0.5,
    confidence: float,
) -> ConfusionMatrix:
    """Boxes by predicted and true class, of `detections` scored at least
    `confidence` against `ground_truth`, one entry per image in the same
    order each.

    In each image, detection and ground-truth boxes pair one to one,
    whatever their classes, highest IoU first, if it is at least `iou`;
    a pair counts at (predicted, true), an unpaired detection at
    (predicted, background) and an unpaired ground-truth box at
    (background, true). ultralytics pairs the same way, except that
    a detection whose best box goes to another stays unpaired there
    even if it overlaps a free one, that in an image where nothing
    pairs it does not count the detections, and that its thresholds
    are strict (its defaults: confidence above 0.25, IoU above 0.45).
    """
    _check(ground_truth, detections, iou)
    background = len(class_names)
    counts = np.zeros((background + 1, background + 1), int)
    for truth, found in zip(ground_truth, detections, strict=True):
        kept = _scores(found) >= confidence
        found_classes = _classes(found)[kept]
        true_classes = _classes(truth)
        paired_found, paired_true = _pairs_by_overlap(
            box_iou(_boxes(found)[kept], _boxes(truth)), iou
        )
        np.add.at(
            counts,
            (found_classes[paired_found], true_classes[paired_true]),
            1,
        )
        counts[:-1, background] += np.bincount(
            np.delete(found_classes, paired_found), minlength=background
        )
        counts[background, :-1] += np.bincount(
            np.delete(true_classes, paired_true), minlength=background
        )
    return ConfusionMatrix((*class_names, BACKGROUND), counts)


def _check(
    ground_truth: Sequence[ImageBoxes],
    detections: Sequence[ImageBoxes],
    iou: float,
) -> None:
    if len(ground_truth) != len(detections):
        raise ValueError(
            f"{len(ground_truth)} images of ground truth but"
            f" {len(detections)} of detections"
        )
    # At 0, any two boxes of a class would match, overlapping or not.
    if not 0 < iou <= 1:
        raise ValueError(f"an IoU threshold must be in (0, 1], not {iou}")


def _boxes(image: ImageBoxes) -> np.ndarray:
    return np.asarray(image.boxes, np.float64).reshape(-1, 4)


def _classes(image: ImageBoxes) -> np.ndarray:
    return np.asarray(image.classes, int).reshape(-1)


def _scores(image: ImageBoxes) -> np.ndarray:
    if image.scores is None:
        raise ValueError("detections need scores")
    return np.asarray(image.scores, np.float64).reshape(-1)


def _joined(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """The arrays end to end; empty, of no array."""
    return np.concatenate([np.zeros(0, int), *arrays])


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.prod(np.clip(boxes[..., 2:] - boxes[..., :2], 0, None), -1)


def _true_positives(
    truth: ImageBoxes, found: ImageBoxes, iou: float
) -> np.ndarray:
    """Whether each detection matches a ground-truth box, COCO's way:
    by descending score, each takes the free box of its class it
    overlaps most. A higher threshold keeps the best scored detections,
    whose matches stay the same, so matching once serves every one."""
    overlap = box_iou(_boxes(found), _boxes(truth))
    overlap[_classes(found)[:, None] != _classes(truth)[None, :]] = -1
    free = np.ones(overlap.shape[1], bool)
    hit = np.zeros(overlap.shape[0], bool)
    for detection in np.argsort(-_scores(found), kind="stable"):
        candidates = np.where(free, overlap[detection], -1)
        if candidates.size and candidates.max() >= iou:
            free[np.argmax(candidates)] = False
            hit[detection] = True
    return hit


def _pairs_by_overlap(
    overlap: np.ndarray, iou: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of `overlap` paired one to one, highest first, of
    the pairs at least `iou`."""
    rows, columns = np.nonzero(overlap >= iou)
    order = np.argsort(-overlap[rows, columns], kind="stable")
    partner = np.full(overlap.shape[0], -1)
    free_columns = np.ones(overlap.shape[1], bool)
    for row, column in zip(rows[order], columns[order], strict=True):
        if partner[row] < 0 and free_columns[column]:
            partner[row] = column
            free_columns[column] = False
    paired_rows = np.flatnonzero(partner >= 0)
    return paired_rows, partner[paired_rows]


def _class_curves(
    name: str,
    images: int,
    instances: int,
    scores: np.ndarray,
    hits: np.ndarray,
) -> ClassCurves:
    order = np.argsort(-scores, kind="stable")
    # Detections kept at each threshold: those scored at least it.
    kept = np.searchsorted(
        -scores[order], -CONFIDENCE_THRESHOLDS, side="right"
    )
    true_positives = np.concatenate([[0], np.cumsum(hits[order])])[kept]
    precision = np.divide(
        true_positives,
        kept,
        out=np.full(len(kept), 1.0 if len(scores) else 0.0),
        where=kept > 0,
    )
    recall = true_positives / instances
    return ClassCurves(
        name,
        images,
        instances,
        CONFIDENCE_THRESHOLDS,
        precision,
        recall,
        _f1(precision, recall),
    )


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    both = precision + recall
    return np.divide(
        2 * precision * recall, both, out=np.zeros_like(both), where=both > 0
    )


def _mean_curves(
    per_class: Sequence[ClassCurves], images: int, instances: int
) -> ClassCurves:
    def mean(field: str) -> np.ndarray:
        if not per_class:
            return np.zeros(len(CONFIDENCE_THRESHOLDS))
        return np.mean([getattr(c, field) for c in per_class], axis=0)

    return ClassCurves(
        ALL_CLASSES,
        images,
        instances,
        CONFIDENCE_THRESHOLDS,
        mean("precision"),
        mean("recall"),
        mean("f1"),
    )


def _scores_at(curves: ClassCurves, index: int) -> ClassScores:
    return ClassScores(
        curves.name,
        curves.images,
        curves.instances,
        float(curves.precision[index]),
        float(curves.recall[index]),
        float(curves.f1[index]),
    )
