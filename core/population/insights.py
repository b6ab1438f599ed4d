"""Clusters of the embedding that explain the errors, and the image
properties that go with loss ("insights")."""

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import spearmanr
from sklearn.cluster import KMeans

from core.population.points import Cluster, LossCorrelation

TRAIN = "train"
# k-means clusters of the embedding that the report ranks.
DEFAULT_CLUSTERS = 8
# A cluster is under-represented in train when its share of train is
# below this fraction of its share of the other splits.
_UNDER_REPRESENTED = 0.5
# ... and the other splits hold at least this many of its images.
_MIN_HELD_OUT = 5
_TOP_EFFECTS = 3
# Cohen's d from which a property describes a cluster ("medium").
_NOTABLE_EFFECT = 0.5
# Named first when a cluster's share of the held-out images is told.
_EVAL_SPLITS = ("val", "eval")
_TOP_LABELS = 3
_EXAMPLES = 6


def cluster_images(embeddings: np.ndarray, clusters: int, seed: int):
    """[n] k-means cluster of each embedding (fewer clusters than
    `clusters` for fewer images)."""
    k = max(1, min(clusters, len(embeddings)))
    return KMeans(k, n_init=4, random_state=seed).fit_predict(embeddings)


def rank_clusters(
    assignment: np.ndarray,
    *,
    loss: np.ndarray,
    correct: np.ndarray,
    split: np.ndarray,
    labels: Sequence[str],
    properties: Mapping[str, np.ndarray],
    paths: Sequence[str],
) -> list[Cluster]:
    """The clusters of `assignment`, highest mean loss first."""
    average = float(loss.mean()) or 1.0
    held_out = split != TRAIN
    clusters = []
    for c in np.unique(assignment):
        inside = assignment == c
        train_share = _share(inside, ~held_out)
        held_out_share = _share(inside, held_out)
        order = np.argsort(-loss[inside], kind="stable")
        clusters.append(
            Cluster(
                cluster=int(c),
                sizes=dict(sorted(Counter(split[inside].tolist()).items())),
                labels=Counter(
                    np.asarray(labels)[inside].tolist()
                ).most_common(_TOP_LABELS),
                mean_loss=float(loss[inside].mean()),
                loss_ratio=float(loss[inside].mean()) / average,
                error_rate=float(1.0 - correct[inside].mean()),
                effects=_effects(inside, properties),
                under_represented=bool(
                    np.sum(inside & held_out) >= _MIN_HELD_OUT
                    and train_share < _UNDER_REPRESENTED * held_out_share
                ),
                examples=[
                    np.asarray(paths)[inside][i] for i in order[:_EXAMPLES]
                ],
            )
        )
    return sorted(clusters, key=lambda c: -c.mean_loss)


def loss_correlations(
    loss: np.ndarray, properties: Mapping[str, np.ndarray]
) -> list[LossCorrelation]:
    """Each property's rank correlation with per-image loss, strongest
    first; properties constant over the images are left out."""
    found = []
    for name, values in properties.items():
        if np.ptp(values) == 0 or np.ptp(loss) == 0:
            continue
        rho, p_value = spearmanr(values, loss)
        found.append(LossCorrelation(name, float(rho), float(p_value)))
    return sorted(found, key=lambda c: -abs(c.rho))


def describe(cluster: Cluster, split_sizes: Mapping[str, int]) -> str:
    """The cluster in words, e.g. "cluster 3 (mostly ii and iii, low
    contrast, 16% of val) has 1.6 times the average loss"."""
    labels = [name for name, _ in cluster.labels[:2]]
    traits = [f"mostly {' and '.join(labels)}"] + [
        f"{'high' if d > 0 else 'low'} {name.replace('_', ' ')}"
        for name, d in cluster.effects[:1]
        if abs(d) >= _NOTABLE_EFFECT
    ]
    held_out = sorted(
        (s for s in split_sizes if s != TRAIN and cluster.sizes.get(s)),
        key=lambda s: (s not in _EVAL_SPLITS, s),
    )
    traits += [
        f"{cluster.sizes[s] / split_sizes[s]:.0%} of {s}" for s in held_out[:1]
    ]
    return (
        f"cluster {cluster.cluster} ({', '.join(traits)}) has"
        f" {cluster.loss_ratio:.1f} times the average loss"
    )


def distinct_properties(
    properties: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """`properties` without those equal to an earlier one: a gray image's
    mean red, green and blue are its brightness."""
    kept: dict[str, np.ndarray] = {}
    for name, values in properties.items():
        if not any(np.array_equal(values, v) for v in kept.values()):
            kept[name] = values
    return kept


def _share(inside: np.ndarray, among: np.ndarray) -> float:
    return float(np.sum(inside & among) / max(np.sum(among), 1))


def _effects(
    inside: np.ndarray, properties: Mapping[str, np.ndarray]
) -> list[tuple[str, float]]:
    """Cohen's d of each property, the cluster against the rest."""
    if inside.all():
        return []
    effects = []
    for name, values in properties.items():
        a, b = values[inside], values[~inside]
        pooled = np.sqrt((a.var() + b.var()) / 2)
        if pooled > 0:
            effects.append((name, float((a.mean() - b.mean()) / pooled)))
    return sorted(effects, key=lambda e: -abs(e[1]))[:_TOP_EFFECTS]
