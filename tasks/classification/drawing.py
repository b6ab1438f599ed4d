"""Annotated copies: each image, or each frame of a video, with the
predicted class and its confidence drawn on it."""

import io

from PIL import Image, ImageDraw, ImageFont

# Small images (the digits are 32 by 32) are enlarged, without smoothing,
# until the shorter side has this many pixels, so the label is legible.
_MIN_SIDE = 256
_BANNER = (0, 0, 0)
_TEXT = (255, 255, 0)


def label(class_name: str, confidence: float) -> str:
    return f"{class_name} {confidence:.2f}"


def annotate(image: bytes, text: str) -> Image.Image:
    """The encoded `image` as RGB, enlarged if small, with `text` on a
    banner along its top."""
    picture = Image.open(io.BytesIO(image)).convert("RGB")
    scale = -(-_MIN_SIDE // min(picture.size))  # ceiling division
    if scale > 1:
        picture = picture.resize(
            (picture.width * scale, picture.height * scale),
            Image.Resampling.NEAREST,
        )
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, min(picture.size) // 12))
    _, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = max(2, (bottom - top) // 4)
    draw.rectangle((0, 0, right + 2 * pad, bottom + 2 * pad), fill=_BANNER)
    draw.text((pad, pad), text, fill=_TEXT, font=font)
    return picture
