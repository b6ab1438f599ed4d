"""YOLO, as ultralytics lays it out: data.yaml names the classes and each
split's image folders; an image's label file holds one `class cx cy w h`
line per box, normalised to 0..1, and is empty for a background image."""

import posixpath
from typing import Any

import yaml

from core.dataset.etl.dataset_layout import DatasetError
from tasks.detection.annotations.common import (
    NORMALISED,
    Found,
    check_box,
    exists,
    images_among,
    is_folder,
    is_inside,
    list_files,
    number,
    read_text,
)
from tasks.detection.boxes import AnnotatedImage, Box

DATA_YAML = "data.yaml"
LAYOUT = f"YOLO ({DATA_YAML} with names, images/<split>/ and labels/<split>/)"
FIX_LINE = (
    "write each line as `class cx cy w h`: a class id of data.yaml's names,"
    " then the box's centre and size as numbers from 0 to 1"
)
# LabelImg writes the class names beside the labels: not a label file.
CLASSES_TXT = "classes.txt"


def is_yolo(root: str) -> bool:
    return exists(root, DATA_YAML)


def label_path(image: str) -> str:
    """ultralytics' rule: the last images/ folder of the path becomes
    labels/, and the extension .txt (beside the image if there is none)."""
    path = "/labels/".join(f"/{image}".rsplit("/images/", 1))
    return posixpath.splitext(path)[0][1:] + ".txt"


def read_yolo(
    root: str, splits: tuple[str, ...], class_names: tuple[str, ...]
) -> Found:
    found = Found()
    config = _data_yaml(root)
    names = _names(root, config)
    base = _base(root, config, found)
    for split in splits:
        folders = _split_folders(root, base, config, split, found)
        if folders:
            found.splits.append(split)
        for folder in folders:
            _read_folder(root, split, folder, names, class_names, found)
    found.classes = list(dict.fromkeys(names[i] for i in sorted(names)))
    return found


def _data_yaml(root: str) -> dict[Any, Any]:
    path = posixpath.join(root, DATA_YAML)
    try:
        config = yaml.safe_load(read_text(root, DATA_YAML))
    except yaml.YAMLError as error:
        raise DatasetError(
            f"{path}: malformed YAML ({error}); correct the file"
        ) from None
    if not isinstance(config, dict):
        raise DatasetError(
            f"{path}: not a mapping of keys (names, train, val, ...); write"
            " it as ultralytics' data.yaml"
        )
    return config


def _names(root: str, config: dict[Any, Any]) -> dict[int, str]:
    """data.yaml's names, a list or {id: name}, as {id: name}."""
    names = config.get("names")
    if isinstance(names, list):
        names = dict(enumerate(names))
    if (
        not isinstance(names, dict)
        or not names
        or not all(
            isinstance(key, int) and key >= 0 and _is_scalar(name)
            for key, name in names.items()
        )
    ):
        raise DatasetError(
            f"{posixpath.join(root, DATA_YAML)}: no class names, as a list"
            " or by whole ids from 0; write names: [name of id 0, name of"
            " id 1, ...] or names: {0: name, 1: name, ...}"
        )
    # ultralytics takes any scalar as a name, e.g. a number.
    return {key: str(name) for key, name in names.items()}


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and str(value) != ""


def _base(root: str, config: dict[Any, Any], found: Found) -> str:
    """The folder data.yaml's `path` names, relative to the root, if it
    is one inside the root; else the root, where data.yaml is (ultralytics
    reads a relative `path` from its own datasets folder, so a `path`
    often names where the dataset was)."""
    path = config.get("path")
    if path is None or str(path) in ("", "."):
        return ""
    folder = posixpath.normpath(str(path))
    if is_inside(folder) and is_folder(root, folder):
        return folder
    found.warnings.append(
        f"{DATA_YAML}: path {path!r} is not a folder inside {root}; the"
        f" split folders are read from {root}"
    )
    return ""


