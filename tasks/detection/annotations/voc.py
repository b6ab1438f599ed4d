"""Pascal VOC: the image JPEGImages/<id>.jpg, its boxes in
Annotations/<id>.xml, and the ids of each split in
ImageSets/Main/<split>.txt.

VOC's pixel coordinates count from 1 and include both ends: a box from
xmin to xmax covers pixel columns xmin..xmax, whose edges are at xmin - 1
and xmax, so xmin = 1, xmax = width spans the whole image (the devkit's
convention, as in Detectron2's reader). Normalised, xmin' = (xmin - 1) /
width and xmax' = xmax / width.
"""

import os
import posixpath
import xml.etree.ElementTree as ElementTree

from tfx.dsl.io import fileio

from core.dataset.etl.dataset_layout import is_os_junk
from core.dataset.etl.image_decoding import FIX_REEXPORT
from tasks.detection.annotations.common import (
    CORNERS,
    FIX_FILE,
    Found,
    Problem,
    check_box,
    exists,
    is_folder,
    is_image_name,
    number,
    pixel_frame,
    read_bytes,
    read_text,
)
from tasks.detection.boxes import AnnotatedImage, Box

IMAGES = "JPEGImages"
ANNOTATIONS = "Annotations"
SPLIT_LISTS = "ImageSets/Main"
LAYOUT = (
    f"Pascal VOC ({ANNOTATIONS}/<id>.xml, {IMAGES}/<id>.jpg,"
    f" {SPLIT_LISTS}/<split>.txt)"
)
FIX_BNDBOX = (
    "give the <object> a <bndbox> with <xmin>, <ymin>, <xmax> and <ymax>"
    " in pixels, or delete it"
)


def is_voc(root: str) -> bool:
    return is_folder(root, IMAGES) and is_folder(root, ANNOTATIONS)


def read_voc(
    root: str, splits: tuple[str, ...], class_names: tuple[str, ...]
) -> Found:
    """The images of the ids each split's list names. The XML's
    <filename> is not read: the id is the key, as in the devkit, and
    <filename> often names the file before a rename."""
    found = Found()
    images = _files_by_id(root, IMAGES, found)
    annotations = {
        image_id: name
        for image_id, names in _files_by_id(root, ANNOTATIONS, found).items()
        for name in names
        if name.lower().endswith(".xml")
    }
    listed: set[str] = set()
    lists: list[str] = []
    for split in splits:
        split_list = f"{SPLIT_LISTS}/{split}.txt"
        if not exists(root, split_list):
            found.warnings.append(
                f"{split_list}: no such file; the split {split!r} is left out"
            )
            continue
        found.splits.append(split)
        lists.append(split_list)
        ids = sorted(set(read_text(root, split_list).split()))
        listed.update(ids)
        for image_id in ids:
            _read_id(
                root,
                split,
                split_list,
                image_id,
                images.get(image_id, []),
                annotations.get(image_id),
                class_names,
                found,
            )
    unlisted = len((set(images) | set(annotations)) - listed)
    if unlisted and lists:
        found.warnings.append(
            f"{IMAGES}/, {ANNOTATIONS}/: the files of {unlisted} ids listed"
            f" in none of {', '.join(lists)}; not converted: add the ids to"
            " a split list to use them"
        )
    found.classes = sorted(
        {box.class_name for image in found.images for box in image.boxes}
    )
    return found


def _files_by_id(root: str, folder: str, found: Found) -> dict[str, list[str]]:
    """The names in `root/folder`, by id (the name without extension);
    operating-system files skipped, with a warning."""
    by_id: dict[str, list[str]] = {}
    skipped: list[str] = []
    for entry in sorted(fileio.listdir(posixpath.join(root, folder))):
        name = os.fsdecode(entry).rstrip("/")
        if is_os_junk(name):
            skipped.append(f"{folder}/{name}")
        else:
            by_id.setdefault(posixpath.splitext(name)[0], []).append(name)
    if skipped:
        found.warnings.append(
            "skipped, as operating-system files and not data:"
            f" {', '.join(skipped)}"
        )
    return by_id


