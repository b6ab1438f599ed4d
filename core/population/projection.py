"""A 2-D map of embeddings, for the report's scatter plot."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

# t-SNE reads at most this many principal components: the usual
# denoising step, and the neighbour search it makes fast.
_PCA_COMPONENTS = 50


def map_2d(embeddings: np.ndarray, seed: int) -> np.ndarray:
    """[n, 2] t-SNE coordinates in 0..1 of [n, d] `embeddings` (PCA for
    fewer than 5 images, where t-SNE's neighbourhoods are undefined).

    t-SNE from scikit-learn, not UMAP: it needs no dependency beyond
    scikit-learn, and on a few thousand images it takes seconds."""
    n = len(embeddings)
    if n < 5:
        components = min(2, n, embeddings.shape[1])
        points = np.zeros((n, 2))
        if n > 1:
            points[:, :components] = PCA(components).fit_transform(embeddings)
    else:
        reduced = PCA(
            min(_PCA_COMPONENTS, n, embeddings.shape[1]), random_state=seed
        ).fit_transform(embeddings)
        points = TSNE(
            2,
            perplexity=min(30.0, (n - 1) / 3),
            init="pca",
            random_state=seed,
        ).fit_transform(reduced)
    low, high = points.min(axis=0), points.max(axis=0)
    return (points - low) / np.where(high > low, high - low, 1.0)
