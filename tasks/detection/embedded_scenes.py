"""Write the embedded object-detection dataset: generated scenes in the
ultralytics YOLO layout, with seeded annotation defects in train and
their answer key.

A scene is a crop of one of scikit-learn's two sample photos with some
of its hand-written digit scans pasted on, upscaled and coloured: the
digits are the objects, and each one's ink, its alpha mask, gives its
tight box. Nothing is downloaded."""

import dataclasses
import io
import json
import logging
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageFilter, ImageOps, ImageStat
from sklearn.datasets import load_digits, load_sample_images

from core.dataset.embedded.digits import DEFECTS_FILE, OUTPUT_KIND
from core.dataset.staged_output import staged_directory

CLASSES = ("zero", "one", "seven")
_DIGITS = (0, 1, 7)  # the digit scans of each class
# Of the boxes, as in a COCO person/motorcycle subset: one class common.
CLASS_SHARES = (0.7, 0.2, 0.1)
SPLITS = ("train", "val", "test")
WIDTH, HEIGHT = 320, 240
MAX_OBJECTS = 8
MIN_SIZE, MAX_SIZE = 16, 80  # of an object's height, in pixels
# Of the digit scans of each class, per split, so that val and test
# show hand-writing that train does not.
_SCAN_SHARES = {"train": 0.6, "val": 0.2, "test": 0.2}
# A box may overlap another by this much of the smaller one's area, so
# no object hides another.
_MAX_OVERLAP = 0.3
_PLACEMENT_TRIES = 50
_DIGITS_MAX = 16.0  # the scans hold 17 gray levels, 0..16
# Upscaled ink below this level is left out, and the rest strengthened,
# so that every pixel of the mask, its box's edges too, shows.
_INK_FROM = 0.25
_INK_GAIN = 1.6
_COLOUR_CANDIDATES = 16

MISSING = "missing_boxes"
SWAPPED = "swapped_classes"
SHIFTED = "shifted_boxes"
LOOSENED = "loosened_boxes"
SPURIOUS = "spurious_boxes"
LEAKED = "leaked_duplicates"
TRAIN_DUPLICATES = "train_duplicates"
BLANK = "blank_images"
DEFECT_KINDS = (
    MISSING,
    SWAPPED,
    SHIFTED,
    LOOSENED,
    SPURIOUS,
    LEAKED,
    TRAIN_DUPLICATES,
    BLANK,
)
# How far a shifted box moves and a loosened box's sides move out, as
# shares of its width and height: either way its IoU with the true box
# stays below 0.5, a miss at mAP@0.5.
_SHIFT = (0.3, 0.5)
_LOOSEN = (0.25, 0.4)


@dataclasses.dataclass(frozen=True)
class SceneDefects:
    """What write_scenes plants in train (val and test stay clean); the
    fractions are of train's boxes."""

    missing_fraction: float = 0.05  # objects drawn without their box
    swapped_fraction: float = 0.05  # boxes given another class
    moved_fraction: float = 0.05  # boxes shifted or loosened, in turn
    spurious_fraction: float = 0.05  # boxes where there is no object
    leaked_duplicates: int = 4  # val and test images copied into train
    train_duplicates: int = 2  # train images copied within train
    blank_images: int = 3  # one colour; every other one with a box


DEFAULT_DEFECTS = SceneDefects()


@dataclasses.dataclass(frozen=True)
class SceneSummary:
    images: dict[str, int]  # per split, copies and blank images included
    boxes: dict[str, dict[str, int]]  # written, per split and class
    defects: dict[str, int]  # per kind of the answer key

    def describe(self) -> str:
        lines = [
            f"{split}: {self.images[split]} images, "
            + ", ".join(f"{n} {name}" for name, n in boxes.items())
            for split, boxes in self.boxes.items()
        ]
        defects = ", ".join(f"{n} {kind}" for kind, n in self.defects.items())
        return "\n".join([*lines, f"defects in train: {defects}"])


