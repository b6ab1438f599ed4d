"""Mean average precision as COCO measures it, through pycocotools.

Boxes are [ymin, xmin, ymax, xmax] per image, normalised to 0..1 or in
pixels: IoU does not change when an axis is scaled, so any units do, as
long as an image's ground truth and detections share them.

COCO's conventions, kept: average precision is the mean precision at
101 recall points, a detection matches a box of its class with IoU at
least the threshold, at most `max_detections` per image count (the best
scored), mAP50-95 averages IoU thresholds 0.50, 0.55, ..., 0.95, and the
mean is over the classes with at least one ground-truth box. A class
without ground truth has no AP (None): its detections are false
positives of nothing COCO counts. Images without boxes count: their
detections are false positives of their classes.
"""

import contextlib
import dataclasses
import io
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


@dataclasses.dataclass(frozen=True)
class ClassAveragePrecision:
    name: str
    boxes: int  # ground-truth boxes of the class
    ap50: float | None  # None: the class has no ground-truth box
    ap50_95: float | None


@dataclasses.dataclass(frozen=True)
class MeanAveragePrecision:
    map50: float | None  # None: no image has a ground-truth box
    map50_95: float | None
    per_class: tuple[ClassAveragePrecision, ...]
    # mAP50 of the boxes of each area range asked for, by its name.
    map50_by_size: Mapping[str, float | None] = dataclasses.field(
        default_factory=dict
    )


@dataclasses.dataclass(frozen=True)
class ImageBoxes:
    """One image's boxes [n, 4] and class indices [n]; for detections,
    their scores [n] too."""

    boxes: npt.ArrayLike
    classes: npt.ArrayLike
    scores: npt.ArrayLike | None = None


def mean_average_precision(
    ground_truth: Sequence[ImageBoxes],
    detections: Sequence[ImageBoxes],
    class_names: Sequence[str],
    *,
    max_detections: int = 100,
    area_ranges: Mapping[str, tuple[float, float]] | None = None,
) -> MeanAveragePrecision:
    """mAP50 and mAP50-95, overall and per class, of `detections` (with
    scores) against `ground_truth`, both one entry per image in the same
    order; a class index points into `class_names`. With `area_ranges`
    (name → smallest and largest area, in the boxes' units squared), also
    mAP50 over the boxes of each, as COCO's small, medium and large: a
    detection outside the range is left out unless it matches a box in
    it."""
    if len(ground_truth) != len(detections):
        raise ValueError(
            f"{len(ground_truth)} images of ground truth but"
            f" {len(detections)} of detections"
        )
    categories = [
        {"id": index + 1, "name": name}
        for index, name in enumerate(class_names)
    ]
    images = [{"id": index + 1} for index in range(len(ground_truth))]
    truth = _coco(images, categories, _annotations(ground_truth))
    found = _coco(images, categories, _annotations(detections))
    evaluation = COCOeval(truth, found, iouType="bbox")
    evaluation.params.maxDets = [max_detections]
    ranges = dict(area_ranges or {})
    evaluation.params.areaRng = [[0.0, np.inf], *map(list, ranges.values())]
    evaluation.params.areaRngLbl = ["all", *ranges]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation.evaluate()
        evaluation.accumulate()
    # [IoU thresholds, recall points, classes, area ranges, max dets],
    # -1 where a class has no ground truth.
    by_area = evaluation.eval["precision"][..., -1]
    precision = by_area[..., 0]
    counts = np.bincount(
        np.concatenate(
            [np.asarray(image.classes, int) for image in ground_truth]
            + [np.zeros(0, int)]
        ),
        minlength=len(class_names),
    )
    per_class = tuple(
        ClassAveragePrecision(
            name,
            int(counts[index]),
            _mean(precision[:1, :, index]),
            _mean(precision[:, :, index]),
        )
        for index, name in enumerate(class_names)
    )
    return MeanAveragePrecision(
        _mean(precision[:1]),
        _mean(precision),
        per_class,
        {
            name: _mean(by_area[:1, ..., index])
            for index, name in enumerate(ranges, start=1)
        },
    )


def _annotations(images: Sequence[ImageBoxes]) -> list[dict]:
    annotations: list[dict] = []
    for image_id, image in enumerate(images, start=1):
        boxes = np.asarray(image.boxes, np.float64).reshape(-1, 4)
        scores = (
            np.ones(len(boxes))
            if image.scores is None
            else np.asarray(image.scores, np.float64)
        )
        for (ymin, xmin, ymax, xmax), label, score in zip(
            boxes, np.asarray(image.classes, int), scores, strict=True
        ):
            width, height = xmax - xmin, ymax - ymin
            annotations.append(
                {
                    # pycocotools takes an id of 0 for "unmatched".
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label) + 1,
                    "bbox": [xmin, ymin, width, height],
                    "area": width * height,
                    "iscrowd": 0,
                    "score": float(score),
                }
            )
    return annotations


def _coco(
    images: list[dict], categories: list[dict], annotations: list[dict]
) -> COCO:
    # Built in place: COCO.loadRes fails on an empty list of detections.
    coco = COCO()
    coco.dataset = {
        "images": images,
        "categories": categories,
        "annotations": annotations,
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _mean(precision: np.ndarray) -> float | None:
    """COCO's average over the entries of classes with ground truth."""
    valid = precision[precision > -1]
    return float(valid.mean()) if valid.size else None
