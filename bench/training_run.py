"""The benchmarks' unit of cost: one training run of the fixed model on
arrays, as the Trainer does it (train split, best epoch by val
accuracy)."""

import tempfile

import numpy as np
import tensorflow as tf

from models.registry import ModelSpec, compile_model
from models.trainer import train_best


def train_fixed_model(
    images: np.ndarray,
    labels: np.ndarray,
    split: np.ndarray,
    spec: ModelSpec,
    *,
    epochs: int,
) -> tf.keras.Model:
    """The fixed model trained on the images whose `split` is "train",
    its best epoch by accuracy on those whose split is "val"."""
    tf.keras.utils.set_random_seed(spec.seed)
    model = spec.build(int(labels.max()) + 1)
    compile_model(model, spec)
    train, val = (
        tf.data.Dataset.from_tensor_slices(
            (images[split == name], labels[split == name])
        )
        for name in ("train", "val")
    )
    with tempfile.TemporaryDirectory() as checkpoints:
        train_best(
            model,
            # Shuffled before batching, as the Trainer does: the images
            # come sorted by class, and one-class batches would teach
            # batch norm the class.
            train.shuffle(len(train), seed=spec.seed).batch(spec.batch_size),
            val.batch(spec.batch_size),
            epochs=epochs,
            checkpoint_dir=checkpoints,
        )
    return model