class Rect(NamedTuple):
    """A box in pixels; x1 and y1 are exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclasses.dataclass(frozen=True, eq=False)
class SceneObject:
    label: int  # an index into CLASSES
    box: Rect  # the tight box of the ink
    alpha: np.ndarray  # the box's size; 0 off the ink, else at least 0.4


@dataclasses.dataclass(frozen=True, eq=False)
class Scene:
    pixels: np.ndarray  # HEIGHT x WIDTH x 3, uint8
    background: np.ndarray  # the pixels before the objects were pasted
    objects: tuple[SceneObject, ...]  # in the order they were pasted


@dataclasses.dataclass(frozen=True)
class _Sources:
    photos: tuple[Image.Image, ...]
    scans: dict[str, tuple[np.ndarray, ...]]  # per split, n x 8 x 8 a class


class _Label(NamedTuple):
    label: int
    box: Rect


def write_scenes(
    output: Path,
    *,
    seed: int,
    train_images: int = 300,
    val_images: int = 60,
    test_images: int = 60,
    class_shares: Sequence[float] = CLASS_SHARES,
    background_fraction: float = 0.1,
    defects: SceneDefects = DEFAULT_DEFECTS,
) -> SceneSummary:
    """Write the dataset into `output` (replacing an earlier one written
    by `dcp prepare`) with its answer key, `defects.json`, and return
    its figures. `class_shares` are the classes' shares of the boxes;
    `background_fraction` of each split's scenes have no object.

    Raises OutputFolderError (a ValueError) if `output` holds anything
    else, so a user's own folder is never overwritten.
    """
    _check(class_shares, defects)
    scenes_seed, defects_seed, names_seed = np.random.SeedSequence(seed).spawn(
        3
    )
    sizes = dict(
        zip(SPLITS, (train_images, val_images, test_images), strict=True)
    )
    scenes = draw_scenes(
        sizes,
        class_shares,
        background_fraction,
        np.random.default_rng(scenes_seed),
    )
    with staged_directory(str(output), kind=OUTPUT_KIND) as staging:
        writer = _SceneWriter(
            Path(staging),
            np.random.default_rng(defects_seed),
            np.random.default_rng(names_seed),
        )
        key = writer.write(scenes, defects, seed)
        (Path(staging) / "data.yaml").write_text(_data_yaml())
        (Path(staging) / DEFECTS_FILE).write_text(
            json.dumps(key, indent=2) + "\n"
        )
    summary = writer.summary(key)
    logging.info("prepare: detection scenes\n%s", summary.describe())
    return summary


def _check(class_shares: Sequence[float], defects: SceneDefects) -> None:
    if len(class_shares) != len(CLASSES) or not math.isclose(
        sum(class_shares), 1.0
    ):
        raise ValueError(
            f"class_shares: {list(class_shares)} must be {len(CLASSES)}"
            f" shares, of {', '.join(CLASSES)}, that add up to 1"
        )
    edited = (
        defects.missing_fraction
        + defects.swapped_fraction
        + defects.moved_fraction
    )
    if edited > 1.0:
        raise ValueError(
            "defects: the missing, swapped and moved fractions add up to"
            f" {edited:g}, more than all of train's boxes"
        )


def _data_yaml() -> str:
    names = ", ".join(CLASSES)
    return (
        "path: .\n"
        + "".join(f"{split}: images/{split}\n" for split in SPLITS)
        + f"names: [{names}]\n"
    )


def draw_scenes(
    sizes: dict[str, int],
    class_shares: Sequence[float],
    background_fraction: float,
    rng: np.random.Generator,
) -> dict[str, list[Scene]]:
    """`sizes[split]` scenes per split; `background_fraction` of them,
    rounded, have no object, the others 1 to MAX_OBJECTS."""
    sources = _load_sources(rng)
    scenes: dict[str, list[Scene]] = {}
    for split, size in sizes.items():
        empty = set(
            rng.choice(size, round(size * background_fraction), replace=False)
        )
        scenes[split] = [
            draw_scene(
                sources.photos,
                sources.scans[split],
                0 if n in empty else int(rng.integers(1, MAX_OBJECTS + 1)),
                class_shares,
                rng,
            )
            for n in range(size)
        ]
    return scenes


def _load_sources(rng: np.random.Generator) -> _Sources:
    digits = load_digits()
    scans: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    for digit in _DIGITS:
        indices = rng.permutation(np.flatnonzero(digits.target == digit))
        start = 0
        for split in SPLITS:
            end = start + round(len(indices) * _SCAN_SHARES[split])
            scans[split].append(digits.images[indices[start:end]])
            start = end
    return _Sources(
        tuple(Image.fromarray(p) for p in load_sample_images().images),
        {split: tuple(by_class) for split, by_class in scans.items()},
    )


def draw_scene(
    photos: Sequence[Image.Image],
    scans: Sequence[np.ndarray],
    n_objects: int,
    class_shares: Sequence[float],
    rng: np.random.Generator,
) -> Scene:
    """A background cut from `photos` with up to `n_objects` digits of
    `scans` (n x 8 x 8 per class) pasted on; fewer where no place is
    left that overlaps the others little enough."""
    background = draw_background(photos, rng)
    canvas = background.astype(np.float32)
    objects: list[SceneObject] = []
    for _ in range(n_objects):
        label = int(rng.choice(len(class_shares), p=class_shares))
        pool = scans[label]
        alpha = digit_alpha(pool[rng.integers(len(pool))], _size(rng))
        box = _place(
            alpha.shape[1], alpha.shape[0], [o.box for o in objects], rng
        )
        if box is None:
            continue
        _paste(canvas, alpha, box, rng)
        objects.append(SceneObject(label, box, alpha))
    pixels = np.round(canvas).astype(np.uint8)
    return Scene(pixels, background, tuple(objects))


def draw_background(
    photos: Sequence[Image.Image], rng: np.random.Generator
) -> np.ndarray:
    """A random 4:3 crop of one photo at WIDTH x HEIGHT, maybe mirrored
    and blurred, its contrast lowered and its colour and brightness
    changed, so that the digits stand out of it."""
    photo = photos[rng.integers(len(photos))]
    width = int(rng.integers(200, 561))
    height = width * HEIGHT // WIDTH
    left = int(rng.integers(0, photo.width - width + 1))
    top = int(rng.integers(0, photo.height - height + 1))
    image = photo.resize(
        (WIDTH, HEIGHT),
        Image.Resampling.BILINEAR,
        box=(left, top, left + width, top + height),
    )
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.5)))
    # Contrast, colour and brightness: one affine map per channel,
    # applied as a lookup table.
    mean = np.array(ImageStat.Stat(image).mean)[:, None]
    contrast = rng.uniform(0.5, 0.9)
    gain = rng.uniform(0.85, 1.15, size=3) * rng.uniform(0.7, 1.2)
    levels = (mean + contrast * (np.arange(256) - mean)) * gain[:, None]
    table = np.clip(np.round(levels), 0, 255).astype(int)
    return np.asarray(image.point(table.ravel().tolist()))


def _size(rng: np.random.Generator) -> int:
    """An object's height, log-uniform: small objects are common."""
    return round(math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE))))


