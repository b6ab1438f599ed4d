"""Write scikit-learn's 1,797 digit scans as a `split/class/*.png` folder
with seeded, documented defects, and images of no class added to train."""

import dataclasses
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from core.dataset.embedded.no_class import no_class_scans
from core.dataset.staged_output import staged_directory

DEFECTS_FILE = "defects.json"
# The writer named in the marker of every output (staged_output).
OUTPUT_KIND = "dcp prepare"
UNLABELED_DIR = "unlabeled"
# The scans hold 17 gray levels, 0..16.
_DIGITS_MAX = 16.0
_BRIGHTEN_BY = 60


@dataclasses.dataclass(frozen=True)
class DefectCounts:
    label_flip_fraction: float  # of the train images
    exact_duplicates: int  # train images copied into val and test
    near_duplicates: int  # shifted or brightened copies in val and test
    blank_images: int  # one gray level, in train
    broken_files: int  # zero bytes, truncated PNG, text named .png
    no_class_images: int  # scribbles, letters, several digits, in train


def render_digit(scan: np.ndarray, image_size: int) -> np.ndarray:
    """An 8x8 scan (0..16) as an image_size x image_size uint8 image; a
    wider scan (several digits side by side) is shrunk to the image's
    width and centred on black."""
    levels = np.round(scan * (255.0 / _DIGITS_MAX)).astype(np.uint8)
    height = round(image_size * scan.shape[0] / scan.shape[1])
    image = Image.fromarray(levels).resize(
        (image_size, height), Image.Resampling.BILINEAR
    )
    if height == image_size:
        return np.asarray(image)
    pixels = np.zeros((image_size, image_size), np.uint8)
    top = (image_size - height) // 2
    pixels[top : top + height] = np.asarray(image)
    return pixels


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def shift_right(pixels: np.ndarray) -> np.ndarray:
    """Move the image one pixel right, filling the left column with 0."""
    shifted = np.zeros_like(pixels)
    shifted[:, 1:] = pixels[:, :-1]
    return shifted


def brighten(pixels: np.ndarray) -> np.ndarray:
    return np.clip(pixels.astype(np.int16) + _BRIGHTEN_BY, 0, 255).astype(
        np.uint8
    )


NEAR_DUPLICATE_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "shift_right_1px": shift_right,
    f"brighten_{_BRIGHTEN_BY}": brighten,
}


def write_embedded_dataset(
    output: str | Path,
    *,
    seed: int,
    image_size: int,
    val_fraction: float,
    test_fraction: float,
    unlabeled_fraction: float,
    defects: DefectCounts,
) -> dict[str, Any]:
    """Write the dataset into `output` (replacing an earlier one written
    by this function) and return the answer key it saves beside it.

    Raises OutputFolderError (a ValueError) if `output` holds anything
    else, so a user's own folder is never overwritten.
    """
    with staged_directory(str(output), kind=OUTPUT_KIND) as staging:
        key = _DatasetWriter(Path(staging), seed, image_size).write(
            val_fraction, test_fraction, unlabeled_fraction, defects
        )
        (Path(staging) / DEFECTS_FILE).write_text(
            json.dumps(key, indent=2) + "\n"
        )
    return key


