"""What the three annotation readers share: the checks every box passes,
the listing and reading of files, and what a reader found."""

import dataclasses
import math
import os
import posixpath
from collections.abc import Callable

from tfx.dsl.io import fileio

from core.dataset.etl.dataset_layout import QuarantinedFile, is_os_junk
from core.dataset.etl.image_decoding import (
    FIX_REEXPORT,
    SUPPORTED_EXTENSIONS,
)
from tasks.detection.boxes import AnnotatedImage, Box

# How far outside the image a corner may lie and still be taken, moved
# onto the border: one pixel where the file counts pixels, for writers of
# VOC that count from 0 (xmin = 0) and COCO edges rounded outwards; a
# thousandth where it is normalised (YOLO), the rounding of labels
# written with few decimals, under a pixel up to 1,000 pixels. A box any
# further out is quarantined, not clipped: the file and the image then
# disagree (a resized image, pixels written as YOLO numbers, a slipped
# drag) and a clipped box would be a guess taken as ground truth.
PIXEL_TOLERANCE = 1.0
NORMALISED_TOLERANCE = 0.001

CORNERS = ("xmin", "ymin", "xmax", "ymax")
FIX_BOX = "redraw the box around the object, or delete it"
FIX_FILE = "correct the file, or export it again from the annotation tool"


@dataclasses.dataclass(frozen=True)
class Frame:
    """Where a file's corners must lie: a min corner at `low` or more (1
    for VOC's 1-based pixels, else 0), a max corner at `width` or
    `height` or less, give or take `tolerance`."""

    width: float
    height: float
    low: float
    tolerance: float
    image: str  # the image as a message names it
    outside_fix: str  # what to do with a box outside the image


NORMALISED = Frame(
    1.0,
    1.0,
    0.0,
    NORMALISED_TOLERANCE,
    "the image (0..1)",
    "redraw the box inside the image: cx - w/2, cx + w/2, cy - h/2 and"
    " cy + h/2 within 0..1 (a label in pixels must be divided by the"
    " image's size)",
)


def pixel_frame(size: tuple[int, int], low: float) -> Frame:
    width, height = size
    return Frame(
        width,
        height,
        low,
        PIXEL_TOLERANCE,
        f"the {width}x{height} image",
        f"redraw the box inside the {width}x{height} image, or correct the"
        " size the file states if the image was resized",
    )


@dataclasses.dataclass(frozen=True)
class Problem:
    reason: str
    fix: str


def check_box(
    class_name: str,
    corners: tuple[float, float, float, float],
    frame: Frame,
    class_names: tuple[str, ...],
) -> Box | Problem:
    """The box, normalised, or why it cannot be used; `class_names`, if
    not empty, are the only classes allowed."""
    if class_names and class_name not in class_names:
        return Problem(
            f"class {class_name!r} is not one of the classes of params.yaml"
            f" ({', '.join(class_names)})",
            f"relabel the box with one of those classes, or add"
            f" {class_name!r} to them",
        )
    problem = _geometry_problem(corners, frame)
    if problem:
        return problem
    xmin, ymin, xmax, ymax = corners
    box = Box(
        class_name,
        _clip((xmin - frame.low) / frame.width),
        _clip((ymin - frame.low) / frame.height),
        _clip(xmax / frame.width),
        _clip(ymax / frame.height),
    )
    if box.xmin >= box.xmax or box.ymin >= box.ymax:
        return Problem("zero area inside the image, on its border", FIX_BOX)
    return box