def _read_id(
    root: str,
    split: str,
    split_list: str,
    image_id: str,
    image_names: list[str],
    annotation_name: str | None,
    class_names: tuple[str, ...],
    found: Found,
) -> None:
    images = [f"{IMAGES}/{n}" for n in image_names if is_image_name(n)]
    annotation = (
        None if annotation_name is None else f"{ANNOTATIONS}/{annotation_name}"
    )
    if not images:
        if image_names:
            found.quarantine(
                f"{IMAGES}/{image_names[0]}",
                "not an image file name (expected .png, .jpg or .jpeg)",
                FIX_REEXPORT,
            )
        elif annotation:
            found.quarantine(
                annotation,
                f"no image {IMAGES}/{image_id}.jpg (or .jpeg, .png) for it",
                f"add the image, or delete the file and the id's line in"
                f" {split_list}",
            )
        else:
            found.quarantine(
                split_list,
                f"id {image_id}: neither {IMAGES}/{image_id}.jpg nor"
                f" {ANNOTATIONS}/{image_id}.xml exists",
                "add the image and its annotation file, or delete the line",
            )
        return
    for extra in images[1:]:
        found.quarantine(
            extra,
            f"a second image of id {image_id}, beside {images[0]}",
            "rename or delete one of them",
        )
    if not annotation:
        found.quarantine(
            images[0],
            f"no annotation file {ANNOTATIONS}/{image_id}.xml",
            f"if it is a background image, add {ANNOTATIONS}/{image_id}.xml"
            " without <object>; else annotate it",
        )
        return
    _read_annotation(root, split, images[0], annotation, class_names, found)


def _read_annotation(
    root: str,
    split: str,
    image: str,
    annotation: str,
    class_names: tuple[str, ...],
    found: Found,
) -> None:
    try:
        tree = ElementTree.fromstring(read_bytes(root, annotation))
    except ElementTree.ParseError as error:
        found.quarantine(annotation, f"malformed XML ({error})", FIX_FILE)
        return
    if tree.tag != "annotation":
        found.quarantine(
            annotation,
            f"not a Pascal VOC annotation: its root is <{tree.tag}>, not"
            " <annotation>",
            FIX_FILE,
        )
        return
    objects = tree.findall("object")
    size = _stated_size(tree)
    boxes: list[Box] = []
    if objects:
        if size is None:
            found.quarantine(
                annotation,
                "no <size> with whole, positive <width> and <height>, so"
                " its pixel boxes cannot be normalised",
                "add <size><width>W</width><height>H</height></size> with"
                " the image's size in pixels",
            )
            return
        boxes = _boxes(annotation, objects, size, class_names, found)
    found.images.append(
        AnnotatedImage(split, image, annotation, size, tuple(boxes))
    )


def _boxes(
    annotation: str,
    objects: list[ElementTree.Element],
    size: tuple[int, int],
    class_names: tuple[str, ...],
    found: Found,
) -> list[Box]:
    """The usable boxes of the <object>s; each other one is quarantined
    as "box N", the Nth <object> of the file."""
    boxes: list[Box] = []
    # <difficult> boxes are kept as any box: VOC's evaluation ignores
    # them, but Box has no such flag, and leaving them out would teach
    # the model that the object is background. <truncated> needs nothing.
    for index, element in enumerate(objects, 1):
        name = (element.findtext("name") or "").strip()
        result = _box(element, name, size, class_names)
        if isinstance(result, Box):
            boxes.append(result)
        else:
            label = f"box {index} ({name})" if name else f"box {index}"
            found.reject_box(annotation, label, result)
    return boxes


def _stated_size(tree: ElementTree.Element) -> tuple[int, int] | None:
    try:
        width = int(tree.findtext("size/width") or "")
        height = int(tree.findtext("size/height") or "")
    except ValueError:
        return None
    return (width, height) if width > 0 and height > 0 else None


def _box(
    element: ElementTree.Element,
    name: str,
    size: tuple[int, int],
    class_names: tuple[str, ...],
) -> Box | Problem:
    if not name:
        return Problem(
            "no <name>", "write the object's class in <name>, or delete it"
        )
    bndbox = element.find("bndbox")
    if bndbox is None:
        return Problem("no <bndbox>", FIX_BNDBOX)
    corners: list[float] = []
    for corner in CORNERS:
        text = bndbox.findtext(corner)
        if text is None:
            return Problem(f"<bndbox> has no <{corner}>", FIX_BNDBOX)
        try:
            corners.append(number(text))
        except ValueError:
            return Problem(
                f"<{corner}> is {text.strip()!r}, not a number",
                f"write <{corner}> in pixels",
            )
    xmin, ymin, xmax, ymax = corners
    return check_box(
        name, (xmin, ymin, xmax, ymax), pixel_frame(size, low=1), class_names
    )
