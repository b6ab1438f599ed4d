"""Outliers by image property and in embedding space.

Thresholds come from the data: a value is unusual beyond Tukey's
far-out fences (quartiles ± `fence` interquartile ranges), on a log
scale for the skewed measures (sharpness, size). The score is how many
interquartile ranges lie between the value and the median.
"""

import numpy as np
from cleanlab.outlier import OutOfDistribution

from core.findings.finding import Finding
from core.findings.types import (
    BLANK,
    BLURRY,
    DARK,
    GRAYSCALE,
    LIGHT,
    ODD_SIZE,
    OUTLIER,
)
from core.readers.example_tables import RawTable, split_of
from models import features

# Standard deviation of the gray levels (0..255) below which an image
# shows nothing.
BLANK_CONTRAST = 2.0
# Images whose colour channels differ by less than this are gray.
_GRAY_TOLERANCE = 1.0


def property_findings(table: RawTable, *, fence: float) -> list[Finding]:
    """Blank, dark, light, blurry, odd-size and grayscale images."""
    props = table.properties
    blank = props[features.CONTRAST] < BLANK_CONTRAST
    findings = [
        _finding(
            table,
            i,
            BLANK,
            1.0,
            "shows nothing: contrast"
            f" {props[features.CONTRAST][i]:.1f} of 255",
        )
        for i in np.flatnonzero(blank)
    ]
    brightness = props[features.BRIGHTNESS]
    low, high = _outside(brightness, blank, fence)
    findings += _flag(table, low, DARK, brightness, "brightness", "{:.0f}")
    findings += _flag(table, high, LIGHT, brightness, "brightness", "{:.0f}")
    sharpness = np.log1p(props[features.BLUR])
    low, _ = _outside(sharpness, blank, fence)
    findings += _flag(
        table, low, BLURRY, sharpness, "log sharpness (Laplacian)", "{:.2f}"
    )
    findings += _odd_sizes(table, fence)
    findings += _grayscale_among_colour(table)
    return findings


def embedding_findings(
    table: RawTable, embeddings: np.ndarray, *, fence: float
) -> list[Finding]:
    """Images far from their nearest neighbours in embedding space, by
    cleanlab's k-nearest-neighbour outlier score, each against the other
    images of its split: the model was fit to train, so train images sit
    closer together than the held-out ones do."""
    if len(embeddings) != len(table):
        raise ValueError(
            f"{len(embeddings)} embeddings for {len(table)} images."
        )
    scores = OutOfDistribution().fit_score(features=embeddings, verbose=False)
    # cleanlab scores exp(-distance / scale): 1 for a typical image,
    # towards 0 for an outlier; -log gives back the scaled distance.
    distance = -np.log(np.maximum(scores, np.finfo(np.float64).tiny))
    splits = np.array([split_of(path) for path in table.paths])
    findings = []
    for split in sorted(set(splits)):
        others = splits != split
        _, high = _outside(distance, others, fence)
        median = float(np.median(distance[~others]))
        findings += [
            _finding(
                table,
                i,
                OUTLIER,
                _iqr_from_median(distance[~others], distance[i]),
                f"{distance[i] / median:.1f}x the median distance to nearest"
                f" neighbours in the model's embedding space, among {split}",
            )
            for i in np.flatnonzero(high)
        ]
    return findings


def _outside(
    values: np.ndarray, ignored: np.ndarray, fence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the values below and above the far-out fences."""
    kept = values[~ignored]
    if len(kept) < 4:
        nothing = np.zeros(len(values), bool)
        return nothing, nothing
    q1, q3 = np.percentile(kept, [25, 75])
    spread = max(q3 - q1, 1e-9)
    return (
        ~ignored & (values < q1 - fence * spread),
        ~ignored & (values > q3 + fence * spread),
    )


def _flag(
    table: RawTable,
    mask: np.ndarray,
    issue: str,
    values: np.ndarray,
    what: str,
    value_format: str,
) -> list[Finding]:
    median = float(np.median(values))
    return [
        _finding(
            table,
            i,
            issue,
            _iqr_from_median(values, values[i]),
            f"{what} {value_format.format(values[i])}, median"
            f" {value_format.format(median)}",
        )
        for i in np.flatnonzero(mask)
    ]


def _iqr_from_median(values: np.ndarray, value: float) -> float:
    """How many interquartile ranges of `values` `value` lies from their
    median."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return abs(float(value - median)) / max(float(q3 - q1), 1e-9)


def _odd_sizes(table: RawTable, fence: float) -> list[Finding]:
    aspect = np.log(table.widths / table.heights)
    area = np.log(table.widths * table.heights)
    nothing = np.zeros(len(table), bool)
    odd = np.zeros(len(table), bool)
    for values in (aspect, area):
        low, high = _outside(values, nothing, fence)
        odd |= low | high
    common = _most_common_size(table)
    return [
        _finding(
            table,
            i,
            ODD_SIZE,
            float(
                abs(aspect[i] - np.median(aspect))
                + abs(area[i] - np.median(area))
            ),
            f"{table.widths[i]}x{table.heights[i]} pixels; most images are"
            f" {common}",
        )
        for i in np.flatnonzero(odd)
    ]


def _most_common_size(table: RawTable) -> str:
    sizes, counts = np.unique(
        np.stack([table.widths, table.heights], axis=1),
        axis=0,
        return_counts=True,
    )
    width, height = sizes[counts.argmax()]
    return f"{width}x{height}"


def _grayscale_among_colour(table: RawTable) -> list[Finding]:
    props = table.properties
    channel_stats = np.stack(
        [
            props[name]
            for name in (
                features.MEAN_RED,
                features.MEAN_GREEN,
                features.MEAN_BLUE,
                features.STD_RED,
                features.STD_GREEN,
                features.STD_BLUE,
            )
        ],
        axis=1,
    )
    means, stds = channel_stats[:, :3], channel_stats[:, 3:]
    gray = (table.channels == 1) | (
        (np.ptp(means, axis=1) < _GRAY_TOLERANCE)
        & (np.ptp(stds, axis=1) < _GRAY_TOLERANCE)
    )
    if gray.mean() >= 0.5:
        return []  # a grayscale dataset: nothing to flag
    share = f"{100 * (1 - gray.mean()):.0f}% of the images are in colour"
    return [
        _finding(table, i, GRAYSCALE, 1.0, f"grayscale; {share}")
        for i in np.flatnonzero(gray)
    ]


def _finding(
    table: RawTable, i: int, issue: str, score: float, detail: str
) -> Finding:
    return Finding(
        path=table.paths[i],
        sha256=table.sha256[i],
        split=split_of(table.paths[i]),
        issue=issue,
        score=round(score, 4),
        given_label=table.label_names[i],
        detail=detail,
    )
