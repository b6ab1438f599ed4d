"""The detector's validation report, as an ultralytics user expects it
after `yolo val`: per-class precision, recall, F1 and mAP, the PR and
F1-confidence curves, the confusion matrix, the train labels' spread and
mAP50 per slice of image properties, as one self-contained page of the
page kit (core/pages).

The Trainer's Keras network predicts the Transform's images, a batch at
a time so that a split's images are never all in memory; the detections
come from the serving signature's decoding (centernet.detect).
"""

import dataclasses
import math
import posixpath
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio

from core.findings.quality_artifacts import REPORT_FILE
from core.pages.render import render_page
from core.pages.table import Column, Table, number, table
from core.readers.example_tables import read_int_features
from core.tflite import input_image_shape
from models import centernet, features
from tasks.detection.box_matching import (
    BestF1,
    ClassScores,
    ConfusionMatrix,
    PrecisionRecallCurves,
    best_f1,
    confusion_matrix,
    precision_recall_curves,
)
from tasks.detection.detection_charts import (
    confusion_matrix_chart,
    f1_confidence_chart,
    label_distribution_charts,
    precision_recall_chart,
)
from tasks.detection.evaluation import (
    BOX_SIZES,
    MAP50,
    MAP50_95,
    SLICE_PROPERTIES,
)
from tasks.detection.label_distribution import (
    LabelDistribution,
    label_distribution,
)
from tasks.detection.mean_average_precision import ImageBoxes
from tasks.detection.measured_split import (
    detections,
    ground_truth,
    map_figures,
    targets,
    transformed_boxes,
)

TRAIN, EVAL, TEST = "train", "eval", "test"
# Test first: the loop never changes it, so it is the fixed yardstick.
MEASURED_SPLITS = (TEST, EVAL)
MATCHING_IOU = 0.5  # of P, R, F1 and the confusion matrix, as ultralytics
SECTIONS = (
    ("scores", "Scores per class"),
    ("curves", "Precision and recall curves"),
    ("confusion", "Confusion matrix"),
    ("labels", "Train labels"),
    ("sizes", "mAP50 by box size"),
    ("slices", "mAP50 per slice"),
)
INPUT_AREA = centernet.INPUT_HEIGHT * centernet.INPUT_WIDTH
_BATCH = 16


@dataclasses.dataclass(frozen=True)
class SliceScore:
    feature: str  # the image property, e.g. "brightness"
    bucket: int  # its quantile bucket, 0 the lowest
    map50: float
    images: int


@dataclasses.dataclass(frozen=True)
class SizeScore:
    size: str  # COCO's small, medium or large, scaled to the input
    boxes: int
    map50: float | None  # None: no box of the size


@dataclasses.dataclass(frozen=True, eq=False)
class SplitFigures:
    name: str
    images: int
    curves: PrecisionRecallCurves
    best: BestF1  # P, R and F1 at the confidence of best mean F1
    map50: float | None  # None: the split has no ground-truth box
    map50_95: float | None
    # Of the classes with ground truth in the split, by name.
    class_map50: Mapping[str, float]
    class_map50_95: Mapping[str, float]
    confusion: ConfusionMatrix  # at best.confidence
    slices: tuple[SliceScore, ...]  # worst first; none without buckets
    sizes: tuple[SizeScore, ...]  # small, medium, large


@dataclasses.dataclass(frozen=True, eq=False)
class DetectionFigures:
    class_names: tuple[str, ...]
    splits: tuple[SplitFigures, ...]  # in MEASURED_SPLITS' order
    labels: LabelDistribution | None  # of train's boxes; None without it


def write_report(
    model_dir: str,
    transformed_split_dirs: Mapping[str, str],
    output_dir: str,
    *,
    class_names: Sequence[str],
    title: str,
) -> str:
    """Measure the Keras model in `model_dir` on the eval and test splits
    of `transformed_split_dirs` (TFX split name → the Transform's
    transformed split folder) and write the page to output_dir's
    REPORT_FILE, whose path it returns."""
    model = tf.keras.models.load_model(model_dir, compile=False)
    page = render_report(
        gather_figures(model, transformed_split_dirs, class_names), title
    )
    path = posixpath.join(output_dir, REPORT_FILE)
    fileio.makedirs(output_dir)
    with fileio.open(path, "w") as file:
        file.write(page)
    return path


