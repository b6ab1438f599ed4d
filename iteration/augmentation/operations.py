"""The image operations of offline augmentation, and the random recipe
of operations each new image gets.

Every operation takes a Pillow image of mode L, RGB or RGBA and returns
one of the same mode and size. Rotation and zoom fill the corners they
uncover with the image's background: the median of its border pixels.
The cleanup operations are the Transform's (models/image_cleanup.py) as
their scipy equivalents, with the same border mode and, for RGBA, the
alpha channel left alone.
"""

from collections.abc import Callable, Mapping

import numpy as np
from PIL import Image, ImageEnhance
from scipy import ndimage

from iteration.settings import AugmentConfig
from pipeline.settings import TransformConfig

# An operation's name and keyword arguments, as lineage.csv records it.
Operation = tuple[str, dict[str, float]]

_RESAMPLE = Image.Resampling.BILINEAR
_SIDES = ("left", "top", "right", "bottom")  # of a crop


def rotate(image: Image.Image, *, degrees: float) -> Image.Image:
    """Rotated counter-clockwise about its centre."""
    return image.rotate(degrees, _RESAMPLE, fillcolor=background(image))


def zoom(image: Image.Image, *, factor: float) -> Image.Image:
    """Scaled about its centre: in for a factor above 1, out below."""
    cx, cy = image.width / 2, image.height / 2
    # The affine map takes each output pixel to the input pixel it shows.
    inverse = (
        1 / factor,
        0,
        cx - cx / factor,
        0,
        1 / factor,
        cy - cy / factor,
    )
    return image.transform(
        image.size,
        Image.Transform.AFFINE,
        inverse,
        _RESAMPLE,
        fillcolor=background(image),
    )


def crop(
    image: Image.Image,
    *,
    left: float,
    top: float,
    right: float,
    bottom: float,
) -> Image.Image:
    """These fractions of each side cut off, resized back to full size."""
    width, height = image.size
    box = (
        left * width,
        top * height,
        width - right * width,
        height - bottom * height,
    )
    return image.resize(image.size, _RESAMPLE, box=box)


def brightness(image: Image.Image, *, factor: float) -> Image.Image:
    """Every colour value times `factor`, clipped at white."""
    return ImageEnhance.Brightness(image).enhance(factor)


def median_filter(image: Image.Image, *, size: int) -> Image.Image:
    """The median of each size x size neighbourhood."""
    return _per_channel(
        image, lambda a: ndimage.median_filter(a, size=size, mode="nearest")
    )


def opening(image: Image.Image, *, size: int) -> Image.Image:
    """Grey erosion then dilation: bright details smaller than the
    size x size square removed."""
    return _per_channel(
        image, lambda a: ndimage.grey_opening(a, size=(size, size))
    )


def adaptive_threshold(
    image: Image.Image, *, block_size: int, offset: float
) -> Image.Image:
    """White where a pixel is brighter than its block's mean minus
    `offset` (on the 0..1 scale), else black."""

    def threshold(channel: np.ndarray) -> np.ndarray:
        mean = ndimage.uniform_filter(
            channel.astype(np.float64), size=block_size, mode="nearest"
        )
        return np.where(channel > mean - offset * 255, 255, 0)

    return _per_channel(image, threshold)


OPERATIONS: Mapping[str, Callable[..., Image.Image]] = {
    "rotate": rotate,
    "zoom": zoom,
    "crop": crop,
    "brightness": brightness,
    "median_filter": median_filter,
    "opening": opening,
    "adaptive_threshold": adaptive_threshold,
}


def background(image: Image.Image) -> int | tuple[int, ...]:
    """The median colour of the border pixels."""
    pixels = np.asarray(image).reshape(image.height, image.width, -1)
    border = np.concatenate(
        [pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]]
    )
    colour = tuple(int(v) for v in np.median(border, axis=0).round())
    return colour[0] if len(colour) == 1 else colour


def check_settings(settings: AugmentConfig) -> None:
    """ValueError naming the `augment:` value that cannot work."""
    if not settings.rotation_degrees and not settings.zoom:
        raise ValueError(
            "augment: rotation_degrees and zoom are both 0 in params.yaml:"
            " a new image needs a rotation or zoom, or the duplicate"
            " analysis flags it as a near-duplicate of its parent; set"
            " rotation_degrees (e.g. 20)"
        )
    for name, value, below in (
        ("rotation_degrees", settings.rotation_degrees, 180.0),
        ("zoom", settings.zoom, 1.0),
        ("crop", settings.crop, 0.5),
        ("brightness", settings.brightness, 1.0),
    ):
        if not 0 <= value < below:
            raise ValueError(
                f"augment.{name} in params.yaml is {value}; it must be at"
                f" least 0 and below {below}"
            )
    if not 0 <= settings.cleanup_share <= 1:
        raise ValueError(
            f"augment.cleanup_share in params.yaml is"
            f" {settings.cleanup_share}; it must be between 0 and 1"
        )
    cleanup_operations(settings.cleanup)


