"""The detector measured beside the Evaluator: the TFLite export's figures
on eval and TestAccuracy's on test, Keras and int8 alike, by
pycocotools' mAP (mean_average_precision.py).

The TFLite models return the network's head maps; the detections come
from the same TF decoding the serving signature runs (centernet.detect).
"""

import dataclasses
import math
import os
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio

from core.readers.example_tables import (
    images_digest,
    read_file_images,
    read_int_features,
)
from core.tflite import input_image_shape, predict_tflite
from models import centernet, features
from tasks.detection.box_matching import (
    ALL_CLASSES,
    BestF1,
    best_f1,
    precision_recall_curves,
)
from tasks.detection.evaluation import BOX_SIZES, MAP50, MAP50_95
from tasks.detection.mean_average_precision import (
    ImageBoxes,
    MeanAveragePrecision,
    mean_average_precision,
)
from tasks.detection.preprocessing import BOX_FEATURES
from tasks.detection.trainer import read_boxes

_DECODE_BATCH = 16


@dataclasses.dataclass(frozen=True)
class ExportMetrics:
    """The TFLite export's figures on eval; the names end with the
    task's headline (mAP50), as the run summary reads them."""

    float32_bytes: int
    int8_bytes: int
    eval_examples: int
    keras_mAP50: float | None
    float32_mAP50: float | None
    int8_mAP50: float | None
    keras_mAP50_95: float | None
    int8_mAP50_95: float | None