class _DatasetWriter:
    def __init__(self, root: Path, seed: int, image_size: int):
        digits = load_digits()
        self._root = root
        self._rng = np.random.default_rng(seed)
        self._scans = digits.images
        self._targets = digits.target
        self._size = image_size
        # Neutral file names, drawn at random, so no name gives away a
        # split or a defect.
        self._names = iter(self._rng.permutation(100_000))
        self._seed = seed

    def write(
        self,
        val_fraction: float,
        test_fraction: float,
        unlabeled_fraction: float,
        defects: DefectCounts,
    ) -> dict[str, Any]:
        total = len(self._targets)
        order = self._rng.permutation(total)
        n_val = round(total * val_fraction)
        n_test = round(total * test_fraction)
        n_unlabeled = round(total * unlabeled_fraction)
        val = order[:n_val]
        test = order[n_val : n_val + n_test]
        unlabeled = order[n_val + n_test : n_val + n_test + n_unlabeled]
        train = order[n_val + n_test + n_unlabeled :]

        n_flips = round(len(train) * defects.label_flip_fraction)
        n_sources = (
            n_flips + defects.exact_duplicates + defects.near_duplicates
        )
        picked = iter(self._rng.choice(train, size=n_sources, replace=False))
        flipped = {int(next(picked)) for _ in range(n_flips)}
        key: dict[str, Any] = {
            "description": (
                "Defects injected by `dcp prepare` into scikit-learn's"
                " digits; paths are relative to this folder."
            ),
            "seed": self._seed,
            "label_flips": [],
            "exact_duplicates": [],
            "near_duplicates": [],
            "blank_images": [],
            "broken_files": [],
            "no_class": [],
        }
        paths: dict[int, str] = {}
        for split, indices in (("train", train), ("val", val), ("test", test)):
            for index in indices:
                index = int(index)
                label = int(self._targets[index])
                if index in flipped:
                    given = int((label + self._rng.integers(1, 10)) % 10)
                    paths[index] = self._write(
                        split, str(given), self._render(index)
                    )
                    key["label_flips"].append(
                        {
                            "path": paths[index],
                            "true_label": str(label),
                            "given_label": str(given),
                            "digits_index": index,
                        }
                    )
                else:
                    paths[index] = self._write(
                        split, str(label), self._render(index)
                    )
        for index in unlabeled:
            self._write(UNLABELED_DIR, None, self._render(int(index)))

        for n in range(defects.exact_duplicates):
            source = int(next(picked))
            split = ("val", "test")[n % 2]
            copy = self._new_path(split, str(self._targets[source]))
            (self._root / copy).write_bytes(
                (self._root / paths[source]).read_bytes()
            )
            key["exact_duplicates"].append(
                {"path": copy, "duplicate_of": paths[source]}
            )
        transforms = list(NEAR_DUPLICATE_TRANSFORMS.items())
        for n in range(defects.near_duplicates):
            source = int(next(picked))
            name, transform = transforms[n % len(transforms)]
            path = self._write(
                ("val", "test")[n % 2],
                str(self._targets[source]),
                transform(self._render(source)),
            )
            key["near_duplicates"].append(
                {
                    "path": path,
                    "near_duplicate_of": paths[source],
                    "transform": name,
                }
            )
        for n in range(defects.blank_images):
            value = (0, 255, 128)[n % 3]
            blank = np.full((self._size, self._size), value, np.uint8)
            path = self._write("train", self._random_class(), blank)
            key["blank_images"].append({"path": path, "value": value})
        for n in range(defects.broken_files):
            kind = ("zero_bytes", "truncated_png", "text_file")[n % 3]
            path = self._new_path("train", self._random_class())
            (self._root / path).write_bytes(self._broken_bytes(kind))
            key["broken_files"].append({"path": path, "kind": kind})
        # Last, so that the defects above stay as they were before.
        for kind, scan in no_class_scans(
            defects.no_class_images, self._rng, self._scans[train]
        ):
            folder = self._random_class()
            path = self._write("train", folder, render_digit(scan, self._size))
            key["no_class"].append(
                {
                    "path": path,
                    "kind": kind,
                    "given_label": folder,
                    "action": "remove",
                }
            )
        logging.info(
            "prepare: %d train, %d val, %d test, %d unlabeled digits; %d"
            " defects injected, %d of them images of no class",
            len(train),
            len(val),
            len(test),
            len(unlabeled),
            sum(len(v) for v in key.values() if isinstance(v, list)),
            len(key["no_class"]),
        )
        return key

    def _render(self, index: int) -> np.ndarray:
        return render_digit(self._scans[index], self._size)

    def _random_class(self) -> str:
        return str(self._rng.integers(0, 10))

    def _new_path(self, split: str, label: str | None) -> str:
        folder = f"{split}/{label}" if label is not None else split
        (self._root / folder).mkdir(parents=True, exist_ok=True)
        return f"{folder}/{next(self._names):05d}.png"

    def _write(self, split: str, label: str | None, pixels: np.ndarray) -> str:
        path = self._new_path(split, label)
        (self._root / path).write_bytes(png_bytes(pixels))
        return path

    def _broken_bytes(self, kind: str) -> bytes:
        if kind == "zero_bytes":
            return b""
        if kind == "text_file":
            return b"This is a text file, not a PNG image.\n"
        data = png_bytes(self._render(0))
        return data[: len(data) // 2]
