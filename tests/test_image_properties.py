import numpy as np
import pytest
from PIL import Image, ImageFilter
from scipy import ndimage

from core.dataset.etl.image_properties import (
    DARK_LEVEL,
    LIGHT_LEVEL,
    image_properties,
)
from models import features


def pil_gray(pixels: np.ndarray) -> np.ndarray:
    """Pillow's own luma conversion, rounded to whole levels."""
    mode = "L" if pixels.shape[2] == 1 else "RGB"
    image = Image.fromarray(pixels.squeeze(2) if mode == "L" else pixels)
    return np.asarray(image.convert("L")).astype(np.float64)


def test_properties_of_a_photo_match_references(photo):
    props = image_properties(photo)
    gray = pil_gray(photo)
    # Pillow rounds each pixel to a whole level: within half a level.
    assert props[features.BRIGHTNESS] == pytest.approx(gray.mean(), abs=0.5)
    assert props[features.CONTRAST] == pytest.approx(gray.std(), abs=0.5)
    for channel, (mean_key, std_key) in enumerate(
        [
            (features.MEAN_RED, features.STD_RED),
            (features.MEAN_GREEN, features.STD_GREEN),
            (features.MEAN_BLUE, features.STD_BLUE),
        ]
    ):
        values = photo[:, :, channel].astype(np.float64)
        assert props[mean_key] == pytest.approx(values.mean(), rel=1e-9)
        assert props[std_key] == pytest.approx(values.std(), rel=1e-9)


def test_blur_is_the_variance_of_scipys_laplacian(photo):
    luma = photo.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    reference = ndimage.laplace(luma)[1:-1, 1:-1].var()
    assert image_properties(photo)[features.BLUR] == pytest.approx(
        reference, rel=1e-9
    )


def test_blurring_a_photo_lowers_its_blur_score(photo):
    blurred = np.asarray(
        Image.fromarray(photo).filter(ImageFilter.GaussianBlur(radius=3))
    )
    sharp_score = image_properties(photo)[features.BLUR]
    blurred_score = image_properties(blurred)[features.BLUR]
    assert blurred_score < sharp_score / 5


def test_dark_and_light_fractions_of_a_digit(digit_images):
    pixels = digit_images[0][:, :, np.newaxis]
    gray = pixels[:, :, 0].astype(np.float64)
    props = image_properties(pixels)
    assert props[features.DARK_FRACTION] == pytest.approx(
        np.count_nonzero(gray <= DARK_LEVEL) / gray.size
    )
    assert props[features.LIGHT_FRACTION] == pytest.approx(
        np.count_nonzero(gray >= LIGHT_LEVEL) / gray.size
    )
    # A digit scan is mostly black background around the ink; inverted,
    # that background is exactly the near-white part.
    assert 0.3 < props[features.DARK_FRACTION] < 0.95
    inverted = image_properties(255 - pixels)
    assert inverted[features.LIGHT_FRACTION] == props[features.DARK_FRACTION]


def test_gray_image_reports_its_level_as_every_channel(digit_images):
    pixels = digit_images[1][:, :, np.newaxis]
    props = image_properties(pixels)
    values = pixels.astype(np.float64)
    for key in (features.MEAN_RED, features.MEAN_GREEN, features.MEAN_BLUE):
        assert props[key] == pytest.approx(values.mean())
    for key in (features.STD_RED, features.STD_GREEN, features.STD_BLUE):
        assert props[key] == pytest.approx(values.std())
    assert props[features.BRIGHTNESS] == pytest.approx(values.mean())


def test_blank_image_has_no_contrast_and_no_edges():
    blank = np.full((32, 32, 1), 128, np.uint8)
    props = image_properties(blank)
    assert props[features.CONTRAST] == 0.0
    assert props[features.BLUR] == 0.0
    assert props[features.DARK_FRACTION] == 0.0
    assert props[features.LIGHT_FRACTION] == 0.0


def test_alpha_is_ignored(photo):
    alpha = np.full((*photo.shape[:2], 1), 7, np.uint8)
    rgba = np.concatenate([photo, alpha], axis=2)
    assert image_properties(rgba) == image_properties(photo)
