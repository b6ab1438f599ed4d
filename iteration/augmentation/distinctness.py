"""Keep a new image apart from its parent and its siblings as the
duplicate analysis sees them (components/duplicates/finding.py): 32x32
gray pixels with mean 0 and unit length, compared at every shift of up
to one pixel. Two rotations of one digit a few degrees apart are as
close as a copy; such a draw is redrawn."""

import dataclasses
import io

import numpy as np
from PIL import Image

from components.duplicates.finding import normalised_pixels
from iteration.augmentation.operations import (
    Operation,
    apply_recipe,
    draw_recipe,
)
from iteration.settings import AugmentConfig

# Draws of a recipe before a new image is kept however close it is.
MAX_DRAWS = 10
_SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


@dataclasses.dataclass(frozen=True)
class Draw:
    recipe: list[Operation]
    png: bytes
    signature: np.ndarray  # 32x32, as normalised_pixels
    distinct: bool  # farther than the near-duplicate distance from all


def signature(png: bytes) -> np.ndarray:
    return normalised_pixels([png])[0]


def nearest_distance(candidate: np.ndarray, others: np.ndarray) -> float:
    """The distance from `candidate` to the closest of `others` (both
    from normalised_pixels), the best over shifts of up to a pixel."""
    shifted = np.stack([np.roll(candidate, s, axis=(0, 1)) for s in _SHIFTS])
    differences = shifted[:, np.newaxis] - others[np.newaxis]
    return float(np.sqrt((differences**2).sum(axis=(2, 3))).min())


def draw_distinct(
    rng: np.random.Generator,
    parent: Image.Image,
    settings: AugmentConfig,
    kept: np.ndarray,
    *,
    max_distance: float,
) -> Draw:
    """A new image made from `parent` by a random recipe, redrawn up to
    MAX_DRAWS times while within `max_distance` of any of `kept`."""
    for _ in range(MAX_DRAWS):
        recipe = draw_recipe(rng, settings)
        png = png_bytes(apply_recipe(parent, recipe))
        new = signature(png)
        distinct = nearest_distance(new, kept) > max_distance
        if distinct:
            break
    return Draw(recipe, png, new, distinct)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