def gather_figures(
    model: tf.keras.Model,
    transformed_split_dirs: Mapping[str, str],
    class_names: Sequence[str],
) -> DetectionFigures:
    """The figures of `model` on test and eval, whichever are given, and
    the spread of train's boxes if given."""
    measured = [s for s in MEASURED_SPLITS if s in transformed_split_dirs]
    if not measured:
        raise ValueError(
            f"No {' or '.join(MEASURED_SPLITS)} split among"
            f" {sorted(transformed_split_dirs)}: the report measures the"
            " model on them."
        )
    _check_classes(model, class_names)
    splits = []
    for name in measured:
        split_dir = transformed_split_dirs[name]
        truth, found = predict_split(model, split_dir)
        splits.append(
            split_figures(
                name, truth, found, class_names, read_slices(split_dir)
            )
        )
    labels = None
    if TRAIN in transformed_split_dirs:
        labels = label_distribution(
            read_ground_truth(transformed_split_dirs[TRAIN]), class_names
        )
    return DetectionFigures(tuple(class_names), tuple(splits), labels)


def split_figures(
    name: str,
    truth: Sequence[ImageBoxes],
    found: Sequence[ImageBoxes],
    class_names: Sequence[str],
    slice_values: Mapping[str, np.ndarray],
) -> SplitFigures:
    """One split's figures from its ground truth and detections, one
    entry per image each, and each slice feature's value per image."""
    curves = precision_recall_curves(
        truth, found, class_names, iou=MATCHING_IOU
    )
    best = best_f1(curves)
    average_precision = map_figures(truth, found, class_names, slice_values)
    return SplitFigures(
        name=name,
        images=len(truth),
        curves=curves,
        best=best,
        map50=average_precision[MAP50],
        map50_95=average_precision[MAP50_95],
        class_map50=average_precision[f"per_class_{MAP50}"],
        class_map50_95=average_precision[f"per_class_{MAP50_95}"],
        confusion=confusion_matrix(
            truth,
            found,
            class_names,
            iou=MATCHING_IOU,
            confidence=best.confidence,
        ),
        slices=tuple(
            SliceScore(s["feature"], s["value"], s[MAP50], s["examples"])
            for s in average_precision["slices"]
        ),
        sizes=tuple(
            SizeScore(size, figures["boxes"], figures[MAP50])
            for size, figures in average_precision["by_box_size"].items()
        ),
    )


def predict_split(
    model: tf.keras.Model, split_dir: str
) -> tuple[list[ImageBoxes], list[ImageBoxes]]:
    """The ground truth and `model`'s detections of each image in
    `split_dir`, in the files' order."""
    shape = input_image_shape(model)
    image = tf.io.FixedLenFeature([math.prod(shape)], tf.float32)
    truth: list[ImageBoxes] = []
    found: list[ImageBoxes] = []
    for images, boxes, classes in _batches(split_dir, image):
        truth += ground_truth(targets(boxes, classes))
        found += detections(
            model.predict_on_batch(tf.reshape(images, [-1, *shape]))
        )
    return truth, found


def read_ground_truth(split_dir: str) -> list[ImageBoxes]:
    """The boxes of each image in `split_dir`."""
    # Parsed as a list of any length, for read_boxes, and then dropped.
    image = tf.io.VarLenFeature(tf.float32)
    return [
        found
        for _, boxes, classes in _batches(split_dir, image)
        for found in ground_truth(targets(boxes, classes))
    ]


def read_slices(split_dir: str) -> dict[str, np.ndarray]:
    """Each of SLICE_PROPERTIES' quantile bucket per image, in the files'
    order; none if the examples have no buckets (another Transform's)."""
    keys = {name: features.bucket_key(name) for name in SLICE_PROPERTIES}
    try:
        buckets = read_int_features([split_dir], list(keys.values()))
    except ValueError:
        return {}
    return {name: buckets[key] for name, key in keys.items()}


def _batches(
    split_dir: str, image: tf.io.FixedLenFeature | tf.io.VarLenFeature
) -> tf.data.Dataset:
    return transformed_boxes(split_dir, image).batch(_BATCH)


