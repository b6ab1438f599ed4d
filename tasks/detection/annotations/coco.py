"""COCO: one JSON file per split, each box's bbox [x, y, width, height]
in pixels from the image's top left corner: either
annotations/instances_<split>.json with the images under <split>/ or
images/<split>/, or Roboflow's <split>/_annotations.coco.json with the
images beside it. An image's file_name is relative to its folder."""

import dataclasses
import json
import math
import posixpath
from typing import Any

from tfx.dsl.io import fileio

from tasks.detection.annotations.common import (
    FIX_FILE,
    Found,
    Problem,
    check_box,
    exists,
    images_among,
    is_folder,
    is_inside,
    list_files,
    pixel_frame,
    read_text,
)
from tasks.detection.boxes import AnnotatedImage, Box

ROBOFLOW_JSON = "_annotations.coco.json"
LAYOUT = (
    "COCO (annotations/instances_<split>.json with <split>/ or"
    f" images/<split>/, or <split>/{ROBOFLOW_JSON})"
)


def is_coco(root: str) -> bool:
    return bool(
        fileio.glob(posixpath.join(root, "annotations", "instances_*.json"))
        or fileio.glob(posixpath.join(root, "*", ROBOFLOW_JSON))
    )


@dataclasses.dataclass(frozen=True)
class _Category:
    id: int
    name: str
    supercategory: str


@dataclasses.dataclass(frozen=True)
class _Image:
    path: str  # relative to the root
    size: tuple[int, int]


def read_coco(
    root: str, splits: tuple[str, ...], class_names: tuple[str, ...]
) -> Found:
    found = Found()
    categories: list[_Category] = []
    for split in splits:
        files = _split_files(root, split, found)
        if files is not None:
            found.splits.append(split)
            annotation, folder = files
            _read_split(
                root, split, annotation, folder, class_names, categories, found
            )
    if not class_names:
        found.classes = _classes(categories, found)
    return found


def _split_files(
    root: str, split: str, found: Found
) -> tuple[str, str] | None:
    """The split's JSON file and image folder, or None with a warning."""
    instances = f"annotations/instances_{split}.json"
    roboflow = f"{split}/{ROBOFLOW_JSON}"
    if exists(root, instances):
        for folder in (split, f"images/{split}"):
            if is_folder(root, folder):
                return instances, folder
        found.warnings.append(
            f"{instances}: no image folder {split}/ or images/{split}/; the"
            f" split {split!r} is left out"
        )
    elif exists(root, roboflow):
        return roboflow, split
    else:
        found.warnings.append(
            f"{split}: neither {instances} nor {roboflow}; the split is left"
            " out"
        )
    return None