def _split_folders(
    root: str, base: str, config: dict[Any, Any], split: str, found: Found
) -> list[str]:
    """The image folders data.yaml gives the split (a folder or a list),
    images/<split> if none; each one missing is named in a warning."""
    value = config.get(split)
    source = (
        f"{DATA_YAML}'s {split!r}"
        if value
        else f"the default, as {DATA_YAML} names none"
    )
    entries = (
        value if isinstance(value, list) else [value or f"images/{split}"]
    )
    folders: list[str] = []
    missing: list[str] = []
    for entry in map(str, entries):
        folder = _folder(root, base, entry)
        if folder is None:
            missing.append(entry)
        else:
            folders.append(folder)
    if missing:
        found.warnings.append(
            f"{split}: no image folder {', '.join(missing)} inside {root}"
            f" ({source}); "
            + ("those are left out" if folders else "the split is left out")
        )
    return folders


def _folder(root: str, base: str, entry: str) -> str | None:
    candidates = [posixpath.normpath(posixpath.join(base, entry))]
    # Roboflow writes ../train/images for a data.yaml one folder down;
    # ultralytics, too, tries the path without the ../.
    if entry.startswith("../"):
        candidates.append(posixpath.normpath(posixpath.join(base, entry[3:])))
    for folder in candidates:
        if is_inside(folder) and is_folder(root, folder):
            return "" if folder == "." else folder
    return None


def _read_folder(
    root: str,
    split: str,
    folder: str,
    names: dict[int, str],
    class_names: tuple[str, ...],
    found: Found,
) -> None:
    # Where the rule puts the labels of the images right in `folder`.
    label_folder = posixpath.dirname(label_path(f"{folder}/_.jpg"))
    beside = label_folder == folder
    images = images_among(
        list_files(root, folder),
        found,
        is_other_data=lambda path: beside and path.endswith(".txt"),
    )
    labels = (
        set(list_files(root, label_folder))
        if is_folder(root, label_folder)
        else set()
    )
    used: set[str] = set()
    for image in images:
        label = label_path(image)
        used.add(label)
        if label in labels or exists(root, label):
            _read_label(root, split, image, label, names, class_names, found)
        else:
            found.quarantine(
                image,
                f"no label file {label}",
                f"if it is a background image, add an empty {label}; else"
                " annotate it",
            )
    for label in sorted(labels - used):
        if label.endswith(".txt") and posixpath.basename(label) != CLASSES_TXT:
            found.quarantine(
                label,
                f"a label file without its image in {folder}/",
                "add the image (.png, .jpg or .jpeg), or delete the label"
                " file",
            )


def _read_label(
    root: str,
    split: str,
    image: str,
    label: str,
    names: dict[int, str],
    class_names: tuple[str, ...],
    found: Found,
) -> None:
    """The image with the boxes of its label file; a malformed line
    quarantines the file, and the image, as ultralytics leaves it out."""
    rows: list[tuple[int, int, list[float]]] = []
    for index, line in enumerate(read_text(root, label).splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            class_id, values = _parse_line(fields)
        except ValueError as error:
            found.quarantine(label, f"line {index}: {error}", FIX_LINE)
            return
        rows.append((index, class_id, values))
    boxes: list[Box] = []
    for index, class_id, (cx, cy, w, h) in rows:
        name = names.get(class_id)
        if name is None:
            found.quarantine(
                label,
                f"line {index}: class id {class_id} is not in {DATA_YAML}'s"
                f" names (ids {', '.join(map(str, sorted(names)))})",
                f"relabel the box with one of those ids, or add the class"
                f" to {DATA_YAML}'s names",
            )
            continue
        corners = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        result = check_box(name, corners, NORMALISED, class_names)
        if isinstance(result, Box):
            boxes.append(result)
        else:
            found.reject_box(label, f"line {index} ({name})", result)
    found.images.append(
        AnnotatedImage(split, image, label, None, tuple(boxes))
    )


def _parse_line(fields: list[str]) -> tuple[int, list[float]]:
    if len(fields) != 5:
        raise ValueError(f"{len(fields)} fields, expected 5 (class cx cy w h)")
    values: list[float] = []
    for field in fields:
        try:
            values.append(number(field))
        except ValueError:
            raise ValueError(f"{field!r} is not a number") from None
    if not values[0].is_integer():
        raise ValueError(f"class id {fields[0]!r} is not a whole number")
    return int(values[0]), values[1:]