def digit_alpha(scan: np.ndarray, height: int) -> np.ndarray:
    """An 8x8 scan's ink upscaled to `height` rows, as an alpha mask of
    0 and 0.4..1 cropped to its ink."""
    inked = _crop_to_ink(scan)
    width = max(1, round(height * inked.shape[1] / inked.shape[0]))
    image = Image.fromarray(inked.astype(np.float32) / _DIGITS_MAX).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    level = np.asarray(image)
    alpha = np.where(
        level >= _INK_FROM, np.minimum(level * _INK_GAIN, 1.0), 0.0
    )
    return _crop_to_ink(alpha.astype(np.float32))


def _crop_to_ink(values: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(values.any(axis=1))
    columns = np.flatnonzero(values.any(axis=0))
    return values[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _place(
    width: int,
    height: int,
    taken: Sequence[Rect],
    rng: np.random.Generator,
    max_overlap: float = _MAX_OVERLAP,
) -> Rect | None:
    """A random place for a box of this size inside the image that
    overlaps each of `taken` by at most `max_overlap` of the smaller
    box's area; None if _PLACEMENT_TRIES found none."""
    area = width * height
    for _ in range(_PLACEMENT_TRIES):
        x0 = int(rng.integers(0, WIDTH - width + 1))
        y0 = int(rng.integers(0, HEIGHT - height + 1))
        box = Rect(x0, y0, x0 + width, y0 + height)
        if all(
            _intersection(box, other)
            <= max_overlap * min(area, other.width * other.height)
            for other in taken
        ):
            return box
    return None


def _intersection(a: Rect, b: Rect) -> int:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0) * max(height, 0)


def _paste(
    canvas: np.ndarray,
    alpha: np.ndarray,
    box: Rect,
    rng: np.random.Generator,
) -> None:
    region = canvas[box.y0 : box.y1, box.x0 : box.x1]
    colour = _contrasting_colour(region[alpha > 0], rng)
    weight = alpha[..., None]
    region[...] = weight * colour + (1.0 - weight) * region


def _contrasting_colour(
    under: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Of random colours, the one farthest from the closest of the
    pixels it will cover (n x 3), so that the ink shows everywhere."""
    candidates = rng.integers(0, 256, size=(_COLOUR_CANDIDATES, 3))
    distance = np.abs(candidates[:, None, :] - under[None]).sum(axis=2)
    return candidates[distance.min(axis=1).argmax()].astype(np.float32)


class _SceneWriter:
    """Writes the scenes with the defects, drawn with its own random
    generator so that the scenes do not change with the defects."""

    def __init__(
        self,
        root: Path,
        rng: np.random.Generator,
        names_rng: np.random.Generator,
    ):
        self._root = root
        self._rng = rng
        # Neutral file names, drawn at random, so no name gives away a
        # defect or a copy.
        self._names = iter(names_rng.permutation(1_000_000))
        self._paths: dict[str, list[str]] = {split: [] for split in SPLITS}
        self._images: Counter[str] = Counter()
        self._boxes: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}

    def write(
        self,
        scenes: dict[str, list[Scene]],
        defects: SceneDefects,
        seed: int,
    ) -> dict[str, Any]:
        key: dict[str, Any] = {
            "description": (
                "Annotation defects planted by `dcp prepare` in train;"
                " paths are relative to this folder. A box is its class"
                " name and YOLO's normalised [cx, cy, w, h]: `true` as"
                " drawn (null for a spurious box), `written` in the label"
                " file (null for a missing box), at line `line` from 0."
            ),
            "seed": seed,
            **{kind: [] for kind in DEFECT_KINDS},
        }
        train = scenes["train"]
        edits = self._box_edits(train, defects)
        spurious = self._spurious_boxes(train, defects.spurious_fraction)
        for n, scene in enumerate(train):
            entries = self._entries(
                scene, edits.get(n, {}), spurious.get(n, [])
            )
            self._write_scene("train", scene.pixels, entries, key)
        for split in ("val", "test"):
            for scene in scenes[split]:
                entries = self._entries(scene, {}, [])
                self._write_scene(split, scene.pixels, entries, key)
        clean = [
            n
            for n in range(len(train))
            if n not in edits and n not in spurious
        ]
        self._copy_leaks(defects.leaked_duplicates, key)
        self._copy_within_train(clean, defects.train_duplicates, key)
        self._write_blanks(defects.blank_images, key)
        return key

    def summary(self, key: dict[str, Any]) -> SceneSummary:
        return SceneSummary(
            images={split: self._images[split] for split in SPLITS},
            boxes={
                split: {name: self._boxes[split][name] for name in CLASSES}
                for split in SPLITS
            },
            defects={kind: len(key[kind]) for kind in DEFECT_KINDS},
        )

    def _box_edits(
        self, train: list[Scene], defects: SceneDefects
    ) -> dict[int, dict[int, str]]:
        """The kind of defect of some of train's boxes: per scene, per
        the object's index; boxes drawn without repeats, each with one
        defect at most."""
        slots = [
            (n, k)
            for n, scene in enumerate(train)
            for k in range(len(scene.objects))
        ]
        counts = [
            round(len(slots) * fraction)
            for fraction in (
                defects.missing_fraction,
                defects.swapped_fraction,
                defects.moved_fraction,
            )
        ]
        moved = [(SHIFTED, LOOSENED)[i % 2] for i in range(counts[2])]
        kinds = [MISSING] * counts[0] + [SWAPPED] * counts[1] + moved
        picked = self._rng.choice(len(slots), size=len(kinds), replace=False)
        edits: dict[int, dict[int, str]] = {}
        for kind, slot in zip(kinds, picked, strict=True):
            n, k = slots[slot]
            edits.setdefault(n, {})[k] = kind
        return edits

    def _spurious_boxes(
        self, train: list[Scene], fraction: float
    ) -> dict[int, list[_Label]]:
        """Boxes, per scene, that touch no object; in random scenes,
        background ones too."""
        count = round(sum(len(s.objects) for s in train) * fraction)
        boxes: dict[int, list[_Label]] = {}
        while count:
            n = int(self._rng.integers(len(train)))
            placed = boxes.get(n, [])
            taken = [o.box for o in train[n].objects] + [
                label.box for label in placed
            ]
            box = self._free_box(taken)
            if box is not None:
                boxes[n] = [*placed, _Label(self._random_class(), box)]
                count -= 1
        return boxes

    def _free_box(self, taken: Sequence[Rect]) -> Rect | None:
        height = _size(self._rng)
        width = max(1, round(height * self._rng.uniform(0.5, 1.0)))
        return _place(width, height, taken, self._rng, max_overlap=0.0)

    def _random_class(self) -> int:
        return int(self._rng.integers(len(CLASSES)))

    def _entries(
        self,
        scene: Scene,
        edits: dict[int, str],
        spurious: list[_Label],
    ) -> list[tuple[_Label | None, _Label | None, str | None]]:
        """(true, written, defect kind) of each box: a missing box is
        not written, a spurious one is not true; spurious boxes go to
        random lines."""
        entries: list[tuple[_Label | None, _Label | None, str | None]] = []
        for k, obj in enumerate(scene.objects):
            true = _Label(obj.label, obj.box)
            kind = edits.get(k)
            entries.append((true, self._edit(true, kind), kind))
        for label in spurious:
            line = int(self._rng.integers(len(entries) + 1))
            entries.insert(line, (None, label, SPURIOUS))
        return entries

    def _edit(self, true: _Label, kind: str | None) -> _Label | None:
        if kind == MISSING:
            return None
        if kind == SWAPPED:
            others = [c for c in range(len(CLASSES)) if c != true.label]
            return _Label(int(self._rng.choice(others)), true.box)
        if kind == SHIFTED:
            return _Label(true.label, self._shifted(true.box))
        if kind == LOOSENED:
            return _Label(true.label, self._loosened(true.box))
        return true

    def _shifted(self, box: Rect) -> Rect:
        """Moved by _SHIFT of its size along both axes, in a random
        direction, or the other one where that leaves the image."""
        share_x, share_y = self._rng.uniform(*_SHIFT, size=2)
        dx = math.ceil(share_x * box.width) * self._rng.choice((-1, 1))
        dy = math.ceil(share_y * box.height) * self._rng.choice((-1, 1))
        if not 0 <= box.x0 + dx <= WIDTH - box.width:
            dx = -dx
        if not 0 <= box.y0 + dy <= HEIGHT - box.height:
            dy = -dy
        return Rect(box.x0 + dx, box.y0 + dy, box.x1 + dx, box.y1 + dy)

    def _loosened(self, box: Rect) -> Rect:
        """Its sides moved out by _LOOSEN of its size, then moved into
        the image whole, so that it still holds the true box."""
        share_x, share_y = self._rng.uniform(*_LOOSEN, size=2)
        mx = math.ceil(share_x * box.width)
        my = math.ceil(share_y * box.height)
        width, height = box.width + 2 * mx, box.height + 2 * my
        x0 = min(max(box.x0 - mx, 0), WIDTH - width)
        y0 = min(max(box.y0 - my, 0), HEIGHT - height)
        return Rect(x0, y0, x0 + width, y0 + height)

    def _write_scene(
        self,
        split: str,
        pixels: np.ndarray,
        entries: list[tuple[_Label | None, _Label | None, str | None]],
        key: dict[str, Any],
    ) -> None:
        written = [label for _, label, _ in entries if label is not None]
        path = self._write(split, _png(pixels), written)
        line = 0
        for true, label, kind in entries:
            if kind is not None:
                key[kind].append(
                    {
                        "path": path,
                        "true": None if true is None else _described(true),
                        "written": None
                        if label is None
                        else _described(label),
                        "line": None if label is None else line,
                    }
                )
            line += label is not None

    def _copy_leaks(self, count: int, key: dict[str, Any]) -> None:
        """Val and test images, in turn, copied into train with their
        labels: the test split's files stay as they are."""
        sources = {
            split: self._rng.permutation(self._paths[split])
            for split in ("val", "test")
        }
        for n in range(count):
            source = str(sources[("val", "test")[n % 2]][n // 2])
            key[LEAKED].append(
                {"path": self._copy(source), "duplicate_of": source}
            )

    def _copy_within_train(
        self, clean: list[int], count: int, key: dict[str, Any]
    ) -> None:
        """Train images without defects, so that a copy holds none."""
        for n in self._rng.choice(clean, size=count, replace=False):
            source = self._paths["train"][n]
            key[TRAIN_DUPLICATES].append(
                {"path": self._copy(source), "duplicate_of": source}
            )

    def _write_blanks(self, count: int, key: dict[str, Any]) -> None:
        for n in range(count):
            colour = self._rng.integers(0, 256, size=3).astype(np.uint8)
            pixels = np.broadcast_to(colour, (HEIGHT, WIDTH, 3))
            labels = []
            if n % 2:
                box = self._free_box([])
                assert box is not None  # nothing is taken
                labels = [_Label(self._random_class(), box)]
            path = self._write("train", _png(pixels), labels)
            key[BLANK].append(
                {
                    "path": path,
                    "colour": colour.tolist(),
                    "written": [_described(label) for label in labels],
                }
            )

    def _copy(self, source: str) -> str:
        return self._write_files(
            "train",
            (self._root / source).read_bytes(),
            (self._root / _label_path(source)).read_text(),
        )

    def _write(self, split: str, image: bytes, labels: list[_Label]) -> str:
        text = "".join(f"{_yolo_line(label)}\n" for label in labels)
        return self._write_files(split, image, text)

    def _write_files(self, split: str, image: bytes, labels: str) -> str:
        name = f"{next(self._names):06d}"
        path = f"images/{split}/{name}.png"
        for relative, data in (
            (path, image),
            (_label_path(path), labels.encode()),
        ):
            (self._root / relative).parent.mkdir(parents=True, exist_ok=True)
            (self._root / relative).write_bytes(data)
        self._paths[split].append(path)
        self._images[split] += 1
        for line in labels.splitlines():
            self._boxes[split][CLASSES[int(line.split()[0])]] += 1
        return path


def _png(pixels: np.ndarray) -> bytes:
    # The fastest compression: a fifth of the time of Pillow's default,
    # for files a sixth larger.
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _label_path(image_path: str) -> str:
    """labels/<split>/<name>.txt beside images/<split>/<name>.png"""
    _, split, name = image_path.split("/")
    return f"labels/{split}/{Path(name).stem}.txt"


def _normalised(box: Rect) -> list[float]:
    """[cx, cy, w, h] in 0..1 of the image, as the label files hold
    them."""
    return [
        round((box.x0 + box.x1) / 2 / WIDTH, 6),
        round((box.y0 + box.y1) / 2 / HEIGHT, 6),
        round(box.width / WIDTH, 6),
        round(box.height / HEIGHT, 6),
    ]


def _yolo_line(label: _Label) -> str:
    return " ".join(
        [str(label.label), *(f"{v:.6f}" for v in _normalised(label.box))]
    )


def _described(label: _Label) -> dict[str, Any]:
    return {"class": CLASSES[label.label], "box": _normalised(label.box)}
