"""Image properties used for slicing, drift checks and quality flags."""

import math

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


def mean_and_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and population std in one pass over float64 values (the dot
    product is far faster than numpy's two-pass var on large images)."""
    flat = values.ravel()
    mean = float(flat.mean())
    variance = float(flat @ flat) / flat.size - mean * mean
    return mean, math.sqrt(max(variance, 0.0))


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over the interior pixels.

    Low values mean few edges: a blurry or nearly blank image.
    """
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    laplacian = gray[:-2, 1:-1] + gray[2:, 1:-1]
    laplacian += gray[1:-1, :-2]
    laplacian += gray[1:-1, 2:]
    laplacian -= 4.0 * gray[1:-1, 1:-1]
    return mean_and_std(laplacian)[1] ** 2


def image_properties(pixels: np.ndarray) -> dict[str, float]:
    """Properties of an (H, W, C) uint8 image with C in {1, 3, 4}.

    A grayscale image reports its gray level as each colour channel.
    """
    gray = grayscale(pixels)
    brightness, contrast = mean_and_std(gray)
    if pixels.shape[2] == 1:
        means = [brightness] * 3
        stds = [contrast] * 3
    else:
        channels = [
            mean_and_std(pixels[:, :, c].astype(np.float64)) for c in range(3)
        ]
        means = [mean for mean, _ in channels]
        stds = [std for _, std in channels]
    return {
        features.BRIGHTNESS: brightness,
        features.CONTRAST: contrast,
        features.MEAN_RED: means[0],
        features.MEAN_GREEN: means[1],
        features.MEAN_BLUE: means[2],
        features.STD_RED: stds[0],
        features.STD_GREEN: stds[1],
        features.STD_BLUE: stds[2],
        features.BLUR: laplacian_variance(gray),
        features.DARK_FRACTION: np.count_nonzero(gray <= DARK_LEVEL)
        / gray.size,
        features.LIGHT_FRACTION: np.count_nonzero(gray >= LIGHT_LEVEL)
        / gray.size,
    }
