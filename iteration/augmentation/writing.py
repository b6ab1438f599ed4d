"""Carry out a plan: each new image as a PNG beside its parent in
train/<class>/, and a row in lineage.csv naming its parent, the parent's
sha256, the operations and their parameters."""

import csv
import dataclasses
import itertools
import json
import logging
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from core.dataset.etl.image_decoding import decode_image
from core.task import Task
from iteration.augmentation.dataset import TrainImage
from iteration.augmentation.distinctness import draw_distinct, signature
from iteration.augmentation.operations import Operation
from iteration.augmentation.plan import AugmentPlan, NewImage
from iteration.settings import AugmentConfig

LINEAGE_FILE = "lineage.csv"
LINEAGE_COLUMNS = (
    "path",
    "parent_path",
    "parent_sha256",
    "operations",
    "parameters",
    "reason",
    "data_version",
)
_PROGRESS_EVERY = 1000


@dataclasses.dataclass(frozen=True)
class Generated:
    path: str  # relative to the folder
    parent: TrainImage
    recipe: list[Operation]
    reason: str
    distinct: bool  # False: a near-duplicate of its parent or a sibling


def read_generated(root: str | Path) -> set[str]:
    """The paths lineage.csv lists: images made by earlier runs."""
    lineage = Path(root) / LINEAGE_FILE
    if not lineage.is_file():
        return set()
    with lineage.open(newline="") as file:
        return {row["path"] for row in csv.DictReader(file)}


def new_image_paths(
    plan: AugmentPlan, root: str | Path, task: Task
) -> dict[str, list[str]]:
    """Parent path → the paths its new images will get, relative to
    `root`: the task's n-th copy path (for classification
    <parent name>_aug<n>.png beside it) with the first n not taken. Known
    before any is written, so the journal can list them."""
    paths = {}
    for parent_path, images in _by_parent(plan).items():
        parent = PurePosixPath(parent_path)
        names = (task.augmented_path(parent, n) for n in itertools.count(1))
        free = (name for name in names if not (Path(root) / name).exists())
        paths[parent_path] = [next(free).as_posix() for _ in images]
    return paths


def write_new_images(
    plan: AugmentPlan,
    root: str | Path,
    *,
    paths: Mapping[str, list[str]],
    rng: np.random.Generator,
    settings: AugmentConfig,
    max_distance: float,
    data_version: str,
) -> list[Generated]:
    """Make and write every image of `plan` at its path in `paths` (see
    new_image_paths), appending to lineage.csv as it goes; a new image is
    kept farther than `max_distance` from its parent and siblings where
    MAX_DRAWS draws allow."""
    root = Path(root)
    by_parent = _by_parent(plan)
    lineage = root / LINEAGE_FILE
    new_file = not lineage.exists()
    generated: list[Generated] = []
    with lineage.open("a", newline="") as file:
        writer = csv.writer(file)
        if new_file:
            writer.writerow(LINEAGE_COLUMNS)
        for parent_path, images in by_parent.items():
            data = (root / parent_path).read_bytes()
            parent = _pillow(decode_image(data).pixels)
            kept = signature(data)[np.newaxis]
            for image, path in zip(images, paths[parent_path], strict=True):
                draw = draw_distinct(
                    rng, parent, settings, kept, max_distance=max_distance
                )
                kept = np.concatenate([kept, draw.signature[np.newaxis]])
                with (root / path).open("xb") as new:  # never overwrites
                    new.write(draw.png)
                writer.writerow(
                    (
                        path,
                        parent_path,
                        image.parent.sha256,
                        "+".join(name for name, _ in draw.recipe),
                        json.dumps(dict(draw.recipe)),
                        image.reason,
                        data_version,
                    )
                )
                generated.append(
                    Generated(
                        path,
                        image.parent,
                        draw.recipe,
                        image.reason,
                        draw.distinct,
                    )
                )
                if len(generated) % _PROGRESS_EVERY == 0:
                    logging.info(
                        "Augmented %d of %d images",
                        len(generated),
                        len(plan.images),
                    )
    return generated


def _by_parent(plan: AugmentPlan) -> dict[str, list[NewImage]]:
    by_parent: dict[str, list[NewImage]] = defaultdict(list)
    for image in plan.images:
        by_parent[image.parent.path].append(image)
    return by_parent


def _pillow(pixels: np.ndarray) -> Image.Image:
    """(H, W, C) canonical pixels as a Pillow image (L, RGB or RGBA)."""
    return Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
