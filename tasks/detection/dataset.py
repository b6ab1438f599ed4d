"""A detection dataset for the shared ETL: the annotation readers' scan
as a DatasetLayout, and each image's boxes as the TF Object Detection
API's example keys."""

import dataclasses
from collections import Counter
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from core.dataset.etl.dataset_layout import DatasetLayout, SourceImage
from core.dataset.etl.image_decoding import BadImageError
from core.dataset.etl.image_records import ImageRecord
from models import features
from tasks.detection.annotations import scan_detection_dataset
from tasks.detection.boxes import AnnotatedImage


@dataclasses.dataclass(frozen=True)
class LabelledBoxes:
    """A SourceImage's annotation: its boxes, each class as an index."""

    image: AnnotatedImage
    labels: tuple[int, ...]  # one per box, into the layout's classes


def scan_dataset(
    root: str, splits: tuple[str, ...], labels: Mapping[str, str] = {}
) -> DatasetLayout:
    """The images of a YOLO, Pascal VOC or COCO dataset with their boxes.
    `labels` maps a class to a super-category, e.g. {"car": "vehicle"}:
    the box is learnt as the super-category and keeps its file as it is.
    """
    scan = scan_detection_dataset(root, splits)
    warnings = list(scan.warnings)
    for name in sorted(set(labels) - set(scan.classes)):
        warnings.append(
            f"labels: {name!r} → {labels[name]!r} maps no class of the"
            " annotations; check the name in params.yaml"
        )
    # The readers' order (the format's class ids), super-categories where
    # their first member was.
    classes = tuple(dict.fromkeys(labels.get(c, c) for c in scan.classes))
    index = {
        name: classes.index(labels.get(name, name)) for name in scan.classes
    }
    images = tuple(
        SourceImage(
            split=image.split,
            label_name="",  # no class of its own: its boxes have classes
            path=image.path,
            annotation=LabelledBoxes(
                dataclasses.replace(
                    image,
                    boxes=tuple(
                        dataclasses.replace(
                            box,
                            class_name=labels.get(
                                box.class_name, box.class_name
                            ),
                        )
                        for box in image.boxes
                    ),
                ),
                tuple(index[box.class_name] for box in image.boxes),
            ),
            annotation_file=image.annotation_path,
        )
        for image in scan.images
    )
    return DatasetLayout(
        root=scan.root,
        splits=scan.splits,
        classes=classes,
        images=images,
        quarantined=scan.quarantined,
        warnings=tuple(warnings),
    )


def instances(source: SourceImage) -> Mapping[str, int]:
    """Boxes per class."""
    annotated: LabelledBoxes = source.annotation
    return Counter(box.class_name for box in annotated.image.boxes)


def annotation_features(record: ImageRecord) -> dict[str, tf.train.Feature]:
    """The boxes as the TF Object Detection API's keys, with the image's
    box count and sizes; BadImageError where the annotation file states
    another size than the image has (its boxes would be misplaced)."""
    annotated: LabelledBoxes = record.annotation
    stated = annotated.image.stated_size
    if stated is not None and stated != (record.width, record.height):
        raise BadImageError(
            f"{annotated.image.annotation_path} gives the image's size as"
            f" {stated[0]}x{stated[1]}, but it is"
            f" {record.width}x{record.height}",
            fix="correct the size in the annotation file, or re-export"
            " the boxes from the image as it is",
        )
    boxes = annotated.image.boxes
    areas = [(b.xmax - b.xmin) * (b.ymax - b.ymin) for b in boxes]

    def floats(values: list[float]) -> tf.train.Feature:
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    return {
        features.BBOX_XMIN: floats([b.xmin for b in boxes]),
        features.BBOX_YMIN: floats([b.ymin for b in boxes]),
        features.BBOX_XMAX: floats([b.xmax for b in boxes]),
        features.BBOX_YMAX: floats([b.ymax for b in boxes]),
        features.OBJECT_LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=list(annotated.labels))
        ),
        features.OBJECT_TEXT: tf.train.Feature(
            bytes_list=tf.train.BytesList(
                value=[b.class_name.encode() for b in boxes]
            )
        ),
        features.BOX_COUNT: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[len(boxes)])
        ),
        features.BOX_AREA_MEAN: floats([float(np.mean(areas or [0.0]))]),
        features.BOX_AREA_MIN: floats([min(areas, default=0.0)]),
    }
