"""The sections of params.yaml that configure the loop around a run:
fix, augment, autolabel, shift and compare; see core/settings.py."""

import dataclasses
from typing import Annotated

from core.settings import (
    AtLeast,
    Fraction,
    PathParam,
    Range,
    Seed,
)
from pipeline.settings import TransformConfig


def _up_to(high: float) -> Range:
    """At least 0 and below `high`: an augmentation operation's limit."""
    return Range(low=0, high=high, below=True)


@dataclasses.dataclass(frozen=True)
class FixConfig:
    # --accept-suggestions applies a suggested relabel or remove from
    # this confidence; the rest is left for review.
    min_confidence: Fraction
    # The data versions' changelog, relative to the git repository of
    # the image folder.
    changelog: str


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    seed: Seed
    rotation_degrees: Annotated[float, _up_to(180)]  # at most, either way
    zoom: Annotated[float, _up_to(1)]  # at most, in or out, as a fraction
    crop: Annotated[float, _up_to(0.5)]  # at most, of each side, a fraction
    brightness: Annotated[float, _up_to(1)]  # at most, either way, fraction
    cleanup_share: Fraction  # of new images that get a cleanup operation
    cleanup: TransformConfig  # the cleanup operations to draw from
    weak_share: Fraction  # of new images for the worst classes and slices


@dataclasses.dataclass(frozen=True)
class AutolabelConfig:
    # Accepted into train from this confidence.
    threshold: Annotated[float, Range(low=0, high=1, above=True)]
    review: PathParam  # the images left for review


@dataclasses.dataclass(frozen=True)
class ShiftConfig:
    permutations: Annotated[int, AtLeast(1)]  # of the two-sample test
    # Significance level of the tests.
    alpha: Annotated[float, Range(low=0, high=1, above=True, below=True)]
    clusters: Annotated[int, AtLeast(1)]  # of the new data
    output: PathParam


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    output: PathParam
    jensen_shannon_threshold: Fraction  # drift of a numeric feature
    infinity_norm_threshold: Fraction  # drift of a categorical feature
