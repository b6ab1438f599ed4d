"""Out-of-sample predicted probabilities: every image is predicted by a
model that never saw its label, so a wrong label cannot be memorised.

Two methods, chosen by name:
  pixel_probe: K-fold logistic regression on the model's input pixels,
    reduced by PCA. Seconds, not minutes.
  cross_train: K-fold cross-training of the fixed model itself, each
    fold for `epochs` epochs. About K-1 training runs.

The trained model's own predictions, or a probe on its embeddings, are
not out of sample: after its 100 epochs the fixed model has memorised
the flipped labels (see bench/RESULTS.md).
"""

import logging
import time

import numpy as np
import tensorflow as tf
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models.registry import ModelSpec, compile_model

PIXEL_PROBE = "pixel_probe"
CROSS_TRAIN = "cross_train"
METHODS = (PIXEL_PROBE, CROSS_TRAIN)

# Enough components for digit-like images; more only slows the probe.
_PCA_COMPONENTS = 64
# Strong regularisation: the probe must not fit the noisy labels either.
_PROBE_C = 0.1


def folds_of(
    labels: np.ndarray, *, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit indices, held-out indices) per fold, stratified by label."""
    _, counts = np.unique(labels, return_counts=True)
    if folds < 2 or counts.min() < folds:
        raise ValueError(
            f"label_issues.folds is {folds}, but it must be at least 2 and"
            f" at most the smallest class's {counts.min()} images; lower"
            " label_issues.folds in params.yaml."
        )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def pixel_probe_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    num_classes: int,
    folds: int,
    seed: int,
) -> np.ndarray:
    """[n, num_classes] out-of-fold probabilities of a linear probe."""
    pixels = images.reshape(len(images), -1)
    probe = make_pipeline(
        StandardScaler(),
        PCA(min(_PCA_COMPONENTS, *pixels.shape), random_state=seed),
        LogisticRegression(C=_PROBE_C, max_iter=2000),
    )
    probabilities = cross_val_predict(
        probe,
        pixels,
        labels,
        cv=folds_of(labels, folds=folds, seed=seed),
        method="predict_proba",
    )
    # Columns are the classes present; place them at their indices.
    full = np.zeros((len(labels), num_classes), np.float32)
    full[:, np.unique(labels)] = probabilities
    return full


def cross_train_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    spec: ModelSpec,
    num_classes: int,
    folds: int,
    epochs: int,
) -> np.ndarray:
    """[n, num_classes] probabilities, each fold's held-out images
    predicted by the fixed model trained on the other folds."""
    tf.keras.utils.set_random_seed(spec.seed)
    model = spec.build(num_classes)
    compile_model(model, spec)
    initial_weights = model.get_weights()
    probabilities = np.zeros((len(labels), num_classes), np.float32)
    for fold, (fit, held_out) in enumerate(
        folds_of(labels, folds=folds, seed=spec.seed), start=1
    ):
        started = time.monotonic()
        # One model, reset per fold: Keras traces its training step once,
        # not once per fold (20-30 s each on these CPUs).
        model.set_weights(initial_weights)
        for variable in model.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        model.fit(
            tf.data.Dataset.from_tensor_slices((images[fit], labels[fit]))
            .shuffle(len(fit), seed=spec.seed + fold)
            .batch(spec.batch_size)
            .prefetch(tf.data.AUTOTUNE),
            epochs=epochs,
            verbose=0,
        )
        probabilities[held_out] = model.predict(
            images[held_out], batch_size=256, verbose=0
        )
        logging.info(
            "Label issues: fold %d of %d trained on %d images for %d"
            " epochs in %.0f s.",
            fold,
            folds,
            len(fit),
            epochs,
            time.monotonic() - started,
        )
    return probabilities
