"""Two-sample tests of a new image set against a training set: drift of
each image property, a test in the model's embedding space, regions of
the new data that training under-represents, and which candidate images
would close the gap."""

import dataclasses
from collections.abc import Mapping

import numpy as np
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The kernel matrix of the embedding test grows with the square of the
# images: beyond this many a side, a random sample of them is tested.
MAX_TEST_SAMPLE = 2000
# A cluster is under-represented when its share of the new data is at
# least this many times its share of train (and significantly so).
UNDER_REPRESENTED_RATIO = 2.0
CLUSTER_EXAMPLES = 6  # new images shown per cluster, nearest its centre
NEIGHBOURS = 5  # of a candidate, in train and in the new data
# A candidate is a near-copy of another when they lie closer than this
# quantile of the distances between train images and their nearest
# neighbours: labelling both adds little.
NEAR_COPY_QUANTILE = 0.05
_FOLDS = 5


@dataclasses.dataclass(frozen=True)
class PropertyDrift:
    name: str
    statistic: float  # Kolmogorov-Smirnov D: the effect size, 0..1
    p_value: float  # adjusted for testing every property (Benjamini-Hochberg)
    train_median: float
    new_median: float
    drifted: bool


@dataclasses.dataclass(frozen=True)
class EmbeddingTest:
    mmd2: float  # squared maximum mean discrepancy, RBF kernel
    p_value: float  # of a permutation test
    permutations: int
    gamma: float  # of the RBF kernel, by the median heuristic
    domain_auc: float  # cross-validated AUC of a train-vs-new classifier


@dataclasses.dataclass(frozen=True)
class Cluster:
    index: int
    train_count: int
    new_count: int
    train_share: float
    new_share: float
    p_value: float  # binomial: more new images than train's share explains
    under_represented: bool
    examples: list[int]  # indices into the new images, nearest the centre


@dataclasses.dataclass(frozen=True)
class Clustering:
    clusters: list[Cluster]
    model: KMeans  # assigns candidates to the clusters


def property_drift(
    train: Mapping[str, np.ndarray],
    new: Mapping[str, np.ndarray],
    *,
    alpha: float,
) -> list[PropertyDrift]:
    """A Kolmogorov-Smirnov test per property of `train`, p-values
    adjusted for the number of properties; the largest drift first."""
    names = list(train)
    tests = [stats.ks_2samp(train[name], new[name]) for name in names]
    adjusted = stats.false_discovery_control(
        [test.pvalue for test in tests], method="bh"
    )
    drifts = [
        PropertyDrift(
            name=name,
            statistic=float(test.statistic),
            p_value=float(p_value),
            train_median=float(np.median(train[name])),
            new_median=float(np.median(new[name])),
            drifted=bool(p_value < alpha),
        )
        for name, test, p_value in zip(names, tests, adjusted, strict=True)
    ]
    return sorted(drifts, key=lambda drift: -drift.statistic)


def embedding_test(
    train: np.ndarray,
    new: np.ndarray,
    *,
    permutations: int,
    seed: int = 0,
) -> EmbeddingTest:
    """Maximum mean discrepancy between the two sets of embeddings, with
    an RBF kernel whose width is the median distance, and its p-value by
    permuting which set each embedding belongs to."""
    if len(train) < 2 or len(new) < 2:
        raise ValueError(
            f"the embedding test needs 2 or more images a side, got"
            f" {len(train)} train and {len(new)} new"
        )
    if permutations < 1:
        raise ValueError(
            f"shift.permutations {permutations}: must be 1 or more, e.g. 1000"
        )
    rng = np.random.default_rng(seed)
    train, new = _sample(train, rng), _sample(new, rng)
    pooled = np.concatenate([train, new])
    squared = euclidean_distances(pooled, squared=True)
    median = float(np.median(squared[np.triu_indices(len(pooled), 1)]))
    gamma = 1.0 / median if median > 0 else 1.0
    kernel = rbf_kernel(pooled, gamma=gamma)
    is_new = np.arange(len(pooled)) >= len(train)
    shuffled = np.stack(
        [rng.permutation(is_new) for _ in range(permutations)], axis=1
    )
    # MMD² = wᵀKw with w = 1/m on new and -1/n on train embeddings.
    weights = np.where(
        np.column_stack([is_new, shuffled]), 1 / len(new), -1 / len(train)
    )
    mmd2 = np.einsum("ip,ip->p", weights, kernel @ weights)
    p_value = (1 + np.count_nonzero(mmd2[1:] >= mmd2[0])) / (1 + permutations)
    return EmbeddingTest(
        mmd2=float(mmd2[0]),
        p_value=float(p_value),
        permutations=permutations,
        gamma=gamma,
        domain_auc=domain_auc(train, new, seed=seed),
    )


