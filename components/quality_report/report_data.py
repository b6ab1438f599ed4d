"""What the data-quality report shows: the flagged images (also written
as issues.csv) and the run's error analysis, as plain data."""

import dataclasses
from collections.abc import Mapping, Sequence

from components.population.points import Population

# The kinds of issue an image can be flagged with, in report order.
LABEL_ISSUE = "label_issue"
EXACT_DUPLICATE = "exact_duplicate"
NEAR_DUPLICATE = "near_duplicate"
BROKEN_FILE = "broken_file"
BLANK = "blank"
DARK = "dark"
LIGHT = "light"
BLURRY = "blurry"
ODD_SIZE = "odd_size"
GRAYSCALE = "grayscale"
OUTLIER = "outlier"
ISSUE_TYPES = (
    LABEL_ISSUE,
    EXACT_DUPLICATE,
    NEAR_DUPLICATE,
    BROKEN_FILE,
    BLANK,
    DARK,
    LIGHT,
    BLURRY,
    ODD_SIZE,
    GRAYSCALE,
    OUTLIER,
)

# issues.csv, one row per flagged image and issue; a reviewer fills
# `action` with accept, relabel, remove or keep.
ISSUE_COLUMNS = (
    "path",
    "sha256",
    "split",
    "issue",
    "score",
    "given_label",
    "suggested_label",
    "duplicate_of",
    "detail",
    "suggested_action",
    "confidence",
    "action",
)
# Columns an issues.csv written before suggested actions lacks.
OPTIONAL_COLUMNS = ("suggested_action", "confidence")
ACTIONS = ("accept", "relabel", "remove", "keep")
# What the report suggests for an image: relabel to suggested_label,
# remove it (it belongs to no class, or is a copy or unreadable), or let
# a person look.
RELABEL = "relabel"
REMOVE = "remove"
REVIEW = "review"
SUGGESTED_ACTIONS = (RELABEL, REMOVE, REVIEW)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One flagged image. `path` is relative to the dataset root, as in
    the ETL manifest; `score` is higher for more certain issues (0..1
    where the analysis has a natural scale); `detail` says why in words,
    e.g. "same bytes as train/7/0012.png (labels differ: 1 vs 7)"."""

    path: str
    sha256: str
    split: str  # ETL split folder: train, val or test
    issue: str  # one of ISSUE_TYPES
    score: float
    given_label: str
    suggested_label: str = ""  # empty where the analysis has none
    duplicate_of: str = ""  # the image a duplicate copies
    detail: str = ""
    suggested_action: str = ""  # one of SUGGESTED_ACTIONS, or "" if none
    # How sure the suggestion is, 0..1: the estimated chance that it is
    # right (suggested_actions.py says how each kind is estimated).
    confidence: float = 0.0


@dataclasses.dataclass(frozen=True)
class Misclassified:
    path: str
    given_label: str
    predicted_label: str
    confidence: float  # the predicted label's probability


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
