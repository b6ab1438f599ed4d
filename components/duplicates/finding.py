"""Exact duplicates by content hash; near-duplicates by pixels.

Near-duplicates are compared as 32x32 grayscale images with their mean
removed and scaled to unit length, so a brightness or contrast change
does not hide a copy, and at every shift of up to one pixel, so neither
does a small crop or shift. Two images closer than `max_distance` (the
Euclidean distance of those unit vectors, 0..2) are near-duplicates.
Where a brightness change clips the strokes at white, the copy is no
longer an exact affine image of its original: on the digits such copies
lie up to about 0.15 away, distinct digits from about 0.16.
Perceptual hashes were tried first: on hand-written digits, different
digits of one class hash as close as a 1-pixel shift of one digit.
"""

import dataclasses
import io
from collections import defaultdict

import numpy as np
from PIL import Image
from sklearn.neighbors import NearestNeighbors

from core.findings.finding import Finding
from core.findings.types import EXACT_DUPLICATE, NEAR_DUPLICATE
from core.readers.example_tables import RawTable, split_of

_SIZE = 32
_SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
# Splits in the order a duplicate is kept in: the copy in the first
# split is the original, later copies are flagged.
_SPLIT_ORDER = {"train": 0, "val": 1, "test": 2}


@dataclasses.dataclass(frozen=True)
class DuplicatePair:
    original: int  # index into the table
    copy: int
    distance: float  # 0 for identical bytes, up to 2
    exact: bool


def normalised_pixels(pngs: list[bytes]) -> np.ndarray:
    """[n, 32, 32] grayscale images, mean 0 and unit length; a blank
    image stays all zeros."""
    pixels = np.zeros((len(pngs), _SIZE, _SIZE), np.float32)
    for i, png in enumerate(pngs):
        with Image.open(io.BytesIO(png)) as image:
            gray = image.convert("L").resize((_SIZE, _SIZE))
            pixels[i] = np.asarray(gray, np.float32)
    return _unit(pixels)


def find_duplicates(
    table: RawTable, pixels: np.ndarray, *, max_distance: float
) -> list[DuplicatePair]:
    """Pairs of identical files, then pairs of images within
    `max_distance` of each other (`pixels` from normalised_pixels), each
    pair once; blank images are left to the outlier analysis."""
    order = _keep_order(table)
    pairs = _exact_pairs(table, order)
    exact_copies = {pair.copy for pair in pairs}
    seen = {(pair.original, pair.copy) for pair in pairs}
    for a, b, distance in _shifted_neighbours(pixels, max_distance):
        original, copy = sorted((a, b), key=order.__getitem__)
        if copy in exact_copies or (original, copy) in seen:
            continue
        seen.add((original, copy))
        pairs.append(DuplicatePair(original, copy, distance, exact=False))
    return pairs


def duplicate_findings(
    table: RawTable, pairs: list[DuplicatePair]
) -> list[Finding]:
    """One finding per copy: the later image of each pair."""
    findings = []
    for pair in pairs:
        original, copy = pair.original, pair.copy
        splits = (split_of(table.paths[original]), split_of(table.paths[copy]))
        detail = (
            f"{'same bytes as' if pair.exact else 'looks like'}"
            f" {table.paths[original]}"
        )
        if splits[0] != splits[1]:
            detail += f" (leak {splits[0]}→{splits[1]})"
        given = table.label_names[copy]
        other = table.label_names[original]
        if given != other:
            detail += f"; labels differ: {given} here, {other} there"
        findings.append(
            Finding(
                path=table.paths[copy],
                sha256=table.sha256[copy],
                split=splits[1],
                issue=EXACT_DUPLICATE if pair.exact else NEAR_DUPLICATE,
                score=1.0 - pair.distance / 2,
                given_label=given,
                # The copy's label, where it differs: what the pair says
                # this image is, in the labels the ETL gave (etl.labels).
                suggested_label=other if other != given else "",
                duplicate_of=table.paths[original],
                detail=detail,
            )
        )
    return findings


def _keep_order(table: RawTable) -> list[tuple[int, str]]:
    return [
        (_SPLIT_ORDER.get(split_of(path), len(_SPLIT_ORDER)), path)
        for path in table.paths
    ]


def _exact_pairs(
    table: RawTable, order: list[tuple[int, str]]
) -> list[DuplicatePair]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, digest in enumerate(table.sha256):
        groups[digest].append(i)
    pairs = []
    for members in groups.values():
        first, *copies = sorted(members, key=order.__getitem__)
        pairs += [DuplicatePair(first, copy, 0, exact=True) for copy in copies]
    return pairs


def _unit(pixels: np.ndarray) -> np.ndarray:
    flat = pixels.reshape(len(pixels), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    return (flat / np.where(norms > 1e-6, norms, np.inf)).reshape(pixels.shape)


def _shifted_neighbours(
    pixels: np.ndarray, max_distance: float
) -> list[tuple[int, int, float]]:
    """(a, b, distance) with a < b: the closest distance between image a
    shifted by up to a pixel and image b, where within max_distance."""
    blank = ~pixels.reshape(len(pixels), -1).any(axis=1)
    kept = np.flatnonzero(~blank)
    if len(kept) < 2:
        return []
    index = NearestNeighbors().fit(pixels[kept].reshape(len(kept), -1))
    closest: dict[tuple[int, int], float] = {}
    for shift in _SHIFTS:
        # The pixels rolled in at the edge are background in most images.
        shifted = np.roll(pixels[kept], shift, axis=(1, 2))
        distances, neighbours = index.radius_neighbors(
            _unit(shifted).reshape(len(kept), -1), radius=max_distance
        )
        for a, row_d, row_n in zip(kept, distances, neighbours, strict=True):
            for d, n in zip(row_d, row_n, strict=True):
                b = int(kept[n])
                if a != b:
                    key = (min(a, b), max(a, b))
                    closest[key] = min(float(d), closest.get(key, 2.0))
    return [(a, b, d) for (a, b), d in sorted(closest.items())]
