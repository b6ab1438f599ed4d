"""Read an Examples artifact's splits into numpy tables for the
data-quality analyses: the ETL's raw examples (PNG bytes, hashes,
properties) and the Transform's output (the model's input pixels)."""

import dataclasses
import hashlib
import math
import os
import posixpath
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.types import Artifact, artifact_utils

from models import features

_BATCH = 1024


@dataclasses.dataclass(frozen=True)
class RawTable:
    """The ETL's examples, one entry per image, in file order."""

    paths: list[str]  # relative to the dataset root, e.g. "val/7/0012.png"
    labels: np.ndarray  # int64 class indices
    label_names: list[str]
    sha256: list[str]  # of the source file
    widths: np.ndarray
    heights: np.ndarray
    channels: np.ndarray
    properties: dict[str, np.ndarray]  # features.PROPERTIES
    pngs: list[bytes]  # the ETL's canonical PNG of each image

    def __len__(self) -> int:
        return len(self.paths)


@dataclasses.dataclass(frozen=True)
class PixelTable:
    """The Transform's output: what the model reads."""

    paths: list[str]
    images: np.ndarray  # float32 [n, height, width, channels] in 0..1
    labels: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.paths)


def split_names(examples: Artifact) -> list[str]:
    return list(artifact_utils.decode_split_names(examples.split_names))


def split_dir(examples: Artifact, split: str) -> str:
    """The folder of `split`; ValueError naming the splits there are."""
    if split not in split_names(examples):
        raise ValueError(
            f"The examples at {examples.uri} have no split {split!r}; they"
            f" have {split_names(examples)}."
        )
    return artifact_utils.get_split_uri([examples], split)


def split_of(path: str) -> str:
    """The ETL split folder an image came from: its path's first part."""
    return path.split("/", 1)[0]


Table = TypeVar("Table", RawTable, PixelTable)


def sorted_by_path(table: Table) -> Table:
    """`table` with its rows in path order. The ETL's file order changes
    from run to run; K-fold splits dealt over it would change too."""
    order = np.argsort(table.paths, kind="stable")

    def pick(column):
        if isinstance(column, dict):
            return {name: values[order] for name, values in column.items()}
        if isinstance(column, list):
            return [column[i] for i in order]
        return column[order]

    return dataclasses.replace(
        table,
        **{
            field.name: pick(getattr(table, field.name))
            for field in dataclasses.fields(table)
        },
    )


def read_raw(split_dirs: list[str]) -> RawTable:
    """All images of the ETL's TFRecords in `split_dirs`."""
    spec = {
        features.IMAGE: tf.io.FixedLenFeature([], tf.string),
        features.PATH: tf.io.FixedLenFeature([], tf.string),
        features.LABEL: tf.io.FixedLenFeature([], tf.int64),
        features.LABEL_NAME: tf.io.FixedLenFeature([], tf.string),
        features.SHA256: tf.io.FixedLenFeature([], tf.string),
        features.WIDTH: tf.io.FixedLenFeature([], tf.int64),
        features.HEIGHT: tf.io.FixedLenFeature([], tf.int64),
        features.CHANNELS: tf.io.FixedLenFeature([], tf.int64),
        **{
            name: tf.io.FixedLenFeature([], tf.float32)
            for name in features.PROPERTIES
        },
    }
    columns = _read_columns(split_dirs, spec)
    texts = {
        name: [value.decode() for value in columns[name]]
        for name in (features.PATH, features.LABEL_NAME, features.SHA256)
    }
    return RawTable(
        paths=texts[features.PATH],
        labels=columns[features.LABEL],
        label_names=texts[features.LABEL_NAME],
        sha256=texts[features.SHA256],
        widths=columns[features.WIDTH],
        heights=columns[features.HEIGHT],
        channels=columns[features.CHANNELS],
        properties={name: columns[name] for name in features.PROPERTIES},
        pngs=list(columns[features.IMAGE]),
    )


def read_file_images(
    split_dirs: list[str],
) -> tuple[list[str], list[str], list[bytes]]:
    """The paths, source SHA-256 and the ETL's PNG of the examples in
    `split_dirs`, whatever their annotation."""
    spec = {
        name: tf.io.FixedLenFeature([], tf.string)
        for name in (features.PATH, features.SHA256, features.IMAGE)
    }
    columns = _read_columns(split_dirs, spec)
    return (
        [value.decode() for value in columns[features.PATH]],
        [value.decode() for value in columns[features.SHA256]],
        list(columns[features.IMAGE]),
    )


def read_pixels(
    split_dirs: list[str], image_shape: tuple[int, ...]
) -> PixelTable:
    """The transformed images of `split_dirs`; `image_shape` is the
    model's input shape (height, width, channels)."""
    spec = {
        features.TRANSFORMED_IMAGE: tf.io.FixedLenFeature(
            [math.prod(image_shape)], tf.float32
        ),
        features.TRANSFORMED_LABEL: tf.io.FixedLenFeature([], tf.int64),
        features.PATH: tf.io.FixedLenFeature([], tf.string),
    }
    columns = _read_columns(split_dirs, spec)
    return PixelTable(
        paths=[path.decode() for path in columns[features.PATH]],
        images=columns[features.TRANSFORMED_IMAGE].reshape(-1, *image_shape),
        labels=columns[features.TRANSFORMED_LABEL],
    )


def read_int_features(
    split_dirs: list[str], names: list[str]
) -> dict[str, np.ndarray]:
    """One int64 value per example of each feature in `names`, such as
    the Transform's property buckets, in the order of read_pixels."""
    spec = {name: tf.io.FixedLenFeature([], tf.int64) for name in names}
    return _read_columns(split_dirs, spec)


def _read_columns(
    split_dirs: list[str], spec: dict[str, tf.io.FixedLenFeature]
) -> dict[str, np.ndarray]:
    files = [
        os.fsdecode(file)
        for folder in split_dirs
        for file in sorted(fileio.glob(posixpath.join(folder, "*.gz")))
    ]
    if not files:
        raise ValueError(
            f"No gzip'd TFRecord files in {', '.join(split_dirs)}: point the"
            " analysis at an Examples artifact written as TFRecords."
        )
    batches: dict[str, list[np.ndarray]] = {name: [] for name in spec}
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    try:
        for batch in records.batch(_BATCH):
            for name, values in tf.io.parse_example(batch, spec).items():
                batches[name].append(values.numpy())
    except tf.errors.InvalidArgumentError as error:
        raise ValueError(
            f"Cannot read the features {sorted(spec)} from {files[0]} and"
            f" the other files: {error.message}. The examples must come"
            " from this package's ETL and Transform."
        ) from None
    return {
        name: np.concatenate(values) if values else np.empty(0)
        for name, values in batches.items()
    }


def images_digest(paths: Sequence[str], sha256: Sequence[str]) -> str:
    """The SHA-256 of the (path, file SHA-256) pairs, in any order: equal
    for two runs exactly when they measured the same files, so that two
    runs' figures are compared only on the same images."""
    digest = hashlib.sha256()
    for path, file_hash in sorted(zip(paths, sha256, strict=True)):
        digest.update(f"{path}\t{file_hash}\n".encode())
    return digest.hexdigest()
