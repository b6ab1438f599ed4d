"""The auditor: a small CNN trained K-fold on the ink crops, with online
augmentation, to predict every image out of sample.

Its evidence on a held-out image is the mean of two views of the same
fold model: its softmax averaged over augmented copies of the image
(test-time augmentation), and the labels of the image's nearest
neighbours among the images it learnt from, in its embedding. On
dcai-roman, against human review, the mean ranks label issues clearly
better than the plain softmax at no extra training (bench/RESULTS.md):
a scan the network half-recognises can still sit among another class.

It is not the fixed model: the fixed model is what the user trains, the
auditor is what checks the labels. On dcai-roman, scored against human
review, it ranks label issues far better than K-fold training of the
fixed model on the squeezed scans, in about the time of one training run
of the fixed model (bench/RESULTS.md).
"""

import logging
import time

import numpy as np
import tensorflow as tf
from cleanlab.outlier import OutOfDistribution
from sklearn.neighbors import NearestNeighbors

from tasks.classification.label_issues.folds import FoldPlan

# Three blocks of two 3x3 convolutions. Half these widths saves a third
# of the time but ranked dcai-roman's label issues worse (bench/).
_WIDTHS = (32, 64, 128)
_BATCH = 32
_LEARNING_RATE = 1e-3
_DROPOUT = 0.3
# Batch-norm statistics follow the data within a few dozen steps, so a
# fold of a few hundred images predicts with settled statistics too
# (Keras's 0.99 leaves them near their initial values on small data).
_NORM_MOMENTUM = 0.9
# Small rotations, shifts and zooms: a numeral stays the same numeral,
# and the auditor cannot memorise a wrong label pixel for pixel.
_ROTATION = 0.05  # of a full turn
_SHIFT = 0.08
_ZOOM = 0.1
# Augmented copies of each held-out image whose softmax is averaged.
_TEST_VIEWS = 8
# Nearest neighbours whose labels vote. Against human review on
# dcai-roman, 20 and 30 ranked alike, 10 and 5 worse.
_NEIGHBOURS = 20

_AUGMENTATION = "augmentation"
_EMBEDDING = "embedding"
# The views of each held-out image that the probabilities combine.
SOFTMAX = "softmax"
AUGMENTED_SOFTMAX = "augmented softmax"
NEIGHBOURS = "neighbours' labels"


def auditor_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    plan: FoldPlan,
    *,
    num_classes: int,
    epochs: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Out of sample, for every judged image (other rows stay 0):
    [n, num_classes] probabilities, each image judged by an auditor
    trained on the other folds (the mean of the AUGMENTED_SOFTMAX and
    NEIGHBOURS views); [n] atypicality, how far the image lies from the
    images that auditor learnt from, in its embedding space (cleanlab's
    k-nearest-neighbour outlier score as a distance, -log(score)): an
    image of no class lies far from every class; and each view's own
    [n, num_classes] probabilities, by name (SOFTMAX, the plain one, is
    there to compare).

    Args:
      images: [n, size, size, 1] ink crops (ink_images.ink_crops).
      labels: [n] class indices.
      plan: the folds (folds.plan_folds).
      num_classes: the width of the output.
      epochs: per fold.
      seed: of the weights, the augmentation and the shuffling.
    """
    views = {
        view: np.zeros((len(labels), num_classes), np.float32)
        for view in (SOFTMAX, AUGMENTED_SOFTMAX, NEIGHBOURS)
    }
    atypicality = np.zeros(len(labels))
    for fold, (fit, held_out) in enumerate(plan.folds, start=1):
        started = time.monotonic()
        tf.keras.utils.set_random_seed(seed + fold)
        model = build_auditor(images.shape[1:], num_classes)
        model.fit(
            tf.data.Dataset.from_tensor_slices((images[fit], labels[fit]))
            .shuffle(len(fit), seed=seed + fold)
            .batch(_BATCH)
            .prefetch(tf.data.AUTOTUNE),
            epochs=epochs,
            verbose=0,
        )
        embed = tf.keras.Model(model.input, model.get_layer(_EMBEDDING).output)
        known = embed.predict(images[fit], batch_size=256, verbose=0)
        unknown = embed.predict(images[held_out], batch_size=256, verbose=0)
        views[SOFTMAX][held_out] = model.predict(
            images[held_out], batch_size=256, verbose=0
        )
        views[AUGMENTED_SOFTMAX][held_out] = _augmented_softmax(
            model, images[held_out]
        )
        views[NEIGHBOURS][held_out] = _neighbour_labels(
            known, labels[fit], unknown, num_classes
        )
        atypicality[held_out] = _distances(known, unknown)
        logging.info(
            "Label issues: auditor fold %d of %d trained on %d images for"
            " %d epochs in %.0f s.",
            fold,
            len(plan.folds),
            len(fit),
            epochs,
            time.monotonic() - started,
        )
    probabilities = (views[AUGMENTED_SOFTMAX] + views[NEIGHBOURS]) / 2
    return probabilities, atypicality, views


def _augmented_softmax(
    model: tf.keras.Model, images: np.ndarray
) -> np.ndarray:
    """The model's softmax, averaged over _TEST_VIEWS copies of `images`
    through its own training augmentation."""
    augment = model.get_layer(_AUGMENTATION)
    return np.mean(
        [
            model.predict(
                augment(images, training=True), batch_size=256, verbose=0
            )
            for _ in range(_TEST_VIEWS)
        ],
        axis=0,
    )


def _neighbour_labels(
    known: np.ndarray,
    known_labels: np.ndarray,
    unknown: np.ndarray,
    num_classes: int,
) -> np.ndarray:
    """[m, num_classes]: the share of each class among the labels of each
    unknown embedding's nearest known ones (cosine)."""
    neighbours = NearestNeighbors(
        n_neighbors=min(_NEIGHBOURS, len(known)), metric="cosine"
    ).fit(known)
    nearest = neighbours.kneighbors(unknown, return_distance=False)
    votes = known_labels[nearest]
    return np.stack(
        [(votes == c).mean(axis=1) for c in range(num_classes)], axis=1
    )


def _distances(known: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """The unknown embeddings' outlier distances to the known ones."""
    detector = OutOfDistribution()
    detector.fit(features=known, verbose=False)
    scores = detector.score(features=unknown)
    return -np.log(np.maximum(scores, np.finfo(np.float64).tiny))


def build_auditor(
    input_shape: tuple[int, ...], num_classes: int
) -> tf.keras.Model:
    """The auditor, compiled, with its augmentation as layers (active in
    training only)."""
    layers = tf.keras.layers
    inputs = layers.Input(input_shape)
    augmentation = tf.keras.Sequential(
        [
            layers.RandomRotation(_ROTATION, fill_mode="constant"),
            layers.RandomTranslation(_SHIFT, _SHIFT, fill_mode="constant"),
            layers.RandomZoom(_ZOOM, fill_mode="constant"),
        ],
        name=_AUGMENTATION,
    )
    x = augmentation(inputs)
    for width in _WIDTHS:
        for _ in range(2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=_NORM_MOMENTUM)(x)
            x = layers.ReLU()(x)
        x = layers.MaxPool2D()(x)
    x = layers.GlobalAveragePooling2D(name=_EMBEDDING)(x)
    x = layers.Dropout(_DROPOUT)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(_LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
    )
    return model
