"""Annotated copies for detection: each box drawn on its image, or video
frame, in its class's colour, labelled with the class and confidence."""

import io
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

# Small images are enlarged, without smoothing, until the shorter side
# has this many pixels, so that the labels are legible.
_MIN_SIDE = 256
# One colour per class, by its index, distinct from each other and bright
# enough to stand out from most photographs.
PALETTE = (
    (255, 56, 56),
    (0, 194, 255),
    (72, 249, 10),
    (255, 178, 29),
    (132, 56, 255),
    (0, 212, 187),
    (255, 55, 199),
    (207, 210, 49),
    (100, 115, 255),
    (255, 112, 31),
    (61, 219, 134),
    (203, 56, 255),
)


def class_colour(class_id: int) -> tuple[int, int, int]:
    return PALETTE[class_id % len(PALETTE)]


def label(class_name: str, confidence: float) -> str:
    return f"{class_name} {confidence:.2f}"


def draw_boxes(
    image: bytes, predictions: Sequence[Mapping[str, Any]]
) -> Image.Image:
    """The encoded `image` upright (as the ETL decodes it, so that the
    boxes' pixels fit) in RGB, enlarged if small, with each prediction's
    box (corners in the image's pixels, `class_id` for its colour) and
    its label above it, or inside it at the image's top edge."""
    picture = ImageOps.exif_transpose(Image.open(io.BytesIO(image)))
    picture = picture.convert("RGB")
    scale = -(-_MIN_SIDE // min(picture.size))  # ceiling division
    if scale > 1:
        picture = picture.resize(
            (picture.width * scale, picture.height * scale),
            Image.Resampling.NEAREST,
        )
    draw = ImageDraw.Draw(picture)
    shorter = min(picture.size)
    line = max(2, shorter // 160)
    font = ImageFont.load_default(size=max(12, shorter // 24))
    # The best last, so that it is drawn over the others.
    for prediction in reversed(predictions):
        xmin, ymin, xmax, ymax = (
            prediction[key] * scale for key in ("xmin", "ymin", "xmax", "ymax")
        )
        colour = class_colour(prediction["class_id"])
        # The outline on the box's own border pixels.
        draw.rectangle(
            (xmin, ymin, max(xmin, xmax - 1), max(ymin, ymax - 1)),
            outline=colour,
            width=line,
        )
        _draw_label(
            draw,
            label(prediction["class"], prediction["confidence"]),
            (xmin, ymin),
            colour,
            font,
            picture.width,
        )
    return picture


def _draw_label(
    draw: ImageDraw.ImageDraw,
    text: str,
    corner: tuple[int, int],
    colour: tuple[int, int, int],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    image_width: int,
) -> None:
    """`text` on a tab of `colour` standing on the box's top-left
    `corner`, or hanging below it where the image's top would cut it,
    and moved left where its right edge would."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = max(2, (bottom - top) // 5)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    x = max(0, min(corner[0], image_width - width))
    y = corner[1] - height if corner[1] >= height else corner[1]
    draw.rectangle((x, y, x + width, y + height), fill=colour)
    draw.text(
        (x + pad - left, y + pad - top),
        text,
        fill=_text_colour(colour),
        font=font,
    )


def _text_colour(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light tabs, white on dark ones (ITU-R BT.601 luma)."""
    red, green, blue = background
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    return (0, 0, 0) if luma > 150 else (255, 255, 255)
