"""Images of no class, as 8-row scans with the digits' 17 gray levels
(0..16), so that they render like the digit scans: light on black, the
same blur and stroke levels, filling the image alike.

Like the digits' own scans, "scribble" and "letter" are 4x4 pixel counts
of a 32x32 bitmap; "several_digits" puts real digit scans side by side.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

NO_CLASS_KINDS = ("scribble", "letter", "several_digits")
# Capitals that look like no digit, and still like a letter as a scan
# (a W is a blur there).
LETTERS = "AKMRXY"

_BITMAP = 32  # the scans count the pixels of a 32x32 bitmap in 4x4 blocks
_BLOCK = 4
# The digits fill the bitmap's height and about 24 of its 32 columns.
_INK_LEFT, _INK_RIGHT = 4, 28
_STROKE_WIDTH = 4


def no_class_scans(
    count: int, rng: np.random.Generator, digit_scans: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """`count` (kind, scan) pairs drawn with `rng`, the kinds in turn;
    the letters in a seeded order, repeating only once all were used;
    "several_digits" joins two or three of `digit_scans` (n x 8 x 8)."""
    letters = [str(c) for c in rng.permutation(list(LETTERS))]
    scans = []
    for n in range(count):
        kind = NO_CLASS_KINDS[n % len(NO_CLASS_KINDS)]
        if kind == "scribble":
            scan = _scribble(rng)
        elif kind == "letter":
            scan = _letter(
                rng, letters[n // len(NO_CLASS_KINDS) % len(letters)]
            )
        else:
            picked = rng.choice(
                len(digit_scans), size=int(rng.integers(2, 4)), replace=False
            )
            scan = side_by_side([digit_scans[i] for i in picked])
        scans.append((kind, scan))
    return scans


def side_by_side(scans: list[np.ndarray]) -> np.ndarray:
    """Digit scans cropped to their inked columns and joined, with a
    blank column between and around them: an 8 x W scan."""
    blank = np.zeros((scans[0].shape[0], 1))
    parts = [blank]
    for scan in scans:
        inked = np.flatnonzero(scan.any(axis=0))
        parts += [scan[:, inked[0] : inked[-1] + 1], blank]
    return np.concatenate(parts, axis=1)


def _scribble(rng: np.random.Generator) -> np.ndarray:
    """Three thick cubic curves, each spanning much of the digits' area."""
    bitmap = Image.new("1", (_BITMAP, _BITMAP))
    draw = ImageDraw.Draw(bitmap)
    t = np.linspace(0.0, 1.0, 32)[:, None]
    for _ in range(3):
        while True:
            p = rng.uniform(
                [_INK_LEFT, 2], [_INK_RIGHT, _BITMAP - 2], size=(4, 2)
            )
            if np.hypot(*(p[3] - p[0])) >= _BITMAP / 2:
                break
        curve = (
            (1 - t) ** 3 * p[0]
            + 3 * (1 - t) ** 2 * t * p[1]
            + 3 * (1 - t) * t**2 * p[2]
            + t**3 * p[3]
        )
        draw.line(
            [(float(x), float(y)) for x, y in curve],
            fill=1,
            width=_STROKE_WIDTH,
            joint="curve",
        )
    return _block_counts(np.asarray(bitmap, dtype=np.uint8))


def _letter(rng: np.random.Generator, letter: str) -> np.ndarray:
    """The capital in Pillow's built-in font (no download), tilted a
    little and stretched, like the digits, to the bitmap's height."""
    font = ImageFont.load_default(size=64)
    glyph = Image.new("L", (128, 128))
    ImageDraw.Draw(glyph).text(
        (32, 16),
        letter,
        fill=255,
        font=font,
        stroke_width=int(rng.integers(0, 2)),
        stroke_fill=255,
    )
    glyph = glyph.rotate(
        float(rng.uniform(-12.0, 12.0)), Image.Resampling.BILINEAR
    )
    glyph = glyph.crop(glyph.getbbox())
    width = min(
        _INK_RIGHT,
        round(glyph.width * _BITMAP / glyph.height * rng.uniform(0.8, 1.0)),
    )
    glyph = glyph.resize((width, _BITMAP), Image.Resampling.BOX)
    bitmap = np.zeros((_BITMAP, _BITMAP), np.uint8)
    left = (_BITMAP - width) // 2
    bitmap[:, left : left + width] = np.asarray(glyph) >= 128
    return _block_counts(bitmap)


def _block_counts(bitmap: np.ndarray) -> np.ndarray:
    """A 0/1 bitmap as the scans are made: set pixels per 4x4 block."""
    n = _BITMAP // _BLOCK
    return bitmap.reshape(n, _BLOCK, n, _BLOCK).sum(axis=(1, 3)).astype(float)