def cleanup_operations(cleanup: TransformConfig) -> list[Operation]:
    """The cleanup operations switched on, with their parameters."""
    found: list[Operation] = []
    if cleanup.median_filter:
        _check_window("median_filter", cleanup.median_filter, odd=True)
        found.append(("median_filter", {"size": cleanup.median_filter}))
    if cleanup.opening:
        _check_window("opening", cleanup.opening, odd=False)
        found.append(("opening", {"size": cleanup.opening}))
    threshold = cleanup.adaptive_threshold
    if threshold is not None:
        if set(threshold) != {"block_size", "offset"}:
            raise ValueError(
                "augment.cleanup.adaptive_threshold in params.yaml needs"
                f" exactly block_size and offset, got {sorted(threshold)}"
            )
        block_size = threshold["block_size"]
        _check_window(
            "adaptive_threshold.block_size", block_size, odd=True, smallest=3
        )
        found.append(
            (
                "adaptive_threshold",
                {"block_size": int(block_size), "offset": threshold["offset"]},
            )
        )
    return found


def draw_recipe(
    rng: np.random.Generator, settings: AugmentConfig
) -> list[Operation]:
    """Random operations for one new image: rotation, zoom, crop and
    brightness within the `augment:` ranges, and in `cleanup_share` of
    the images one cleanup operation.

    Rotation and zoom take the upper half of their range, either way: a
    smaller change leaves a near-duplicate of the parent (on the digits
    most 3° rotations and 5% zooms do; 5° and 15% do not). Parameters
    are rounded, so lineage.csv reproduces the image exactly.
    """
    recipe: list[Operation] = []
    if settings.rotation_degrees:
        degrees = _upper_half(rng, settings.rotation_degrees)
        recipe.append(("rotate", {"degrees": round(degrees, 1)}))
    if settings.zoom:
        factor = 1 + _upper_half(rng, settings.zoom)
        recipe.append(("zoom", {"factor": round(factor, 3)}))
    if settings.crop:
        sides = rng.uniform(0, settings.crop, size=4).round(3)
        recipe.append(
            (
                "crop",
                dict(zip(_SIDES, sides.tolist(), strict=True)),
            )
        )
    if settings.brightness:
        factor = 1 + rng.uniform(-settings.brightness, settings.brightness)
        recipe.append(("brightness", {"factor": round(factor, 3)}))
    cleanups = cleanup_operations(settings.cleanup)
    if cleanups and rng.random() < settings.cleanup_share:
        recipe.append(cleanups[int(rng.integers(len(cleanups)))])
    return recipe


def apply_recipe(image: Image.Image, recipe: list[Operation]) -> Image.Image:
    for name, parameters in recipe:
        image = OPERATIONS[name](image, **parameters)
    return image


def describe(recipe: list[Operation]) -> str:
    """In words, e.g. "rotate -12.3° + zoom 1.08 + brightness 1.1"."""
    words = []
    for name, p in recipe:
        if name == "rotate":
            words.append(f"rotate {p['degrees']:g}°")
        elif name in ("zoom", "brightness"):
            words.append(f"{name} {p['factor']:g}")
        elif name == "crop":
            sides = " ".join(f"{side[0]}{p[side]:.1%}" for side in _SIDES)
            words.append(f"crop {sides}")
        elif name == "adaptive_threshold":
            words.append(
                f"adaptive threshold {p['block_size']}, {p['offset']:g}"
            )
        else:
            words.append(f"{name.replace('_', ' ')} {p['size']}")
    return " + ".join(words)


def _upper_half(rng: np.random.Generator, most: float) -> float:
    return float(rng.uniform(most / 2, most) * rng.choice((-1, 1)))


def _per_channel(
    image: Image.Image, operation: Callable[[np.ndarray], np.ndarray]
) -> Image.Image:
    pixels = np.asarray(image).reshape(image.height, image.width, -1)
    colour = pixels.shape[2] - (image.mode == "RGBA")
    result = pixels.copy()
    for c in range(colour):
        result[:, :, c] = np.clip(operation(pixels[:, :, c]), 0, 255)
    return Image.fromarray(result[:, :, 0] if image.mode == "L" else result)


def _check_window(
    name: str, size: float, *, odd: bool, smallest: int = 1
) -> None:
    if size != int(size) or size < smallest or (odd and size % 2 == 0):
        kind = "an odd" if odd else "a"
        raise ValueError(
            f"augment.cleanup.{name} in params.yaml is {size}; it must be"
            f" {kind} whole number of pixels from {smallest}, e.g. 3"
        )
