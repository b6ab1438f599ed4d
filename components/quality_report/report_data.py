"""What the data-quality report shows: the flagged images (also written
as issues.csv; their contract is core/findings/finding.py) and the run's
error analysis, as plain data."""

import dataclasses
from collections.abc import Mapping, Sequence

from core.findings.finding import Finding
from core.population.points import Population
from core.task import Misclassified


@dataclasses.dataclass(frozen=True)
class SliceRow:
    feature: str  # e.g. "brightness_bucket"
    value: int  # the bucket
    accuracy: float
    examples: int


@dataclasses.dataclass(frozen=True)
class TestFigures:
    """The model on the test split, which the loop holds fixed."""

    examples: int
    accuracy: float  # the Keras model's
    int8_accuracy: float  # the TFLite int8 model's
    per_class_accuracy: Mapping[str, float]
    slices: Sequence[SliceRow]  # worst first


@dataclasses.dataclass(frozen=True)
class PropertyHistogram:
    """One image property (features.PROPERTIES) binned alike in every
    split."""

    name: str
    edges: Sequence[float]  # the bins' edges, one more than counts
    counts: Mapping[str, Sequence[int]]  # split -> images per bin


@dataclasses.dataclass(frozen=True)
class ReportData:
    title: str  # e.g. "digits, run 2026-11-24T08:30:00"
    class_names: Sequence[str]
    findings: Sequence[Finding]
    # ETL split folder -> class name -> images
    counts: Mapping[str, Mapping[str, int]]
    budget: int  # the cap on train + val images
    accuracy: float | None  # overall eval accuracy, None if no evaluation
    per_class_accuracy: Mapping[str, float]
    confusion: Mapping[tuple[str, str], int]  # (actual, predicted) -> n
    slices: Sequence[SliceRow]  # worst first
    misclassified: Sequence[Misclassified]  # eval images, worst first
    thumbnails: Mapping[str, bytes]  # path -> PNG bytes
    notes: Sequence[str] = ()  # how each analysis ran, in plain words
    test: TestFigures | None = None  # None without a test split
    property_histograms: Sequence[PropertyHistogram] = ()
    # The map, clusters and insights; None when not computed.
    population: Population | None = None
    # path -> a small PNG of every image on the map, for its tooltip
    map_thumbnails: Mapping[str, bytes] = dataclasses.field(
        default_factory=dict
    )
