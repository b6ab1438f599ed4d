"""How many new images go where: arithmetic on counts, no files.

The budget caps train + val. Of the images still allowed, `weak_share`
go to the classes and image-property slices the last evaluation found
below its overall accuracy, in proportion to how far below; the rest
fill the smallest classes first.
"""

import dataclasses
import heapq
import math
from collections.abc import Collection, Hashable, Mapping
from typing import TypeVar

from components.quality_report.report_data import SliceRow

CLASS = "class"
SLICE = "slice"

_K = TypeVar("_K", bound=Hashable)


@dataclasses.dataclass(frozen=True)
class Weakness:
    """What the last evaluation found."""

    source: str  # the evaluation it comes from
    accuracy: float  # overall
    per_class_accuracy: dict[str, float]
    slices: tuple[SliceRow, ...]


@dataclasses.dataclass(frozen=True)
class Target:
    """A class or slice below the overall accuracy, and its new images."""

    kind: str  # CLASS or SLICE
    name: str  # the class, or the slice as "brightness_bucket=0"
    accuracy: float
    count: int

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


def new_image_count(*, budget: int, train: int, val: int) -> int:
    """How many images fit into the budget; ValueError if none do."""
    if train + val >= budget:
        raise ValueError(
            f"train + val already hold {train + val:,} images ({train:,} +"
            f" {val:,}), the budget is {budget:,}: nothing to add; raise"
            " --budget, or remove images first (dcp fix)"
        )
    return budget - train - val


def weak_count(new_images: int, weak_share: float) -> int:
    """The new images aimed at weak classes and slices."""
    if not 0 <= weak_share <= 1:
        raise ValueError(
            f"augment.weak_share in params.yaml is {weak_share}; it must be"
            " between 0 and 1"
        )
    return round(new_images * weak_share)


def slice_name(row: SliceRow) -> str:
    return f"{row.feature}={row.value}"


def weak_targets(
    weakness: Weakness,
    count: int,
    *,
    classes: Collection[str],
    slices: Collection[str],
) -> list[Target]:
    """`count` new images over the `classes` and `slices` (by
    slice_name) that the evaluation found below its overall accuracy,
    in proportion to the gap; worst first, those given none left out."""
    gaps: dict[tuple[str, str], float] = {}
    accuracy: dict[tuple[str, str], float] = {}
    for name, value in weakness.per_class_accuracy.items():
        if name in classes and value < weakness.accuracy:
            gaps[CLASS, name] = weakness.accuracy - value
            accuracy[CLASS, name] = value
    for row in weakness.slices:
        name = slice_name(row)
        if name in slices and row.accuracy < weakness.accuracy:
            gaps[SLICE, name] = weakness.accuracy - row.accuracy
            accuracy[SLICE, name] = row.accuracy
    if not gaps:
        return []
    counts = largest_remainder(count, gaps)
    return [
        Target(kind, name, accuracy[kind, name], counts[kind, name])
        for kind, name in sorted(gaps, key=lambda key: (-gaps[key], key))
        if counts[kind, name]
    ]


def balance(count: int, class_counts: Mapping[str, int]) -> dict[str, int]:
    """`count` new images per class, each going to the class that has
    the fewest images at the time (ties: the first class by name)."""
    if not class_counts:
        raise ValueError("no class to balance: the train split is empty")
    added = dict.fromkeys(class_counts, 0)
    smallest = [(n, name) for name, n in sorted(class_counts.items())]
    heapq.heapify(smallest)
    for _ in range(count):
        n, name = heapq.heappop(smallest)
        added[name] += 1
        heapq.heappush(smallest, (n + 1, name))
    return added


def largest_remainder(
    total: int, weights: Mapping[_K, float]
) -> dict[_K, int]:
    """`total` split in proportion to positive `weights`, as whole
    numbers that add up to `total` exactly (Hamilton's method)."""
    weight_sum = math.fsum(weights.values())
    if weight_sum <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"weights must be positive, got {dict(weights)}")
    shares = {key: total * w / weight_sum for key, w in weights.items()}
    counts = {key: math.floor(share) for key, share in shares.items()}
    by_remainder = sorted(
        shares, key=lambda key: counts[key] - shares[key]
    )  # largest remainder first; sorted() is stable for ties
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts
