"""The sections of params.yaml that configure the embedded dataset and
the ETL, how a path in params.yaml is marked, and the ranges its numbers
must lie in.

Each layer keeps the sections it uses in its own settings.py (this one,
pipeline/settings.py, iteration/settings.py); dcp/config.py reads
params.yaml into them and checks each number against the Range beside
its field.
"""

import dataclasses
import math
from typing import Annotated, Literal

from core.dataset.embedded.digits import DefectCounts

# The tasks of core/task.py's TASK_MODULES; tests/test_task.py checks
# that the two agree.
TaskName = Literal["classification", "detection"]

# A path in params.yaml, relative to its folder unless absolute or a URL.
PathParam = Annotated[str, "path"]


@dataclasses.dataclass(frozen=True)
class Range:
    """The numbers a setting may take: from low to high, each end
    included unless `above` / `below` excludes it. `odd`: odd integers
    from low on, and 0 (off) if low allows it."""

    low: float = -math.inf
    high: float = math.inf
    above: bool = False  # low itself is out
    below: bool = False  # high itself is out
    odd: bool = False

    def __contains__(self, value: float) -> bool:
        if self.odd and value != 0 and value % 2 != 1:
            return False
        over_low = value > self.low if self.above else value >= self.low
        under_high = value < self.high if self.below else value <= self.high
        return over_low and under_high

    def describe(self, kind: type) -> str:
        """E.g. "an integer ≥ 1", "a number in (0, 1]"."""
        if self.odd:
            odd = f"an odd integer ≥ {max(self.low, 1):g}"
            return f"0 (off) or {odd}" if 0 in self else odd
        noun = "an integer" if kind is int else "a number"
        if self.high == math.inf:
            return f"{noun} {'>' if self.above else '≥'} {self.low:g}"
        if self.low == -math.inf:
            return f"{noun} {'<' if self.below else '≤'} {self.high:g}"
        return (
            f"{noun} in {'(' if self.above else '['}{self.low:g},"
            f" {self.high:g}{')' if self.below else ']'}"
        )


def AtLeast(low: float) -> Range:
    return Range(low=low)


def Between(low: float, high: float) -> Range:
    return Range(low=low, high=high)


Fraction = Annotated[float, Between(0, 1)]
Count = Annotated[int, AtLeast(0)]
Seed = Count  # numpy's generators take no negative seed


@dataclasses.dataclass(frozen=True)
class Ranges:
    """The ranges of the fields of a section whose class lives elsewhere
    (such as DefectCounts): field name → Range."""

    of_fields: dict[str, Range]


# Checked when params.yaml is read. Not imported from the ETL, which
# would tie reading params.yaml to Beam; tests/test_config.py checks that
# the two agree.
OnBadFile = Literal["skip", "fail"]  # etl.ON_BAD_FILE_CHOICES


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    output: PathParam
    seed: Seed
    image_size: Annotated[int, AtLeast(8)]  # the scans are 8 x 8
    val_fraction: Fraction
    test_fraction: Fraction
    unlabeled_fraction: Fraction
    defects: Annotated[
        DefectCounts,
        Ranges(
            {
                "label_flip_fraction": Between(0, 1),
                "exact_duplicates": AtLeast(0),
                "near_duplicates": AtLeast(0),
                "blank_images": AtLeast(0),
                "broken_files": AtLeast(0),
                "no_class_images": AtLeast(0),
            }
        ),
    ]

    def __post_init__(self) -> None:
        held_out = self.val_fraction + self.test_fraction
        if held_out + self.unlabeled_fraction >= 1:
            raise ValueError(
                "prepare.val_fraction + test_fraction + unlabeled_fraction"
                f" is {held_out + self.unlabeled_fraction:g}; it must be"
                " below 1, as train takes the rest"
            )


@dataclasses.dataclass(frozen=True)
class EtlConfig:
    data: PathParam
    output: PathParam
    splits: tuple[str, ...]
    on_bad_file: OnBadFile
    images_per_shard: Annotated[int, AtLeast(1)]
    parallel_from_images: Annotated[int, AtLeast(1)]
    beam_args: tuple[str, ...]
    # Class folder name → the label its images get (super-categories).
    labels: dict[str, str]
