"""Read the Transform's transformed examples of one split into numpy."""

import math
import posixpath

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio

from models.features import TRANSFORMED_IMAGE, TRANSFORMED_LABEL

_BATCH = 1024


def read_split(
    split_dir: str, image_shape: tuple[int, ...], *, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Images [n, *image_shape] float32 and labels [n] int64 from the
    gzip'd TFRecords in `split_dir`, the first `limit` if given."""
    pattern = posixpath.join(split_dir, "*.gz")
    files = sorted(fileio.glob(pattern))
    if not files:
        raise ValueError(
            f"No gzip'd TFRecord files match {pattern}. Point the component"
            " at the Transform's transformed_examples, written as TFRecords."
        )
    spec = {
        TRANSFORMED_IMAGE: tf.io.FixedLenFeature(
            [math.prod(image_shape)], tf.float32
        ),
        TRANSFORMED_LABEL: tf.io.FixedLenFeature([], tf.int64),
    }
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if limit is not None:
        records = records.take(limit)
    images, labels = [], []
    try:
        for batch in records.batch(_BATCH):
            parsed = tf.io.parse_example(batch, spec)
            images.append(parsed[TRANSFORMED_IMAGE].numpy())
            labels.append(parsed[TRANSFORMED_LABEL].numpy())
    except tf.errors.InvalidArgumentError as error:
        raise ValueError(
            f"Cannot read {TRANSFORMED_IMAGE} as {math.prod(image_shape)}"
            f" floats (the model's input shape {image_shape}) and"
            f" {TRANSFORMED_LABEL} as one int64 from {pattern}:"
            f" {error.message}. The model and the examples must come from"
            " the same Transform."
        ) from None
    if not images:
        raise ValueError(f"{pattern} holds no examples.")
    return (
        np.concatenate(images).reshape(-1, *image_shape),
        np.concatenate(labels),
    )
