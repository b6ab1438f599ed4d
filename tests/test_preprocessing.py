import io
import operator
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from PIL import Image
from scipy import ndimage
from sklearn.datasets import load_digits
from tensorflow_transform.tf_metadata import dataset_metadata
from tfx.components.transform import executor_utils
from tfx.components.transform import labels as transform_labels
from tfx.utils import json_utils

from core.dataset.embedded.digits import png_bytes
from core.dataset.etl.image_properties import image_properties
from models import features, preprocessing

# Pillow's and TF's bilinear resize use the same triangle filter (widened
# when shrinking: TF's antialias); Pillow weighs in double precision, TF in
# float32. 2e-5 is 1/200 of an 8-bit level.
RESIZE_TOLERANCE = 2e-5
# float32 against float64 means: pixels this close to their threshold
# may fall either way.
THRESHOLD_TIE = 1e-5
SIZE = 32
PLAIN_CONFIG = {
    preprocessing.IMAGE_SIZE_KEY: SIZE,
    preprocessing.CHANNELS_KEY: 3,
    preprocessing.MEDIAN_FILTER_KEY: 0,
    preprocessing.OPENING_KEY: None,
    preprocessing.ADAPTIVE_THRESHOLD_KEY: None,
}
MEDIAN_SIZE, OPENING_SIZE, BLOCK_SIZE, OFFSET = 3, 2, 7, -0.03
CLEANUP_CONFIG = {
    preprocessing.IMAGE_SIZE_KEY: SIZE,
    preprocessing.CHANNELS_KEY: 3,
    preprocessing.MEDIAN_FILTER_KEY: MEDIAN_SIZE,
    preprocessing.OPENING_KEY: OPENING_SIZE,
    preprocessing.ADAPTIVE_THRESHOLD_KEY: {
        preprocessing.BLOCK_SIZE_KEY: BLOCK_SIZE,
        preprocessing.OFFSET_KEY: OFFSET,
    },
}


def rgba(pixels: np.ndarray) -> np.ndarray:
    """RGB pixels with an alpha ramp from transparent to opaque."""
    alpha = np.linspace(0, 255, pixels.shape[1]).astype(np.uint8)
    alpha = np.broadcast_to(alpha, pixels.shape[:2])[..., np.newaxis]
    return np.concatenate([pixels, alpha], axis=2)


def pillow_reference(png: bytes, size: int, mode: str = "RGB") -> np.ndarray:
    """Pillow's conversion (gray repeated, alpha dropped), then its bilinear
    resize of each channel in floating point."""
    image = Image.open(io.BytesIO(png)).convert(mode)
    pixels = np.asarray(image, dtype=np.float32).reshape(
        image.height, image.width, -1
    )
    channels = [
        Image.fromarray(pixels[:, :, c] / 255).resize(
            (size, size), Image.Resampling.BILINEAR
        )
        for c in range(pixels.shape[2])
    ]
    return np.stack([np.asarray(c) for c in channels], axis=2)


@pytest.fixture(scope="module")
def pngs(digit_images, photo) -> dict[str, bytes]:
    """Real PNGs: gray digit, RGB photo crops shrunk and enlarged, RGBA."""
    return {
        "gray_digit": png_bytes(digit_images[0]),
        "large_rgb": png_bytes(photo[:300, :400]),
        "small_rgb": png_bytes(photo[200:220, 300:325]),
        "rgba": png_bytes(rgba(photo[100:150, 100:160])),
    }


@pytest.mark.parametrize("size", [32, 144])
def test_decode_and_resize_matches_pillow(pngs, size):
    batch = tf.constant([[png] for png in pngs.values()])  # SchemaGen's [1]
    images = preprocessing.decode_and_resize(batch, size, 3).numpy()
    assert images.shape == (len(pngs), size, size, 3)
    assert images.dtype == np.float32
    for image, png in zip(images, pngs.values(), strict=True):
        np.testing.assert_allclose(
            image, pillow_reference(png, size), atol=RESIZE_TOLERANCE
        )
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_decode_to_gray_matches_pillow_within_a_level(pngs):
    images = preprocessing.decode_and_resize(
        tf.constant([pngs["large_rgb"]]), SIZE, 1
    ).numpy()
    assert images.shape == (1, SIZE, SIZE, 1)
    # libpng's and Pillow's integer luma round differently.
    np.testing.assert_allclose(
        images[0],
        pillow_reference(pngs["large_rgb"], SIZE, mode="L"),
        atol=1 / 255 + RESIZE_TOLERANCE,
    )


@pytest.mark.parametrize(
    ("size", "channels", "message"),
    [(0, 3, "positive"), (32.0, 3, "integer"), (32, 4, "channels")],
)
def test_bad_decode_options_are_refused(pngs, size, channels, message):
    with pytest.raises(ValueError, match=message):
        preprocessing.decode_and_resize(
            tf.constant([pngs["rgba"]]), size, channels
        )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({preprocessing.CHANNELS_KEY: 3}, "'image_size'"),
        (
            {**PLAIN_CONFIG, preprocessing.ADAPTIVE_THRESHOLD_KEY: {}},
            "'block_size'",
        ),
    ],
)
def test_missing_config_keys_are_named(pngs, config, message):
    inputs = {
        features.IMAGE: tf.constant([[pngs["gray_digit"]]]),
        features.LABEL: tf.constant([[1]], tf.int64),
    }
    with pytest.raises(ValueError, match=message):
        preprocessing.preprocessing_fn(inputs, config)


