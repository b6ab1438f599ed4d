"""Property tests of image decoding: whatever bytes a file holds, the ETL
either makes an image record of it or quarantines it with a reason; no
other exception escapes (it would abort the whole Beam run)."""

import functools
import io
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.datasets import load_sample_image

from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_decoding import BadImageError, decode_image
from core.dataset.etl.image_records import ImageRecord, load_image_record

FAST = settings(max_examples=75, deadline=None)
SOURCE = SourceImage("train", "a", "train/a/file.png")


@functools.cache
def real_encodings() -> dict[str, bytes]:
    """Small real images (a crop of a photograph) in every kind of PNG
    and JPEG the decoder converts differently."""
    photo = Image.fromarray(load_sample_image("china.jpg")[200:224, 300:332])
    gray = photo.convert("L")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to display
    wide = Image.fromarray(np.asarray(gray).astype(np.uint16) * 257)
    palette = photo.convert("P", palette=Image.Palette.ADAPTIVE)
    return {
        "png rgb": encode(photo, "PNG"),
        "png gray": encode(gray, "PNG"),
        "png rgba": encode(photo.convert("RGBA"), "PNG"),
        "png 16-bit": encode(wide, "PNG"),
        "png palette+transparency": encode(palette, "PNG", transparency=0),
        "png 1-bit": encode(gray.convert("1"), "PNG"),
        "jpeg rgb": encode(photo, "JPEG", quality=90),
        "jpeg gray": encode(gray, "JPEG"),
        "jpeg cmyk": encode(photo.convert("CMYK"), "JPEG"),
        "jpeg progressive": encode(photo, "JPEG", progressive=True),
        "jpeg exif rotated": encode(photo, "JPEG", exif=exif),
    }


def encode(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    data = real_encodings()[draw(st.sampled_from(sorted(real_encodings())))]
    return data[: draw(st.integers(0, len(data) - 1))]


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    """A real image with a few bytes overwritten, in its headers (EXIF,
    chunk lengths, sizes) as often as anywhere."""
    data = bytearray(
        real_encodings()[draw(st.sampled_from(sorted(real_encodings())))]
    )
    for _ in range(draw(st.integers(1, 4))):
        end = draw(st.sampled_from([64, 256, len(data)]))
        data[draw(st.integers(0, min(end, len(data)) - 1))] = draw(
            st.integers(0, 255)
        )
    return bytes(data)


@st.composite
def misframed_png(draw: st.DrawFn) -> bytes:
    """A real PNG with one chunk's length field wrong, so the decoder
    reads the next chunk header from the middle of the data."""
    name = draw(st.sampled_from([k for k in real_encodings() if "png" in k]))
    data = bytearray(real_encodings()[name])
    start = draw(st.sampled_from(list(chunk_starts(bytes(data)))))
    length = draw(st.integers(0, len(data)))
    data[start : start + 4] = struct.pack(">I", length)
    return bytes(data)


def chunk_starts(png: bytes) -> Iterator[int]:
    position = 8  # after the signature
    while position < len(png):
        yield position
        (length,) = struct.unpack(">I", png[position : position + 4])
        position += 12 + length  # length, type, data, CRC


# What a file may begin with: nothing known, or a PNG or JPEG signature.
random_bytes = st.one_of(
    st.binary(max_size=512),
    st.binary(max_size=512).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    st.binary(max_size=512).map(lambda b: b"\xff\xd8\xff" + b),
)


def check_decoding(data: bytes) -> bool:
    """decode_image gives canonical pixels and their PNG (True), or
    BadImageError with a reason and a fix (False)."""
    try:
        decoded = decode_image(data)
    except BadImageError as error:
        assert error.reason and error.fix
        return False
    height, width, channels = decoded.pixels.shape
    assert decoded.pixels.dtype == np.uint8
    assert height > 0 and width > 0 and channels in (1, 3, 4)
    with Image.open(io.BytesIO(decoded.png)) as stored:
        assert stored.format == "PNG"
        pixels = np.asarray(stored).reshape(decoded.pixels.shape)
        np.testing.assert_array_equal(pixels, decoded.pixels)
    return True


@FAST
@given(random_bytes)
def test_random_bytes_decode_or_are_rejected_with_a_reason(data):
    check_decoding(data)


@FAST
@given(truncated())
def test_truncated_images_decode_or_are_rejected_with_a_reason(data):
    check_decoding(data)


@FAST
@given(st.one_of(corrupted(), misframed_png()))
def test_corrupted_images_decode_or_are_rejected_with_a_reason(data):
    check_decoding(data)


def test_every_real_encoding_decodes_and_round_trips():
    # The strategies start from real images, not from rejected ones.
    for name, data in real_encodings().items():
        assert check_decoding(data), name


@FAST
@given(st.one_of(random_bytes, truncated(), corrupted(), misframed_png()))
def test_the_etl_accounts_for_every_file(data):
    """As the ETL reads a file: a record, or a quarantine reason."""
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / SOURCE.path
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        try:
            record = load_image_record(root, SOURCE, label=0)
        except BadImageError as error:
            assert error.reason and error.fix
            return
    assert isinstance(record, ImageRecord)
    assert record.width > 0 and record.height > 0
    assert set(record.properties) and record.png
