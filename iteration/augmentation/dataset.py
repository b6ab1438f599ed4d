"""The image folder as augmentation sees it: train and val counts, and
the train images that may be parents of new ones."""

import dataclasses
import hashlib
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from core.dataset.etl.dataset_layout import scan_dataset
from core.dataset.etl.image_decoding import BadImageError, decode_image
from core.dataset.etl.image_properties import image_properties


@dataclasses.dataclass(frozen=True)
class TrainImage:
    path: str  # relative to the folder, e.g. "train/3/0012.png"
    label: str
    sha256: str  # of the file's bytes
    properties: dict[str, float]  # core/dataset/etl/image_properties


@dataclasses.dataclass(frozen=True)
class Dataset:
    root: Path
    # Images the ETL converts: broken files do not count.
    train_counts: dict[str, int]  # per class, generated images included
    val_count: int
    train: tuple[TrainImage, ...]  # every decodable train image
    parents: tuple[TrainImage, ...]  # those that may be augmented
    left_out: dict[str, int]  # why train images are no parents → count

    @property
    def train_count(self) -> int:
        return sum(self.train_counts.values())


def read_dataset(
    root: str | Path,
    *,
    generated: set[str],
    labels: Mapping[str, str] = {},
) -> Dataset:
    """Decode train and val of `root/<split>/<class>/<image>`, labelled as
    the ETL labels them (`labels`: etl.labels). Parents are the decodable
    train images that are neither in `generated` (earlier augmentations)
    nor blank (one gray level)."""
    root = Path(root)
    layout = scan_dataset(str(root), ("train", "val"), labels)
    train: list[TrainImage] = []
    parents: list[TrainImage] = []
    left_out: Counter[str] = Counter()
    val_count = 0
    for index, source in enumerate(layout.images, 1):
        if index % 5000 == 0:
            logging.info("Read %d of %d images", index, len(layout.images))
        data = (root / source.path).read_bytes()
        try:
            pixels = decode_image(data).pixels
        except BadImageError:
            left_out["broken"] += source.split == "train"
            continue
        if source.split == "val":
            val_count += 1
            continue
        image = TrainImage(
            path=source.path,
            label=source.label_name,
            sha256=hashlib.sha256(data).hexdigest(),
            properties=image_properties(pixels),
        )
        train.append(image)
        if source.path in generated:
            left_out["generated earlier"] += 1
        elif pixels.min() == pixels.max():
            left_out["blank"] += 1
        else:
            parents.append(image)
    if not parents:
        raise ValueError(
            f"{root}/train: no image to augment (left out: {dict(left_out)});"
            f" expected images such as {root}/train/<class>/<image>.png"
        )
    return Dataset(
        root=root,
        train_counts=dict(sorted(Counter(i.label for i in train).items())),
        val_count=val_count,
        train=tuple(train),
        parents=tuple(parents),
        left_out=dict(left_out),
    )


def slice_parents(
    dataset: Dataset, feature: str, bucket: int, *, buckets: int
) -> list[TrainImage]:
    """The parents in a TFMA slice such as ("brightness_bucket", 0): the
    Transform's quantile buckets of the property, made on train."""
    name = feature.removesuffix("_bucket")
    values = np.array([image.properties[name] for image in dataset.train])
    boundaries = np.quantile(values, np.arange(1, buckets) / buckets)
    return [
        parent
        for parent in dataset.parents
        if np.searchsorted(boundaries, parent.properties[name], "right")
        == bucket
    ]


def pick_parents(
    rng: np.random.Generator,
    candidates: list[TrainImage],
    count: int,
    weights: list[float] | None = None,
) -> list[TrainImage]:
    """`count` of `candidates` in random order, each one used once before
    any is used again; with `weights`, a heavier one tends to come
    earlier in each round (drawn without replacement in proportion)."""
    if not candidates and count:
        raise ValueError(f"no parent to make {count} new images from")
    p = None if weights is None else np.asarray(weights) / np.sum(weights)
    picked: list[TrainImage] = []
    while len(picked) < count:
        size = min(count - len(picked), len(candidates))
        order = rng.choice(len(candidates), size=size, replace=False, p=p)
        picked += [candidates[i] for i in order]
    return picked
