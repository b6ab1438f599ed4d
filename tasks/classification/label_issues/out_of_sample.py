"""Out-of-sample predicted probabilities: every image is predicted by a
model that never saw its label, so a wrong label cannot be memorised.

Three signals, chosen by name (quality.label_method):
  auditor: a small CNN on the ink crops, K-fold with augmentation
    (auditor.py). The default: the best ranking on real data per second.
  cross_train: K-fold cross-training of the fixed model itself, each
    fold for `epochs` epochs. About K-1 training runs at full length.
  pixel_probe: K-fold logistic regression on the model's input pixels,
    reduced by PCA. Seconds, but weak on messy data.

The trained model's own predictions, or a probe on its embeddings, are
not out of sample: after its 100 epochs the fixed model has memorised
the flipped labels (see bench/RESULTS.md).
"""

import dataclasses
import logging
import time

import numpy as np
import tensorflow as tf
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models.registry import ModelSpec, compile_model
from tasks.classification.label_issues.auditor import auditor_probabilities
from tasks.classification.label_issues.folds import FoldPlan

AUDITOR = "auditor"
CROSS_TRAIN = "cross_train"
PIXEL_PROBE = "pixel_probe"
METHODS = (AUDITOR, CROSS_TRAIN, PIXEL_PROBE)

# The auditor's ink crops: enough for a hand-written numeral or digit.
AUDITOR_IMAGE_SIZE = 32
DEFAULT_AUDITOR_EPOCHS = 20
# Enough components for digit-like images; more only slows the probe.
_PCA_COMPONENTS = 64
# Strong regularisation: the probe must not fit the noisy labels either.
_PROBE_C = 0.1


@dataclasses.dataclass(frozen=True)
class OutOfSample:
    """One K-fold round's evidence on every judged image."""

    probabilities: np.ndarray  # [n, classes]; rows not judged stay 0
    # [n] the auditor's distance from the images it learnt from (see
    # auditor.py); None for the methods that do not measure it.
    atypicality: np.ndarray | None = None
    # The auditor's separate views that `probabilities` combines, by
    # name (auditor.py), for benchmarks; empty for the other methods.
    views: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def out_of_sample(
    method: str,
    images: np.ndarray,
    labels: np.ndarray,
    plan: FoldPlan,
    *,
    spec: ModelSpec,
    num_classes: int,
    epochs: int | None,
    seed: int,
) -> OutOfSample:
    """One K-fold round of `method`; `images` are the ink crops for the
    auditor, the model's inputs for the others. `epochs` None is the
    method's default."""
    if method == AUDITOR:
        return OutOfSample(
            *auditor_probabilities(
                images,
                labels,
                plan,
                num_classes=num_classes,
                epochs=epochs or DEFAULT_AUDITOR_EPOCHS,
                seed=seed,
            )
        )
    if method == CROSS_TRAIN:
        return OutOfSample(
            cross_train_probabilities(
                images,
                labels,
                plan,
                spec=spec,
                num_classes=num_classes,
                epochs=epochs or spec.epochs,
                seed=seed,
            )
        )
    if method == PIXEL_PROBE:
        return OutOfSample(
            pixel_probe_probabilities(
                images, labels, plan, num_classes=num_classes, seed=seed
            )
        )
    raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")


def pixel_probe_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    plan: FoldPlan,
    *,
    num_classes: int,
    seed: int,
) -> np.ndarray:
    """[n, num_classes] out-of-fold probabilities of a linear probe;
    rows of images that are not judged stay 0."""
    pixels = images.reshape(len(images), -1)
    probabilities = np.zeros((len(labels), num_classes), np.float32)
    for fit, held_out in plan.folds:
        # PCA can keep at most as many components as it has samples.
        components = min(_PCA_COMPONENTS, len(fit), pixels.shape[1])
        probe = make_pipeline(
            StandardScaler(),
            PCA(components, random_state=seed),
            LogisticRegression(C=_PROBE_C, max_iter=2000),
        ).fit(pixels[fit], labels[fit])
        # Columns are the classes the fold saw; place them at their index.
        columns = probe.classes_
        probabilities[np.ix_(held_out, columns)] = probe.predict_proba(
            pixels[held_out]
        )
    return probabilities


def cross_train_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    plan: FoldPlan,
    *,
    spec: ModelSpec,
    num_classes: int,
    epochs: int,
    seed: int,
) -> np.ndarray:
    """[n, num_classes] probabilities, each judged image predicted by the
    fixed model trained on the other folds; other rows stay 0."""
    tf.keras.utils.set_random_seed(seed)
    model = spec.build(num_classes)
    compile_model(model, spec)
    initial_weights = model.get_weights()
    probabilities = np.zeros((len(labels), num_classes), np.float32)
    for fold, (fit, held_out) in enumerate(plan.folds, start=1):
        started = time.monotonic()
        # One model, reset per fold: Keras traces its training step once,
        # not once per fold (20-30 s each on these CPUs).
        model.set_weights(initial_weights)
        for variable in model.optimizer.variables:
            variable.assign(tf.zeros_like(variable))
        model.fit(
            tf.data.Dataset.from_tensor_slices((images[fit], labels[fit]))
            .shuffle(len(fit), seed=seed + fold)
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
            len(plan.folds),
            len(fit),
            epochs,
            time.monotonic() - started,
        )
    return probabilities
