"""The Trainer's Keras model, read back for the analyses: its
predictions and its embeddings (the input of its output layer)."""

import numpy as np
import tensorflow as tf
from tfx.utils import path_utils

from core.readers.example_tables import PixelTable, read_pixels

_BATCH = 256


def load_keras_model(model_uri: str) -> tf.keras.Model:
    """The bare model over transformed images, from a Model artifact."""
    return tf.keras.models.load_model(
        path_utils.serving_model_path(model_uri), compile=False
    )


def read_model_inputs(
    model: tf.keras.Model, split_dirs: list[str]
) -> PixelTable:
    """The transformed images of `split_dirs`, at the model's input shape."""
    return read_pixels(split_dirs, tuple(model.input_shape[1:]))


def predict(model: tf.keras.Model, images: np.ndarray) -> np.ndarray:
    """[n, classes] probabilities."""
    return model.predict(images, batch_size=_BATCH, verbose=0)


def embed(model: tf.keras.Model, images: np.ndarray) -> np.ndarray:
    """[n, d] what the model's output layer reads."""
    output_layer = model.get_layer(model.output_names[0])
    embedder = tf.keras.Model(model.input, output_layer.input)
    return embedder.predict(images, batch_size=_BATCH, verbose=0)