def _read_split(
    root: str,
    split: str,
    annotation: str,
    folder: str,
    class_names: tuple[str, ...],
    categories: list[_Category],
    found: Found,
) -> None:
    try:
        data = json.loads(read_text(root, annotation))
    except json.JSONDecodeError as error:
        found.quarantine(annotation, f"malformed JSON ({error})", FIX_FILE)
        return
    problem = _structure_problem(data)
    if problem:
        found.quarantine(annotation, problem, FIX_FILE)
        return
    categories += [
        _Category(c["id"], c["name"], str(c.get("supercategory")))
        for c in data["categories"]
    ]
    files = list_files(root, folder)
    images = _images(
        annotation,
        folder,
        data["images"],
        set(files),
        set(images_among(files, found, lambda path: path == annotation)),
        found,
    )
    # The ids of all image entries: the annotations of one quarantined
    # are left out with it.
    known = {
        e["id"]
        for e in data["images"]
        if isinstance(e, dict) and _is_int(e.get("id"))
    }
    names = {c["id"]: c["name"] for c in data["categories"]}
    boxes = _boxes(
        annotation,
        data["annotations"],
        images,
        known,
        names,
        class_names,
        found,
    )
    for image_id, image in images.items():
        found.images.append(
            AnnotatedImage(
                split,
                image.path,
                annotation,
                image.size,
                tuple(boxes.get(image_id, [])),
            )
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _structure_problem(data: Any) -> str | None:
    """Why the file cannot be read as COCO at all, or None."""
    if not isinstance(data, dict):
        return "not a COCO file: not a JSON object"
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            return f"not a COCO file: no {key!r} list"
    for index, category in enumerate(data["categories"]):
        if not (
            isinstance(category, dict)
            and _is_int(category.get("id"))
            and isinstance(category.get("name"), str)
            and category["name"]
        ):
            return f"categories[{index}] has no whole id and name"
    return None


def _images(
    annotation: str,
    folder: str,
    entries: list[Any],
    files: set[str],
    image_files: set[str],
    found: Found,
) -> dict[int, _Image]:
    """The image entries whose image file is there, by id; the other
    entries, and the image files no entry names, quarantined (an entry
    whose file is no PNG or JPEG is, as that file)."""
    images: dict[int, _Image] = {}
    named: set[str] = set()
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and isinstance(entry.get("file_name"), str):
            named.add(_path(folder, entry["file_name"]))
        problem = _image_problem(entry, folder, files, images)
        if problem:
            found.quarantine(
                annotation, f"images[{index}]: {problem.reason}", problem.fix
            )
            continue
        path = _path(folder, entry["file_name"])
        if path in image_files:
            images[entry["id"]] = _Image(
                path, (entry["width"], entry["height"])
            )
    for path in sorted(image_files - named):
        found.quarantine(
            path,
            f"not in {annotation}",
            f"add it to the images of {annotation}, with no annotations if"
            " it is a background image, or delete it",
        )
    return images


def _path(folder: str, file_name: str) -> str:
    return posixpath.normpath(posixpath.join(folder, file_name))


def _image_problem(
    entry: Any, folder: str, files: set[str], images: dict[int, _Image]
) -> Problem | None:
    fix = "correct the entry: id, file_name, width and height in pixels"
    if not (
        isinstance(entry, dict)
        and _is_int(entry.get("id"))
        and isinstance(entry.get("file_name"), str)
        and all(
            _is_int(entry.get(key)) and entry[key] > 0
            for key in ("width", "height")
        )
    ):
        return Problem("no whole id, file_name, width and height", fix)
    if entry["id"] in images:
        return Problem(f"a second image with id {entry['id']}", fix)
    path = _path(folder, entry["file_name"])
    if not is_inside(path) or path not in files:
        return Problem(
            f"id {entry['id']}: no image file {path}",
            "add the image, or delete the entry and its annotations",
        )
    return None


def _boxes(
    annotation: str,
    entries: list[Any],
    images: dict[int, _Image],
    known: set[int],
    names: dict[int, str],
    class_names: tuple[str, ...],
    found: Found,
) -> dict[int, list[Box]]:
    """The usable boxes, by image id. Crowd regions (iscrowd 1) are left
    out, with a warning: a region around many objects is not one object's
    box."""
    boxes: dict[int, list[Box]] = {}
    crowds = 0
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get("iscrowd"):
            crowds += 1
            continue
        result = _box(entry, images, known, names, class_names)
        if isinstance(result, Box):
            boxes.setdefault(entry["image_id"], []).append(result)
        elif result:
            found.reject_box(annotation, _label(index, entry, names), result)
    if crowds:
        found.warnings.append(
            f"{annotation}: {crowds} crowd annotations (iscrowd 1) left out:"
            " a region around many objects is not one object's box"
        )
    return boxes


def _label(index: int, entry: Any, names: dict[int, str]) -> str:
    """An annotation as a message names it: by id, and its class."""
    if not isinstance(entry, dict):
        return f"annotations[{index}]"
    label = (
        f"annotation {entry['id']}"
        if _is_int(entry.get("id"))
        else f"annotations[{index}]"
    )
    category_id = entry.get("category_id")
    if _is_int(category_id) and category_id in names:
        label += f" ({names[category_id]})"
    return label


def _box(
    entry: Any,
    images: dict[int, _Image],
    known: set[int],
    names: dict[int, str],
    class_names: tuple[str, ...],
) -> Box | Problem | None:
    """The box, why it is unusable, or None where its image entry is."""
    if not isinstance(entry, dict):
        return Problem("not a JSON object", FIX_FILE)
    image_id = entry.get("image_id")
    if not (_is_int(image_id) and image_id in images):
        if _is_int(image_id) and image_id in known:
            return None
        return Problem(
            f"image id {image_id!r} is not in images",
            "delete the annotation, or add its image to images",
        )
    category_id = entry.get("category_id")
    if not (_is_int(category_id) and category_id in names):
        return Problem(
            f"category id {category_id!r} is not in categories",
            "relabel it with one of the category ids, or add the category",
        )
    bbox = entry.get("bbox")
    if not (
        isinstance(bbox, list)
        and len(bbox) == 4
        and all(map(_is_number, bbox))
    ):
        return Problem(
            f"bbox is {bbox!r}, not [x, y, width, height] in pixels",
            "write its bbox as [x, y, width, height] in pixels, or delete it",
        )
    x, y, width, height = bbox
    return check_box(
        names[category_id],
        (x, y, x + width, y + height),
        pixel_frame(images[image_id].size, low=0),
        class_names,
    )


def _classes(categories: list[_Category], found: Found) -> list[str]:
    """The category names by id; but for a category that is another's
    supercategory and has no boxes: a group, not a class (Roboflow's
    exports hold one, named after the dataset), left out with a warning.
    """
    with_boxes = {
        box.class_name for image in found.images for box in image.boxes
    }
    parents = {
        c.supercategory for c in categories if c.supercategory != c.name
    }
    groups = sorted(
        {c.name for c in categories if c.name in parents} - with_boxes
    )
    if groups:
        found.warnings.append(
            f"categories {', '.join(groups)}: left out of the classes, as"
            " each is the supercategory of others and has no boxes (a"
            " group, not a class)"
        )
    ordered = sorted(categories, key=lambda c: (c.id, c.name))
    return list(dict.fromkeys(c.name for c in ordered if c.name not in groups))