def _geometry_problem(
    corners: tuple[float, float, float, float], frame: Frame
) -> Problem | None:
    xmin, ymin, xmax, ymax = corners
    for axis, low, high in (("x", xmin, xmax), ("y", ymin, ymax)):
        # Equal corners are a point as drawn (a click without a drag),
        # although VOC's inclusive pixels would read them as one pixel.
        if low == high:
            return Problem(
                f"zero area, {axis}min = {axis}max = {low:g}", FIX_BOX
            )
        if low > high:
            return Problem(f"{axis}min {low:g} > {axis}max {high:g}", FIX_BOX)
    limits = (
        ("xmin", xmin, "<", frame.low),
        ("ymin", ymin, "<", frame.low),
        ("xmax", xmax, ">", frame.width),
        ("ymax", ymax, ">", frame.height),
    )
    for name, value, sign, limit in limits:
        beyond = limit - value if sign == "<" else value - limit
        if beyond > frame.tolerance:
            return Problem(
                f"outside {frame.image}: {name} = {value:g} {sign} {limit:g}",
                frame.outside_fix,
            )
    return None


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def number(text: str) -> float:
    """`text` as a finite number, or ValueError (float() takes "nan")."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


@dataclasses.dataclass
class Found:
    """What one format's reader found, before the checks of all formats."""

    splits: list[str] = dataclasses.field(default_factory=list)
    classes: list[str] = dataclasses.field(default_factory=list)
    images: list[AnnotatedImage] = dataclasses.field(default_factory=list)
    quarantined: list[QuarantinedFile] = dataclasses.field(
        default_factory=list
    )
    warnings: list[str] = dataclasses.field(default_factory=list)

    def quarantine(self, path: str, reason: str, fix: str) -> None:
        self.quarantined.append(QuarantinedFile(path, reason, fix))

    def reject_box(self, path: str, box: str, problem: Problem) -> None:
        self.quarantine(path, f"{box}: {problem.reason}", problem.fix)


def read_bytes(root: str, path: str) -> bytes:
    with fileio.open(posixpath.join(root, path), "rb") as file:
        data: bytes = file.read()
    return data


def read_text(root: str, path: str) -> str:
    # Undecodable bytes become U+FFFD, which then fails the line's or
    # id's own check, naming the place.
    return read_bytes(root, path).decode("utf-8-sig", errors="replace")


def exists(root: str, path: str) -> bool:
    return bool(fileio.exists(posixpath.join(root, path)))


def is_folder(root: str, path: str) -> bool:
    return bool(fileio.isdir(posixpath.join(root, path)))


def is_inside(path: str) -> bool:
    """Whether a normalised relative path stays inside the root."""
    return not (
        posixpath.isabs(path) or path == ".." or path.startswith("../")
    )


def list_files(root: str, folder: str) -> list[str]:
    """The files under `root/folder`, at any depth, sorted, relative to
    `root`. Each folder is listed once, so a link loop ends (fileio.walk
    would follow it forever)."""
    files: list[str] = []
    seen: set[str] = set()
    pending = [folder]
    while pending:
        path = pending.pop()
        directory = posixpath.join(root, path)
        if "://" not in root:  # object stores have no links
            real = os.path.realpath(directory)
            if real in seen:
                continue
            seen.add(real)
        for entry in fileio.listdir(directory):
            name = posixpath.join(path, os.fsdecode(entry).rstrip("/"))
            if fileio.isdir(posixpath.join(root, name)):
                pending.append(name)
            else:
                files.append(name)
    return sorted(files)


def is_image_name(path: str) -> bool:
    return path.lower().endswith(SUPPORTED_EXTENSIONS)


def images_among(
    files: list[str], found: Found, is_other_data: Callable[[str], bool]
) -> list[str]:
    """The image files of an image folder's `files`; the others are
    quarantined, but for operating-system files (skipped, with a warning)
    and what `is_other_data` accepts (a format's own files)."""
    images: list[str] = []
    skipped: list[str] = []
    for path in files:
        if is_os_junk(posixpath.basename(path)):
            skipped.append(path)
        elif is_image_name(path):
            images.append(path)
        elif not is_other_data(path):
            found.quarantine(
                path,
                "not an image file name (expected .png, .jpg or .jpeg)",
                FIX_REEXPORT,
            )
    if skipped:
        found.warnings.append(
            "skipped, as operating-system files and not data:"
            f" {', '.join(skipped)}"
        )
    return images
