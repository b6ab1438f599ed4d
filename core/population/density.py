"""Uniqueness and representativeness of each image, from the density of
the embedding around it.

- uniqueness: how far the image is from its nearest other image, as a
  percentile (1: the most isolated). Near 0, a near-copy of another
  image: redundant.
- representativeness: how close its nearest neighbours crowd around it,
  as a percentile (1: the densest region). High, typical of much of the
  data; low, a rare kind of image.
"""

import numpy as np
from scipy.stats import rankdata
from sklearn.neighbors import NearestNeighbors

# Neighbours whose mean distance measures the density around an image.
_NEIGHBOURS = 10


def uniqueness_and_representativeness(
    embeddings: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Two [n] arrays in 0..1 (cosine distances in the embedding)."""
    n = len(embeddings)
    if n < 2:
        return np.ones(n), np.ones(n)
    k = min(_NEIGHBOURS, n - 1)
    distances, _ = (
        NearestNeighbors(n_neighbors=k + 1, metric="cosine")
        .fit(embeddings)
        .kneighbors(embeddings)
    )
    # Column 0 is the image itself (or an exact copy, at distance 0).
    nearest = distances[:, 1]
    crowding = -distances[:, 1:].mean(axis=1)
    return _percentile(nearest), _percentile(crowding)


def _percentile(values: np.ndarray) -> np.ndarray:
    return (rankdata(values) - 1) / max(len(values) - 1, 1)
