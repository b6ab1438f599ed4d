"""The sections of params.yaml that configure the loop around a run:
fix, augment, autolabel, shift and compare; see components/settings.py."""

import dataclasses

from components.settings import PathParam
from pipeline.settings import TransformConfig


@dataclasses.dataclass(frozen=True)
class FixConfig:
    # --accept-suggestions applies a suggested relabel or remove from
    # this confidence; the rest is left for review.
    min_confidence: float
    # The data versions' changelog, relative to the git repository of
    # the image folder.
    changelog: str


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    seed: int
    rotation_degrees: float  # at most, either way
    zoom: float  # at most, in or out, as a fraction
    crop: float  # at most, of each side, as a fraction
    brightness: float  # at most, either way, as a fraction
    cleanup_share: float  # of new images that get a cleanup operation
    cleanup: TransformConfig  # the cleanup operations to draw from
    weak_share: float  # of new images for the worst classes and slices


@dataclasses.dataclass(frozen=True)
class AutolabelConfig:
    threshold: float  # accepted into train from this confidence
    review: PathParam  # the images left for review


@dataclasses.dataclass(frozen=True)
class ShiftConfig:
    permutations: int  # of the two-sample test
    alpha: float  # significance level of the tests
    clusters: int  # of the new data, for under-represented regions
    output: PathParam


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    output: PathParam
    jensen_shannon_threshold: float  # drift of a numeric feature
    infinity_norm_threshold: float  # drift of a categorical feature
