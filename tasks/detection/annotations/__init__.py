"""A detection dataset's annotations, in YOLO, Pascal VOC or COCO layout,
read into one DetectionScan, each bad box or file quarantined."""

from collections.abc import Callable

from tfx.dsl.io import fileio

from core.dataset.etl.dataset_layout import DatasetError
from tasks.detection.annotations import coco, voc, yolo
from tasks.detection.annotations.common import Found
from tasks.detection.boxes import DetectionScan

_Reader = Callable[[str, tuple[str, ...], tuple[str, ...]], Found]
# Each format: how to recognise it, its reader and its layout; in the
# order auto detection tries them.
FORMATS: dict[str, tuple[Callable[[str], bool], _Reader, str]] = {
    "yolo": (yolo.is_yolo, yolo.read_yolo, yolo.LAYOUT),
    "voc": (voc.is_voc, voc.read_voc, voc.LAYOUT),
    "coco": (coco.is_coco, coco.read_coco, coco.LAYOUT),
}
LAYOUTS = "; ".join(layout for _, _, layout in FORMATS.values())


def scan_detection_dataset(
    root: str,
    splits: tuple[str, ...],
    class_names: tuple[str, ...] = (),
    format: str = "auto",
) -> DetectionScan:
    """The images of the configured splits with their boxes, in the
    given format or the one found ("auto"), sorted by split (in the
    configured order), then path.

    `class_names`, if not empty, are the classes and their order, and a
    box of another class is quarantined; if empty, the format gives them:
    YOLO's data.yaml names by id, COCO's categories by id, VOC's names
    found, sorted. A configured split without data is named in a
    warning; a dataset without usable images is a DatasetError.
    """
    if not fileio.isdir(root):
        raise DatasetError(
            f"{root}: no such folder; point --data at a detection dataset,"
            f" laid out as {LAYOUTS}"
        )
    name, warnings = _format(root, format)
    found = FORMATS[name][1](root, splits, class_names)
    warnings += found.warnings
    images = sorted(
        found.images, key=lambda i: (splits.index(i.split), i.path)
    )
    quarantined = sorted(found.quarantined, key=lambda q: q.path)
    if not images:
        first = (
            f"; {len(quarantined)} quarantined, the first:"
            f" {quarantined[0].path}: {quarantined[0].reason} (fix:"
            f" {quarantined[0].fix})"
            if quarantined
            else ""
        )
        raise DatasetError(
            f"{root}: no usable images in the splits {', '.join(splits)}"
            f"{first}; expected {FORMATS[name][2]}"
        )
    classes = class_names or tuple(found.classes)
    present: list[str] = []
    for split in found.splits:
        in_split = [i for i in images if i.split == split]
        if not in_split:
            warnings.append(
                f"{split}: no usable images (see the quarantine); the split"
                " is left out"
            )
            continue
        present.append(split)
        boxed = {box.class_name for i in in_split for box in i.boxes}
        missing = [c for c in classes if c not in boxed]
        if missing:
            warnings.append(f"{split}: no boxes of class {', '.join(missing)}")
    return DetectionScan(
        root=root,
        splits=tuple(present),
        classes=classes,
        images=tuple(images),
        quarantined=tuple(quarantined),
        warnings=tuple(warnings),
    )


def _format(root: str, format: str) -> tuple[str, list[str]]:
    """The format to read and, if auto found several, a warning."""
    if format != "auto":
        if format not in FORMATS:
            raise DatasetError(
                f"format {format!r}: expected auto, {', '.join(FORMATS)}"
            )
        recognise, _, layout = FORMATS[format]
        if not recognise(root):
            raise DatasetError(
                f"{root}: not a {format} dataset; lay it out as {layout}"
            )
        return format, []
    found = [
        name for name, (recognise, _, _) in FORMATS.items() if recognise(root)
    ]
    if not found:
        raise DatasetError(
            f"{root}: no detection annotations found; lay the dataset out"
            f" as {LAYOUTS}"
        )
    warnings = []
    if len(found) > 1:
        warnings.append(
            f"{root}: annotations in the layouts {', '.join(found)}; read as"
            f" {found[0]}: choose the format to read another"
        )
    return found[0], warnings
