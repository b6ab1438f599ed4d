"""Decode one image file into canonical pixels and PNG bytes, or say why
it cannot be used.

Canonical pixels are uint8 with 1 (gray), 3 (RGB) or 4 (RGBA) channels:
every other mode is converted (palette, 16-bit, 1-bit, CMYK, gray with
alpha). The stored bytes are always PNG, so the Transform decodes every
image the same way; an 8-bit PNG that is already canonical keeps its
original bytes.
"""

import dataclasses
import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SUPPORTED_FORMATS = ("PNG", "JPEG")
SUPPORTED_EXTENSIONS = (".png", ".jpg", ".jpeg")
FIX_REEXPORT = "re-export it as PNG or JPEG, or move it out of the dataset"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types that decode to gray, RGB and RGBA without conversion.
_CANONICAL_PNG_COLOUR_TYPES = {0: "L", 2: "RGB", 6: "RGBA"}


class BadImageError(ValueError):
    """The file cannot be used as an image; `reason` and `fix` say why."""

    def __init__(self, reason: str, fix: str = FIX_REEXPORT):
        super().__init__(f"{reason}; fix: {fix}")
        self.reason = reason
        self.fix = fix


@dataclasses.dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (height, width, channels) uint8
    png: bytes
    source_format: str  # "PNG" or "JPEG"
    source_mode: str  # Pillow's mode of the file, e.g. "P", "I;16"


def decode_image(data: bytes) -> DecodedImage:
    """Decode PNG or JPEG bytes; raise BadImageError for anything else."""
    if not data:
        raise BadImageError("empty file (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except UnidentifiedImageError:
        raise BadImageError(
            "not an image: the content is neither PNG nor JPEG"
        ) from None
    except Image.DecompressionBombError as error:
        raise BadImageError(
            f"image too large to decode safely ({error})",
            fix="downscale it below 178 million pixels",
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadImageError(f"corrupt or truncated image ({error})") from None
    with image:
        source_format = image.format or "unknown"
        if source_format not in SUPPORTED_FORMATS:
            raise BadImageError(f"unsupported image format {source_format}")
        source_mode = image.mode
        canonical = _canonical(image, source_format)
        pixels = np.asarray(canonical)
        if _is_canonical_png(data, canonical):
            png = data
        else:
            png = _encode_png(canonical)
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise BadImageError("image has no pixels")
    return DecodedImage(pixels, png, source_format, source_mode)


def _canonical(image: Image.Image, source_format: str) -> Image.Image:
    if source_format == "JPEG":
        # Phone cameras store rotation in EXIF; bake it into the pixels.
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("L", "RGB", "RGBA") and "transparency" not in image.info:
        return image
    if mode.startswith("I"):
        # 16- or 32-bit gray: keep the 8 most significant bits of 16.
        wide = np.asarray(image).astype(np.uint32)
        return Image.fromarray((np.clip(wide, 0, 65535) >> 8).astype(np.uint8))
    if mode in ("1", "L") and "transparency" not in image.info:
        return image.convert("L")
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _is_canonical_png(data: bytes, canonical: Image.Image) -> bool:
    """True for an 8-bit gray/RGB/RGBA PNG without a transparency chunk,
    which every PNG decoder turns into exactly the canonical pixels."""
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 26:
        return False
    bit_depth, colour_type = data[24], data[25]
    return (
        bit_depth == 8
        and _CANONICAL_PNG_COLOUR_TYPES.get(colour_type) == canonical.mode
        and b"tRNS" not in data[: data.find(b"IDAT")]
    )


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Level 1: most of the size gain for a fraction of the time.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