def read_split(
    split_dir: str, input_shape: tuple[int, ...], *, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Images [n, *input_shape] float32 and their boxes [n, MAX_BOXES, 5]
    (ymin, xmin, ymax, xmax, class; padded with class -1) from the
    transformed TFRecords in `split_dir`, the first `limit` if given."""
    dataset = transformed_boxes(
        split_dir,
        tf.io.FixedLenFeature([math.prod(input_shape)], tf.float32),
    )
    if limit is not None:
        dataset = dataset.take(limit)
    images, found = [], []
    for image, boxes, classes in dataset.batch(64):
        images.append(image.numpy().reshape(-1, *input_shape))
        found.append(targets(boxes, classes))
    if not images:
        raise ValueError(f"{split_dir} holds no examples.")
    return np.concatenate(images), np.concatenate(found)


def transformed_boxes(
    split_dir: str, image: tf.io.FixedLenFeature | tf.io.VarLenFeature
) -> tf.data.Dataset:
    """(image, boxes, classes) of each transformed example in `split_dir`,
    as the Trainer reads them, the image parsed as `image`."""
    pattern = posixpath.join(split_dir, "*.gz")
    files = sorted(os.fsdecode(path) for path in fileio.glob(pattern))
    if not files:
        raise ValueError(
            f"No gzip'd TFRecord files match {pattern}. Point the component"
            " at the Transform's transformed_examples, written as TFRecords."
        )
    spec: dict[str, Any] = {
        features.TRANSFORMED_IMAGE: image,
        **{
            key: tf.io.VarLenFeature(
                tf.int64 if key == features.OBJECT_LABEL else tf.float32
            )
            for key in BOX_FEATURES
        },
    }
    return read_boxes(files, spec)


def targets(boxes: tf.Tensor, classes: tf.Tensor) -> np.ndarray:
    """A batch of read_boxes' boxes and classes as [n, MAX_BOXES, 5]
    (ymin, xmin, ymax, xmax, class)."""
    return np.concatenate(
        [boxes.numpy(), classes.numpy()[..., None].astype(np.float32)], -1
    )


def measure_tflite(
    keras_model: tf.keras.Model,
    float32_model: bytes,
    int8_model: bytes,
    images: np.ndarray,
    targets: np.ndarray,
) -> ExportMetrics:
    """mAP of the Keras network and of the two TFLite models on `images`,
    whose boxes are `targets` (read_split); class names do not change
    the mean."""
    truth = ground_truth(targets)
    names = [str(c) for c in range(_num_classes(keras_model))]
    keras = mean_average_precision(
        truth, detections(keras_model.predict(images, verbose=0)), names
    )
    float32 = mean_average_precision(
        truth, detections(predict_tflite(float32_model, images)), names
    )
    int8 = mean_average_precision(
        truth, detections(predict_tflite(int8_model, images)), names
    )
    return ExportMetrics(
        float32_bytes=len(float32_model),
        int8_bytes=len(int8_model),
        eval_examples=len(images),
        keras_mAP50=keras.map50,
        float32_mAP50=float32.map50,
        int8_mAP50=int8.map50,
        keras_mAP50_95=keras.map50_95,
        int8_mAP50_95=int8.map50_95,
    )


def measure_split(
    keras_model_dir: str,
    int8_model_file: str,
    raw_dir: str,
    transformed_dir: str,
    *,
    class_names: Sequence[str],
    slice_features: Sequence[str],
) -> dict[str, Any]:
    """mAP50 and mAP50-95 of the Keras SavedModel in `keras_model_dir`
    and of the int8 TFLite model in `int8_model_file` on the transformed
    images in `transformed_dir`: overall, per class and per value of each
    of the Transform's `slice_features`; `raw_dir`, the same split's ETL
    examples, names the images measured (`images_sha256`)."""
    keras_model = tf.keras.models.load_model(keras_model_dir, compile=False)
    images, targets = read_split(
        transformed_dir, input_image_shape(keras_model)
    )
    slices = read_int_features([transformed_dir], list(slice_features))
    paths, hashes, _ = read_file_images([raw_dir])
    with fileio.open(int8_model_file, "rb") as file:
        int8_model = file.read()
    truth = ground_truth(targets)
    figures = {
        name: map_figures(truth, found, class_names, slices)
        for name, found in (
            ("keras", detections(keras_model.predict(images, verbose=0))),
            ("int8", detections(predict_tflite(int8_model, images))),
        )
    }
    return {
        "examples": len(images),
        "images_sha256": images_digest(paths, hashes),
        **figures,
    }


def map_figures(
    truth: Sequence[ImageBoxes],
    found: Sequence[ImageBoxes],
    class_names: Sequence[str],
    slice_values: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    """mAP50 and mAP50-95 overall and per class (classes with boxes), and
    mAP50 per value of each slice feature (feature → one value per
    image), worst slice first."""
    overall = mean_average_precision(
        truth, found, class_names, area_ranges=BOX_SIZES
    )
    best = best_f1(precision_recall_curves(truth, found, class_names))
    slices = []
    for feature, values in slice_values.items():
        for value in np.unique(values):
            chosen = np.flatnonzero(values == value)
            result = mean_average_precision(
                [truth[i] for i in chosen],
                [found[i] for i in chosen],
                class_names,
            )
            if result.map50 is not None:  # some box in the slice
                slices.append(
                    {
                        "feature": feature,
                        "value": int(value),
                        MAP50: result.map50,
                        "examples": len(chosen),
                    }
                )
    return {
        MAP50: overall.map50,
        MAP50_95: overall.map50_95,
        **_per_class(overall),
        "best_f1_confidence": best.confidence,
        "by_box_size": {
            size: {MAP50: overall.map50_by_size[size], "boxes": boxes}
            for size, boxes in boxes_by_size(truth).items()
        },
        "table": _class_table(best, overall),
        "slices": sorted(slices, key=lambda s: s[MAP50]),
    }


def boxes_by_size(truth: Sequence[ImageBoxes]) -> dict[str, int]:
    """The boxes of each of BOX_SIZES' area ranges, as COCO counts them
    (both ends in)."""
    areas = np.concatenate(
        [np.zeros(0)]
        + [
            np.prod(
                np.diff(np.reshape(image.boxes, (-1, 2, 2)), axis=1), -1
            ).reshape(-1)
            for image in truth
        ]
    )
    return {
        size: int(np.sum((areas >= low) & (areas <= high)))
        for size, (low, high) in BOX_SIZES.items()
    }


def ground_truth(targets: np.ndarray) -> list[ImageBoxes]:
    """Each image's boxes of read_split's `targets`, padding left out."""
    kept = [row[row[:, 4] >= 0] for row in targets]
    return [ImageBoxes(row[:, :4], row[:, 4].astype(int)) for row in kept]


def detections(outputs: np.ndarray) -> list[ImageBoxes]:
    """Each image's detections in the network's head maps [n, ...]."""
    found = []
    for start in range(0, len(outputs), _DECODE_BATCH):
        decoded = centernet.detect(outputs[start : start + _DECODE_BATCH])
        boxes, classes, scores, counts = (t.numpy() for t in decoded)
        found += [
            ImageBoxes(boxes[i, :n], classes[i, :n], scores[i, :n])
            for i, n in enumerate(counts)
        ]
    return found


def _per_class(result: MeanAveragePrecision) -> dict[str, dict[str, Any]]:
    """The figures of the classes with boxes (the others have no AP)."""
    with_boxes = [c for c in result.per_class if c.boxes]
    return {
        f"per_class_{MAP50}": {c.name: c.ap50 for c in with_boxes},
        f"per_class_{MAP50_95}": {c.name: c.ap50_95 for c in with_boxes},
        "per_class_boxes": {c.name: c.boxes for c in with_boxes},
    }


def _class_table(best: BestF1, result: MeanAveragePrecision) -> dict[str, Any]:
    """Ultralytics' validation table: per class (all classes first), its
    images and boxes, P, R and F1 at the best-F1 confidence, mAP50 and
    mAP50-95."""
    maps = {
        ALL_CLASSES: (result.map50, result.map50_95),
        **{c.name: (c.ap50, c.ap50_95) for c in result.per_class},
    }
    rows = [
        [
            scores.name,
            scores.images,
            scores.instances,
            scores.precision,
            scores.recall,
            scores.f1,
            *maps[scores.name],
        ]
        for scores in (best.all_classes, *best.per_class)
    ]
    return {
        "title": f"at confidence {best.confidence:.2f}, the best mean F1",
        "columns": [
            "class",
            "images",
            "instances",
            "P",
            "R",
            "F1",
            MAP50,
            MAP50_95,
        ],
        "rows": rows,
    }


def _num_classes(keras_model: tf.keras.Model) -> int:
    return int(keras_model.output_shape[-1]) - centernet.REGRESSION_CHANNELS
