"""Image properties used for slicing, drift checks and quality flags."""

import numpy as np

from models import features

# A gray level at or below DARK_LEVEL counts as near-black, at or above
# LIGHT_LEVEL as near-white (on 0..255).
DARK_LEVEL = 16
LIGHT_LEVEL = 239

# ITU-R BT.601 luma, the weights Pillow's "L" conversion uses.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def grayscale(pixels: np.ndarray) -> np.ndarray:
    """Luma of an (H, W, C) uint8 image as float64; alpha is ignored."""
    if pixels.shape[2] == 1:
        return pixels[:, :, 0].astype(np.float64)
    return pixels[:, :, :3].astype(np.float64) @ LUMA_WEIGHTS


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over the interior pixels.

    Low values mean few edges: a blurry or nearly blank image.
    """
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    laplacian = (
        gray[:-2, 1:-1]
        + gray[2:, 1:-1]
        + gray[1:-1, :-2]
        + gray[1:-1, 2:]
        - 4.0 * gray[1:-1, 1:-1]
    )
    return float(laplacian.var())


def image_properties(pixels: np.ndarray) -> dict[str, float]:
    """Properties of an (H, W, C) uint8 image with C in {1, 3, 4}.

    A grayscale image reports its gray level as each colour channel.
    """
    gray = grayscale(pixels)
    colour = pixels[:, :, :3] if pixels.shape[2] >= 3 else pixels[:, :, :1]
    colour = colour.astype(np.float64)
    means = colour.mean(axis=(0, 1))
    stds = colour.std(axis=(0, 1))
    if means.shape[0] == 1:
        means = np.repeat(means, 3)
        stds = np.repeat(stds, 3)
    return {
        features.BRIGHTNESS: float(gray.mean()),
        features.CONTRAST: float(gray.std()),
        features.MEAN_RED: float(means[0]),
        features.MEAN_GREEN: float(means[1]),
        features.MEAN_BLUE: float(means[2]),
        features.STD_RED: float(stds[0]),
        features.STD_GREEN: float(stds[1]),
        features.STD_BLUE: float(stds[2]),
        features.BLUR: laplacian_variance(gray),
        features.DARK_FRACTION: float((gray <= DARK_LEVEL).mean()),
        features.LIGHT_FRACTION: float((gray >= LIGHT_LEVEL).mean()),
    }
