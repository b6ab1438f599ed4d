"""A detection dataset as the annotation readers give it to the ETL:
each image with its boxes, whatever the file format was."""

import dataclasses

from core.dataset.etl.dataset_layout import QuarantinedFile


@dataclasses.dataclass(frozen=True)
class Box:
    """One object: its class name and its corners, normalised to 0..1 of
    the image's width and height (the TF Object Detection API's units)."""

    class_name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float


@dataclasses.dataclass(frozen=True)
class AnnotatedImage:
    split: str
    path: str  # of the image, relative to the dataset root, "/" separators
    annotation_path: str  # the file its boxes came from, relative too
    # The size the annotation file states (VOC's <size>, COCO's width and
    # height), checked against the decoded image; None where the format
    # states none (YOLO).
    stated_size: tuple[int, int] | None  # (width, height)
    boxes: tuple[Box, ...]  # empty: a background image


@dataclasses.dataclass(frozen=True)
class DetectionScan:
    root: str
    splits: tuple[str, ...]  # the configured splits found in the dataset
    classes: tuple[str, ...]  # a box's label is an index into it
    images: tuple[AnnotatedImage, ...]
    # A bad box (its image is kept without it) or a bad file (left out).
    quarantined: tuple[QuarantinedFile, ...]
    warnings: tuple[str, ...]
