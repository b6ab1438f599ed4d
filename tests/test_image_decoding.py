import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core.dataset.etl.image_decoding import BadImageError, decode_image


def encode(
    image: Image.Image, format: str = "PNG", **options: object
) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def tf_decode(png: bytes) -> np.ndarray:
    return tf.io.decode_png(png, channels=0).numpy()


@pytest.fixture
def digit(digit_images) -> np.ndarray:
    return digit_images[3]


def test_gray_png_keeps_its_bytes_and_pixels(digit):
    data = encode(Image.fromarray(digit))
    decoded = decode_image(data)
    assert decoded.png == data
    assert decoded.pixels.shape == (32, 32, 1)
    np.testing.assert_array_equal(decoded.pixels[:, :, 0], digit)
    np.testing.assert_array_equal(tf_decode(decoded.png), decoded.pixels)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_colour_png_keeps_its_bytes(photo, mode):
    image = Image.fromarray(photo).convert(mode)
    data = encode(image)
    decoded = decode_image(data)
    assert decoded.png == data
    np.testing.assert_array_equal(decoded.pixels, np.asarray(image))
    np.testing.assert_array_equal(tf_decode(decoded.png), decoded.pixels)


def test_palette_png_becomes_rgb(photo):
    image = Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE)
    decoded = decode_image(encode(image))
    expected = np.asarray(image.convert("RGB"))
    assert decoded.source_mode == "P"
    np.testing.assert_array_equal(decoded.pixels, expected)
    np.testing.assert_array_equal(tf_decode(decoded.png), expected)


def test_palette_png_with_transparency_becomes_rgba(photo):
    image = Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE)
    data = encode(image, transparency=0)
    decoded = decode_image(data)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    assert decoded.pixels.shape[2] == 4
    np.testing.assert_array_equal(decoded.pixels, expected)
    np.testing.assert_array_equal(tf_decode(decoded.png), expected)


def test_16_bit_png_keeps_the_high_byte(digit):
    wide = digit.astype(np.uint16) * 257 + 3  # use all 16 bits
    data = encode(Image.fromarray(wide))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    decoded = decode_image(data)
    np.testing.assert_array_equal(decoded.pixels[:, :, 0], digit)
    np.testing.assert_array_equal(tf_decode(decoded.png), decoded.pixels)


def test_gray_with_alpha_becomes_rgba(digit):
    image = Image.fromarray(np.stack([digit, 255 - digit], axis=2), "LA")
    decoded = decode_image(encode(image))
    np.testing.assert_array_equal(
        decoded.pixels, np.asarray(image.convert("RGBA"))
    )


def test_one_bit_png_becomes_gray(digit):
    image = Image.fromarray(digit).convert("1")
    decoded = decode_image(encode(image))
    assert set(np.unique(decoded.pixels)) <= {0, 255}
    np.testing.assert_array_equal(
        decoded.pixels[:, :, 0], np.asarray(image.convert("L"))
    )


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_jpeg_is_stored_as_lossless_png_of_its_decoded_pixels(photo, mode):
    data = encode(Image.fromarray(photo).convert(mode), "JPEG", quality=90)
    decoded = decode_image(data)
    expected = np.asarray(
        Image.open(io.BytesIO(data)).convert("L" if mode == "L" else "RGB")
    )
    assert decoded.source_format == "JPEG"
    np.testing.assert_array_equal(decoded.pixels.squeeze(), expected)
    np.testing.assert_array_equal(tf_decode(decoded.png).squeeze(), expected)


def test_jpeg_exif_rotation_is_applied(photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    data = encode(Image.fromarray(photo), "JPEG", exif=exif)
    decoded = decode_image(data)
    assert decoded.pixels.shape[:2] == (photo.shape[1], photo.shape[0])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"This is a text file, not a PNG.\n", "not an image"),
    ],
)
def test_unusable_content_is_rejected_with_a_reason(data, reason):
    with pytest.raises(BadImageError) as raised:
        decode_image(data)
    assert reason in raised.value.reason
    assert "PNG or JPEG" in raised.value.fix


def test_truncated_png_is_rejected(photo):
    data = encode(Image.fromarray(photo))
    with pytest.raises(BadImageError) as raised:
        decode_image(data[: len(data) // 2])
    assert "truncated" in raised.value.reason


def test_other_formats_are_rejected(digit):
    with pytest.raises(BadImageError) as raised:
        decode_image(encode(Image.fromarray(digit), "GIF"))
    assert raised.value.reason == "unsupported image format GIF"
