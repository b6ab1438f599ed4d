"""The Transform's preprocessing_fn: ETL examples → model inputs.

TFX's Transform passes its `custom_config=` (from params.yaml) as the
`custom_config` argument. Keys:

- "image_size" (int, required): side of the model's square input, in
  pixels; every image is resized to it.
- "channels" (int, required): 1 (gray) or 3 (RGB). Gray images become
  RGB by repeating the gray level; RGBA images lose their alpha channel
  (the colour under transparent pixels shows).
- "median_filter" (odd int): window of `image_cleanup.median_filter`;
  0, None or absent skips it.
- "opening" (int): square of `image_cleanup.opening`; 0, None or absent
  skips it.
- "adaptive_threshold" (dict): {"block_size": odd int >= 3, "offset":
  float on the 0..1 scale} for `image_cleanup.adaptive_threshold`; None
  or absent skips it.

The cleanup steps that are switched on run in that order: median
filter, opening, adaptive threshold.
"""

from collections.abc import Mapping
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from models import features, image_cleanup

IMAGE_SIZE_KEY = "image_size"
CHANNELS_KEY = "channels"
MEDIAN_FILTER_KEY = "median_filter"
OPENING_KEY = "opening"
ADAPTIVE_THRESHOLD_KEY = "adaptive_threshold"
BLOCK_SIZE_KEY = "block_size"
OFFSET_KEY = "offset"

SUPPORTED_CHANNELS = (1, 3)
# Quantile buckets of each image property, for sliced evaluation.
NUM_BUCKETS = 4


def preprocessing_fn(
    inputs: dict[str, tf.Tensor], custom_config: dict[str, Any]
) -> dict[str, tf.Tensor]:
    """Decoded, resized, cleaned images; labels; property buckets; paths.

    Features read as [batch] or [batch, 1] (SchemaGen's shape); every
    output but the image is [batch].
    """
    images = decode_and_resize(
        inputs[features.IMAGE],
        _required(custom_config, IMAGE_SIZE_KEY),
        _required(custom_config, CHANNELS_KEY),
    )
    return {
        features.TRANSFORMED_IMAGE: clean_up(images, custom_config),
        features.TRANSFORMED_LABEL: _flat(inputs[features.LABEL]),
        **slicing_features(inputs),
    }


def slicing_features(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Each image property's quantile bucket, and the path: what the
    Evaluator and the analyses slice and join by."""
    outputs = {}
    for name in features.PROPERTIES:
        if name in inputs:
            outputs[features.bucket_key(name)] = tft.bucketize(
                _flat(inputs[name]), num_buckets=NUM_BUCKETS
            )
    if features.PATH in inputs:
        outputs[features.PATH] = _flat(inputs[features.PATH])
    return outputs


def decode_and_resize(
    png_bytes_batch: tf.Tensor, image_size: int, channels: int
) -> tf.Tensor:
    """PNG bytes, [batch] or [batch, 1], as float32 images
    [batch, image_size, image_size, channels] in 0..1."""
    if isinstance(image_size, bool) or not isinstance(image_size, int):
        raise ValueError(f"image_size must be an integer, got {image_size!r}")
    if image_size < 1:
        raise ValueError(f"image_size must be positive, got {image_size}")
    if channels not in SUPPORTED_CHANNELS:
        raise ValueError(
            f"channels must be one of {SUPPORTED_CHANNELS}, got {channels!r}"
        )
    return decode_to_size(png_bytes_batch, image_size, image_size, channels)


def decode_to_size(
    png_bytes_batch: tf.Tensor, height: int, width: int, channels: int
) -> tf.Tensor:
    """PNG bytes, [batch] or [batch, 1], as float32 images
    [batch, height, width, channels] in 0..1, stretched to that size."""

    def decode(png: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_png(png, channels=channels)
        image = tf.image.convert_image_dtype(image, tf.float32)
        # Antialiasing averages over all source pixels when shrinking a
        # large scan (as Pillow's resize does); enlarging is unaffected.
        image = tf.image.resize(image, [height, width], antialias=True)
        # The resampling weights' rounding can overshoot 1 by an ulp.
        return tf.clip_by_value(image, 0.0, 1.0)

    return tf.map_fn(
        decode,
        tf.reshape(png_bytes_batch, [-1]),
        fn_output_signature=tf.TensorSpec(
            [height, width, channels], tf.float32
        ),
    )


def clean_up(images: tf.Tensor, custom_config: Mapping[str, Any]) -> tf.Tensor:
    """The cleanup steps switched on in `custom_config`, in order."""
    median_size = custom_config.get(MEDIAN_FILTER_KEY)
    if median_size:
        images = image_cleanup.median_filter(images, median_size)
    opening_size = custom_config.get(OPENING_KEY)
    if opening_size:
        images = image_cleanup.opening(images, opening_size)
    threshold = custom_config.get(ADAPTIVE_THRESHOLD_KEY)
    if threshold is not None:
        images = image_cleanup.adaptive_threshold(
            images,
            _required(threshold, BLOCK_SIZE_KEY, ADAPTIVE_THRESHOLD_KEY),
            float(_required(threshold, OFFSET_KEY, ADAPTIVE_THRESHOLD_KEY)),
        )
    return images


def _required(config: Any, key: str, parent: str = "") -> Any:
    where = f"custom_config[{parent!r}]" if parent else "custom_config"
    if not isinstance(config, Mapping) or config.get(key) is None:
        raise ValueError(
            f"the Transform's {where} has no {key!r}: set it in params.yaml"
        )
    return config[key]


def _flat(tensor: tf.Tensor) -> tf.Tensor:
    """[batch, 1] or [batch] → [batch]."""
    return tf.reshape(tensor, [-1])
