"""What the population analysis finds, as plain data for the report."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Cluster:
    cluster: int
    sizes: dict[str, int]  # images per split
    labels: list[tuple[str, int]]  # the most frequent given labels
    mean_loss: float
    loss_ratio: float  # mean loss over that of all images
    error_rate: float
    # Property → Cohen's d of the cluster against the rest, the largest
    # in size first.
    effects: list[tuple[str, float]]
    under_represented: bool  # in train, against the other splits
    examples: list[str]  # paths of its highest-loss images


@dataclasses.dataclass(frozen=True)
class LossCorrelation:
    property: str
    rho: float  # Spearman's rank correlation with per-image loss
    p_value: float


@dataclasses.dataclass(frozen=True)
class ImagePoint:
    path: str
    split: str
    given_label: str
    predicted_label: str
    loss: float  # cross-entropy of the given label
    correct: bool
    x: float  # on the map, 0..1
    y: float
    cluster: int
    uniqueness: float  # 0..1, density.py
    representativeness: float  # 0..1


@dataclasses.dataclass(frozen=True)
class Population:
    points: list[ImagePoint]  # in the raw table's order
    clusters: list[Cluster]  # highest mean loss first
    correlations: list[LossCorrelation]  # strongest first
    top_insight: str  # in words; "" when no cluster stands out
    # Each image property (those not copies of another), by name, in
    # the points' order.
    properties: dict[str, list[float]]