@pytest.fixture(scope="module")
def examples(digit_images, photo) -> list[dict[str, Any]]:
    """40 gray digits and 4 RGB/RGBA photo crops as the ETL stores them."""
    images = [pixels[..., np.newaxis] for pixels in digit_images]
    labels = list(load_digits().target[: len(images)])
    crops = [photo[:300, :400], photo[200:220, 300:325], photo[50:150, 0:90]]
    images += [*crops, rgba(photo[100:150, 100:160])]
    labels += [0, 3, 5, 7]
    return [
        {
            features.IMAGE: png_bytes(pixels.squeeze()),
            features.LABEL: int(label),
            features.PATH: f"train/{label}/{index:03}.png".encode(),
            **image_properties(pixels),
        }
        for index, (pixels, label) in enumerate(
            zip(images, labels, strict=True)
        )
    ]


def run_transform(
    examples: list[dict[str, Any]],
    feature_shape: list[int],
    config: dict[str, Any],
    temp_dir: str,
) -> dict[bytes, dict[str, Any]]:
    """AnalyzeAndTransformDataset in memory; transformed rows by path."""
    spec = {
        features.IMAGE: tf.io.FixedLenFeature(feature_shape, tf.string),
        features.LABEL: tf.io.FixedLenFeature(feature_shape, tf.int64),
        features.PATH: tf.io.FixedLenFeature(feature_shape, tf.string),
        **{
            name: tf.io.FixedLenFeature(feature_shape, tf.float32)
            for name in features.PROPERTIES
        },
    }
    metadata = dataset_metadata.DatasetMetadata.from_feature_spec(spec)
    rows = [
        {k: [v] if feature_shape else v for k, v in example.items()}
        for example in examples
    ]
    # Bind custom_config as TFX's Transform executor does, JSON and all.
    preprocessing_fn = executor_utils.MaybeBindCustomConfig(
        {transform_labels.CUSTOM_CONFIG: json_utils.dumps(config)},
        preprocessing.preprocessing_fn,
    )
    dataset = (rows, metadata)
    with tft_beam.Context(temp_dir=temp_dir):
        (transformed, _), _ = dataset | tft_beam.AnalyzeAndTransformDataset(
            preprocessing_fn
        )
    return {row[features.PATH]: row for row in transformed}


@pytest.fixture(scope="module")
def plain_run(examples, tmp_path_factory) -> dict[bytes, dict[str, Any]]:
    """SchemaGen's shape [1] for every feature; cleanup switched off."""
    temp_dir = str(tmp_path_factory.mktemp("tft_plain"))
    return run_transform(examples, [1], PLAIN_CONFIG, temp_dir)


@pytest.fixture(scope="module")
def cleanup_run(examples, tmp_path_factory) -> dict[bytes, dict[str, Any]]:
    """Scalar features; every cleanup step switched on."""
    temp_dir = str(tmp_path_factory.mktemp("tft_cleanup"))
    return run_transform(examples, [], CLEANUP_CONFIG, temp_dir)


def test_transform_outputs_resized_images_and_labels(examples, plain_run):
    assert sorted(plain_run) == sorted(e[features.PATH] for e in examples)
    for example in examples:
        row = plain_run[example[features.PATH]]
        image = row[features.TRANSFORMED_IMAGE]
        assert image.shape == (SIZE, SIZE, 3)
        assert image.dtype == np.float32
        assert image.min() >= 0.0 and image.max() <= 1.0
        np.testing.assert_allclose(
            image,
            pillow_reference(example[features.IMAGE], SIZE),
            atol=RESIZE_TOLERANCE,
        )
        assert row[features.TRANSFORMED_LABEL] == example[features.LABEL]


def test_property_buckets_are_quantiles(examples, plain_run):
    for name in features.PROPERTIES:
        key = features.bucket_key(name)
        ordered = sorted(examples, key=operator.itemgetter(name))
        buckets = [plain_run[e[features.PATH]][key] for e in ordered]
        assert set(buckets) <= set(range(preprocessing.NUM_BUCKETS)), name
        assert buckets == sorted(buckets), f"{name} buckets not monotone"
    for name in (features.BRIGHTNESS, features.CONTRAST, features.BLUR):
        key = features.bucket_key(name)
        counts = np.bincount([row[key] for row in plain_run.values()])
        # 44 examples in 4 quantile buckets: about 11 each.
        assert len(counts) == 4 and counts.min() >= 8, (name, counts)


def test_scalar_features_transform_like_shape_one(plain_run, cleanup_run):
    assert sorted(cleanup_run) == sorted(plain_run)
    for path, row in plain_run.items():
        scalar_row = cleanup_run[path]
        for key, value in row.items():
            if key != features.TRANSFORMED_IMAGE:
                assert scalar_row[key] == value, (path, key)


def test_cleanup_in_the_transform_matches_scipy(plain_run, cleanup_run):
    for path, row in plain_run.items():
        image = row[features.TRANSFORMED_IMAGE]
        # The configured order: median filter, opening, threshold.
        smooth = ndimage.median_filter(
            image, size=(MEDIAN_SIZE, MEDIAN_SIZE, 1), mode="nearest"
        )
        opened = ndimage.grey_opening(
            smooth, size=(OPENING_SIZE, OPENING_SIZE, 1)
        )
        mean = ndimage.uniform_filter(
            opened.astype(np.float64),
            size=(BLOCK_SIZE, BLOCK_SIZE, 1),
            mode="nearest",
        )
        margin = opened - (mean - OFFSET)
        clear = np.abs(margin) > THRESHOLD_TIE
        assert clear.mean() > 0.99, path
        cleaned = cleanup_run[path][features.TRANSFORMED_IMAGE]
        assert set(np.unique(cleaned)) <= {0.0, 1.0}
        np.testing.assert_array_equal(
            cleaned[clear], (margin > 0)[clear], err_msg=str(path)
        )