def domain_auc(train: np.ndarray, new: np.ndarray, *, seed: int) -> float:
    """How well a logistic regression tells new from train embeddings,
    out of fold: 0.5 is not at all, 1 is perfectly."""
    embeddings = np.concatenate([train, new])
    is_new = np.repeat([0, 1], [len(train), len(new)])
    folds = min(_FOLDS, len(train), len(new))
    scores = cross_val_predict(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        embeddings,
        is_new,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method="predict_proba",
    )[:, 1]
    return float(roc_auc_score(is_new, scores))


def cluster_shares(
    train: np.ndarray,
    new: np.ndarray,
    *,
    clusters: int,
    alpha: float,
    seed: int = 0,
) -> Clustering:
    """KMeans on the joint embeddings; a cluster whose share of the new
    images exceeds its share of train images UNDER_REPRESENTED_RATIO
    times, significantly (binomial test, Bonferroni over the clusters),
    is a region of the new data that training under-represents."""
    clusters = min(clusters, len(train) + len(new))
    kmeans = KMeans(clusters, n_init=10, random_state=seed)
    assigned = kmeans.fit_predict(np.concatenate([train, new]))
    train_of, new_of = assigned[: len(train)], assigned[len(train) :]
    distances = kmeans.transform(new)
    found = []
    for index in range(clusters):
        train_count = int(np.count_nonzero(train_of == index))
        members = np.flatnonzero(new_of == index)
        # Laplace smoothing: a cluster without train images has a small
        # share, not none.
        expected = (train_count + 1) / (len(train) + clusters)
        p_value = stats.binomtest(
            len(members), len(new), expected, alternative="greater"
        ).pvalue
        train_share = train_count / len(train)
        new_share = len(members) / len(new)
        nearest = members[np.argsort(distances[members, index])]
        found.append(
            Cluster(
                index=index,
                train_count=train_count,
                new_count=len(members),
                train_share=train_share,
                new_share=new_share,
                p_value=float(p_value),
                under_represented=bool(
                    new_share >= UNDER_REPRESENTED_RATIO * train_share
                    and p_value < alpha / clusters
                ),
                examples=[int(i) for i in nearest[:CLUSTER_EXAMPLES]],
            )
        )
    found.sort(key=lambda c: -(c.new_share - c.train_share))
    return Clustering(found, kmeans)


def closeness_to_new(
    train: np.ndarray, new: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, distance to new, distance to train) of each candidate: the
    distance to its k-th nearest new and train embedding, and the log of
    their ratio, positive where the new data is denser than train."""
    to_new = _kth_distance(new, candidates)
    to_train = _kth_distance(train, candidates)
    tiny = np.finfo(np.float64).tiny
    score = np.log(np.maximum(to_train, tiny) / np.maximum(to_new, tiny))
    return score, to_new, to_train


def near_copies(
    train: np.ndarray, candidates: np.ndarray, order: np.ndarray
) -> np.ndarray:
    """For each candidate, the index of a candidate ranked before it (in
    `order`, best first) that it nearly copies, or -1; a near-copy of a
    near-copy is judged against the ones kept."""
    if len(train) < 2 or not len(candidates):
        return np.full(len(candidates), -1)
    nearest = NearestNeighbors(n_neighbors=2).fit(train).kneighbors(train)
    radius = float(np.quantile(nearest[0][:, 1], NEAR_COPY_QUANTILE))
    neighbours = (
        NearestNeighbors(radius=radius)
        .fit(candidates)
        .radius_neighbors(candidates, return_distance=False)
    )
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    copy_of = np.full(len(candidates), -1)
    for i in order:
        kept = [j for j in neighbours[i] if rank[j] < rank[i]]
        kept = [j for j in kept if copy_of[j] == -1]
        if kept:
            copy_of[i] = min(kept, key=lambda j: rank[j])
    return copy_of


def project_2d(
    train: np.ndarray, new: np.ndarray, others: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PCA fitted on train and new embeddings: their 2-d coordinates,
    those of `others`, and the variance ratio of the two components."""
    pca = PCA(2, random_state=0).fit(np.concatenate([train, new]))
    train_2d, new_2d, others_2d = (
        pca.transform(x) if len(x) else np.empty((0, 2))
        for x in (train, new, others)
    )
    return train_2d, new_2d, others_2d, pca.explained_variance_ratio_


def _kth_distance(reference: np.ndarray, points: np.ndarray) -> np.ndarray:
    k = min(NEIGHBOURS, len(reference))
    neighbours = NearestNeighbors(n_neighbors=k).fit(reference)
    return neighbours.kneighbors(points)[0][:, -1]


def _sample(embeddings: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(embeddings) <= MAX_TEST_SAMPLE:
        return embeddings
    return embeddings[rng.choice(len(embeddings), MAX_TEST_SAMPLE, False)]
