import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from models import image_cleanup

# float32 rounding of the TF mean against scipy's float64 one: pixels this
# close to their threshold may fall either way.
THRESHOLD_TIE = 1e-5


@pytest.fixture(scope="module")
def digits(digit_images) -> np.ndarray:
    """Eight real digits as a float batch [8, 32, 32, 1] in 0..1."""
    return np.stack(digit_images[:8])[..., np.newaxis].astype(np.float32) / 255


@pytest.fixture(scope="module")
def photo_crop(photo) -> np.ndarray:
    """A textured 90x120 crop of the photo as a batch [1, 90, 120, 3]."""
    return photo[np.newaxis, 150:240, 250:370].astype(np.float32) / 255


@pytest.fixture(params=["digits", "photo_crop"])
def images(request) -> np.ndarray:
    return request.getfixturevalue(request.param)


def per_image(reference, images: np.ndarray, size: int, **options):
    """A scipy filter applied image by image, channel by channel."""
    return np.stack(
        [reference(image, size=(size, size, 1), **options) for image in images]
    )


@pytest.mark.parametrize("mode", ["nearest", "reflect"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_opening_equals_scipy_grey_opening(images, size, mode):
    opened = image_cleanup.opening(tf.constant(images), size).numpy()
    expected = per_image(ndimage.grey_opening, images, size, mode=mode)
    np.testing.assert_array_equal(opened, expected)


@pytest.mark.parametrize("size", [2, 3, 4])
def test_opening_is_a_true_opening_for_even_sizes_too(photo_crop, size):
    opened = image_cleanup.opening(tf.constant(photo_crop), size)
    assert np.all(opened.numpy() <= photo_crop)
    np.testing.assert_array_equal(
        image_cleanup.opening(opened, size).numpy(), opened.numpy()
    )


def test_opening_removes_a_bright_speck_smaller_than_the_square(digits):
    digit = digits[:1].copy()
    assert np.all(digit[0, :4, :4] == 0), "the corner should be background"
    digit[0, 1:3, 1:3] = 1.0  # a 2x2 speck
    opened = image_cleanup.opening(tf.constant(digit), 3).numpy()
    assert np.all(opened[0, :4, :4] == 0)
    # The strokes, wider than 3 pixels in most places, mostly survive.
    assert opened.sum() > 0.6 * digits[:1].sum()


@pytest.mark.parametrize("size", [1, 3, 5])
def test_median_filter_equals_scipy(images, size):
    filtered = image_cleanup.median_filter(tf.constant(images), size).numpy()
    expected = per_image(ndimage.median_filter, images, size, mode="nearest")
    np.testing.assert_array_equal(filtered, expected)


def test_median_filter_removes_salt_and_pepper_noise(digits):
    rng = np.random.default_rng(0)
    noise = rng.random(digits.shape)
    noisy = digits.copy()
    noisy[noise < 0.05] = 0.0
    noisy[noise > 0.95] = 1.0
    filtered = image_cleanup.median_filter(tf.constant(noisy), 3).numpy()
    # Pixels off by more than half the range: the visible specks.
    assert np.sum(np.abs(noisy - digits) > 0.5) > 300
    assert np.sum(np.abs(filtered - digits) > 0.5) == 0
    assert np.abs(filtered - digits).mean() < np.abs(noisy - digits).mean() / 3


@pytest.mark.parametrize(("block_size", "offset"), [(3, 0.02), (11, -0.05)])
def test_adaptive_threshold_equals_mean_c_with_nearest_border(
    images, block_size, offset
):
    above = image_cleanup.adaptive_threshold(
        tf.constant(images), block_size, offset
    ).numpy()
    mean = per_image(
        ndimage.uniform_filter,
        images.astype(np.float64),
        block_size,
        mode="nearest",
    )
    margin = images - (mean - offset)
    clear = np.abs(margin) > THRESHOLD_TIE
    assert clear.mean() > 0.999
    np.testing.assert_array_equal(above[clear], (margin > 0)[clear])


def test_adaptive_threshold_turns_digits_into_their_ink(digits):
    ink = digits > 0.5
    # Lit unevenly: a global threshold cannot serve both sides.
    ramp = np.linspace(0.0, 0.4, digits.shape[2], dtype=np.float32)
    lit = 0.6 * digits + ramp[np.newaxis, np.newaxis, :, np.newaxis]
    for batch in (digits, lit):
        binary = image_cleanup.adaptive_threshold(
            tf.constant(batch), 11, -0.05
        ).numpy()
        assert set(np.unique(binary)) == {0.0, 1.0}
        strokes = binary == 1.0
        union = (strokes | ink).sum(axis=(1, 2, 3))
        iou = (strokes & ink).sum(axis=(1, 2, 3)) / union
        assert iou.mean() > 0.65


def test_cleanup_keeps_the_static_shape():
    spec = tf.TensorSpec([None, 32, 32, 3], tf.float32)

    @tf.function(input_signature=[spec])
    def clean(images):
        images = image_cleanup.median_filter(images, 3)
        images = image_cleanup.opening(images, 2)
        return image_cleanup.adaptive_threshold(images, 5, 0.01)

    assert clean.get_concrete_function().output_shapes.as_list() == [
        None,
        32,
        32,
        3,
    ]


@pytest.mark.parametrize(
    ("op", "size", "message"),
    [
        (image_cleanup.median_filter, 4, "must be odd"),
        (image_cleanup.median_filter, 0, "positive integer"),
        (image_cleanup.opening, 2.0, "positive integer"),
    ],
)
def test_bad_sizes_are_refused(op, size, message):
    with pytest.raises(ValueError, match=message):
        op(tf.zeros([1, 8, 8, 1]), size)


@pytest.mark.parametrize(
    ("block_size", "message"), [(1, "at least 3"), (4, "must be odd")]
)
def test_bad_threshold_blocks_are_refused(block_size, message):
    with pytest.raises(ValueError, match=message):
        image_cleanup.adaptive_threshold(tf.zeros([1, 8, 8, 1]), block_size, 0)
