"""The auditor: a small CNN trained K-fold on the ink crops, with online
augmentation, to predict every image out of sample.

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

from components.label_issues.folds import FoldPlan

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


_EMBEDDING = "embedding"


def auditor_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    plan: FoldPlan,
    *,
    num_classes: int,
    epochs: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Out of sample, for every judged image (other rows stay 0):
    [n, num_classes] probabilities, each image predicted by an auditor
    trained on the other folds; and [n] atypicality, how far the image
    lies from the images that auditor learnt from, in its embedding
    space (cleanlab's k-nearest-neighbour outlier score as a distance,
    -log(score)). An image of no class lies far from every class.

    Args:
      images: [n, size, size, 1] ink crops (ink_images.ink_crops).
      labels: [n] class indices.
      plan: the folds (folds.plan_folds).
      num_classes: the width of the output.
      epochs: per fold.
      seed: of the weights, the augmentation and the shuffling.
    """
    probabilities = np.zeros((len(labels), num_classes), np.float32)
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
        probabilities[held_out] = model.predict(
            images[held_out], batch_size=256, verbose=0
        )
        atypicality[held_out] = _distances(
            model, images[fit], images[held_out]
        )
        logging.info(
            "Label issues: auditor fold %d of %d trained on %d images for"
            " %d epochs in %.0f s.",
            fold,
            len(plan.folds),
            len(fit),
            epochs,
            time.monotonic() - started,
        )
    return probabilities, atypicality


def _distances(
    model: tf.keras.Model, fit: np.ndarray, held_out: np.ndarray
) -> np.ndarray:
    """The held-out images' outlier distances to the fit images, in the
    embedding of the auditor trained on them."""
    embed = tf.keras.Model(model.input, model.get_layer(_EMBEDDING).output)
    known = embed.predict(fit, batch_size=256, verbose=0)
    detector = OutOfDistribution()
    detector.fit(features=known, verbose=False)
    scores = detector.score(
        features=embed.predict(held_out, batch_size=256, verbose=0)
    )
    return -np.log(np.maximum(scores, np.finfo(np.float64).tiny))


def build_auditor(
    input_shape: tuple[int, ...], num_classes: int
) -> tf.keras.Model:
    """The auditor, compiled, with its augmentation as layers (active in
    training only)."""
    layers = tf.keras.layers
    inputs = layers.Input(input_shape)
    x = layers.RandomRotation(_ROTATION, fill_mode="constant")(inputs)
    x = layers.RandomTranslation(_SHIFT, _SHIFT, fill_mode="constant")(x)
    x = layers.RandomZoom(_ZOOM, fill_mode="constant")(x)
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
