"""`dcp predict` for detection: the serving signature's detections of an
image as one prediction per box, its corners in the image's pixels; the
int8 model's head maps decoded by the same code serving runs."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from models import centernet
from tasks.detection.boxes import AnnotatedImage
from tasks.detection.dataset import LabelledBoxes
from tasks.detection.trainer import (
    DETECTION_CLASS,
    DETECTION_CORNERS,
    DETECTION_SCORE,
    NUM_DETECTIONS,
)

CORNER_COLUMNS = ("xmin", "ymin", "xmax", "ymax")
COLUMNS = ("class", "confidence", *CORNER_COLUMNS)
# Serving keeps every box down to a score of 0.001, as mAP's curves need;
# a reader wants the likely ones: ultralytics' predict keeps 0.25 and up.
MIN_CONFIDENCE = 0.25
_DECODE_BATCH = 16


def unannotated(path: str) -> LabelledBoxes:
    """An image without boxes: its example holds the box keys, empty, and
    the box statistics (a count of 0) that serving parses."""
    return LabelledBoxes(AnnotatedImage("", path, "", None, ()), ())


def decode_tflite(outputs: np.ndarray) -> dict[str, np.ndarray]:
    """The detections in head maps [n, ...], by centernet.detect, as the
    serving signature returns them."""
    found = [
        centernet.detect(outputs[start : start + _DECODE_BATCH])
        for start in range(0, len(outputs), _DECODE_BATCH)
    ]

    def joined(field: str) -> np.ndarray:
        return np.concatenate([getattr(part, field).numpy() for part in found])

    ymin, xmin, ymax, xmax = np.moveaxis(joined("boxes"), -1, 0)
    return {
        **dict(zip(DETECTION_CORNERS, (xmin, ymin, xmax, ymax), strict=True)),
        DETECTION_CLASS: joined("classes"),
        DETECTION_SCORE: joined("scores"),
        NUM_DETECTIONS: joined("num_detections"),
    }


def read_predictions(
    outputs: Mapping[str, np.ndarray],
    class_names: Sequence[str],
    image_size: tuple[int, int],
) -> list[dict[str, Any]]:
    """One image's detections from MIN_CONFIDENCE up, best first: class,
    confidence and corners in pixels of the (width, height) image,
    within it, with the class's index (`class_id`) to colour it by."""
    count = int(outputs[NUM_DETECTIONS])
    scores = outputs[DETECTION_SCORE][:count]
    classes = outputs[DETECTION_CLASS][:count].astype(int)
    kept = np.flatnonzero(scores >= MIN_CONFIDENCE)
    _check_classes(classes[kept], class_names)
    corners = np.stack([outputs[k][:count] for k in DETECTION_CORNERS], -1)
    pixels = np.round(
        np.clip(corners, 0.0, 1.0) * np.tile(image_size, 2)
    ).astype(int)
    return [
        {
            "class": class_names[classes[i]],
            "class_id": int(classes[i]),
            "confidence": float(scores[i]),
            **dict(zip(CORNER_COLUMNS, pixels[i].tolist(), strict=True)),
        }
        for i in kept
    ]


def _check_classes(classes: np.ndarray, class_names: Sequence[str]) -> None:
    if len(classes) and classes.max() >= len(class_names):
        raise ValueError(
            f"the model finds class {classes.max()}, but the run's"
            f" classes.json names {len(class_names)}: the model was trained"
            " on another dataset; pass the --name (or --run, --data-root)"
            " of the run that trained it"
        )