def _check_classes(model: tf.keras.Model, class_names: Sequence[str]) -> None:
    heatmaps = int(model.output_shape[-1]) - centernet.REGRESSION_CHANNELS
    if heatmaps != len(class_names):
        raise ValueError(
            f"The model has {heatmaps} class heatmaps but"
            f" {len(class_names)} class names are given."
        )


class _ClassRow(NamedTuple):
    scores: ClassScores
    map50: float | None
    map50_95: float | None


_SCORE_COLUMNS: list[Column[_ClassRow]] = [
    Column("class", "Class", lambda r: r.scores.name),
    number("images", "Images", lambda r: r.scores.images, ","),
    number("instances", "Instances", lambda r: r.scores.instances, ","),
    number("precision", "P", lambda r: r.scores.precision, ".3f"),
    number("recall", "R", lambda r: r.scores.recall, ".3f"),
    number("f1", "F1", lambda r: r.scores.f1, ".3f"),
    number("map50", MAP50, lambda r: r.map50, ".3f", missing="none"),
    number("map50-95", MAP50_95, lambda r: r.map50_95, ".3f", missing="none"),
]

_SLICE_COLUMNS: list[Column[SliceScore]] = [
    Column("property", "Image property", lambda s: s.feature),
    number("bucket", "Bucket", lambda s: s.bucket),
    number("images", "Images", lambda s: s.images, ","),
    number("map50", MAP50, lambda s: s.map50, ".3f"),
]


_SIZE_COLUMNS: list[Column[SizeScore]] = [
    Column("size", "Box size", lambda s: s.size),
    number("boxes", "Boxes", lambda s: s.boxes, ","),
    number("map50", MAP50, lambda s: s.map50, ".3f", missing="—"),
]


def render_report(figures: DetectionFigures, title: str) -> str:
    """The page of `figures`: tables of every measured split, charts of
    the first (test if measured)."""
    headline = figures.splits[0]
    curves = [
        precision_recall_chart(headline.curves),
        f1_confidence_chart(headline.curves),
    ]
    confusion = confusion_matrix_chart(headline.confusion)
    labels = (
        []
        if figures.labels is None
        else label_distribution_charts(figures.labels)
    )
    return render_page(
        "detection_report.html",
        title=title,
        nav=SECTIONS,
        charts=[*curves, confusion, *labels],
        curve_charts=[c.id for c in curves],
        confusion_chart=confusion.id,
        label_charts=[c.id for c in labels],
        iou=MATCHING_IOU,
        splits=figures.splits,
        headline=headline,
        scores={s.name: _scores_table(s) for s in figures.splits},
        unseen={
            s.name: _classes_without_boxes(s, figures.class_names)
            for s in figures.splits
        },
        slices={s.name: _slices_table(s) for s in figures.splits},
        sizes={
            s.name: table(f"{s.name}-sizes", _SIZE_COLUMNS, s.sizes)
            for s in figures.splits
        },
        size_limits=_size_limits(),
        labels=figures.labels,
    )


def _scores_table(split: SplitFigures) -> Table:
    """A row per class with ground truth; the footer, which the template
    shows first, over all classes."""
    rows = [
        _ClassRow(
            scores,
            split.class_map50.get(scores.name),
            split.class_map50_95.get(scores.name),
        )
        for scores in split.best.per_class
    ]
    overall = _ClassRow(split.best.all_classes, split.map50, split.map50_95)
    return table(f"{split.name}-scores", _SCORE_COLUMNS, rows, footer=overall)


def _size_limits() -> str:
    """BOX_SIZES' bounds in pixels of the detector's input."""
    small, medium = (
        math.sqrt(BOX_SIZES[size][1] * INPUT_AREA)
        for size in ("small", "medium")
    )
    return f"{small:.0f}² and {medium:.0f}²"


def _classes_without_boxes(
    split: SplitFigures, class_names: Sequence[str]
) -> list[str]:
    measured = {c.name for c in split.curves.per_class}
    return [name for name in class_names if name not in measured]


def _slices_table(split: SplitFigures) -> Table | None:
    if not split.slices:
        return None
    return table(
        f"{split.name}-slices",
        _SLICE_COLUMNS,
        split.slices,
        sorted_by=("map50", "ascending"),
    )
