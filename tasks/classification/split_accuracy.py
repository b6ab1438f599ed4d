"""Classification's test figures: the Trainer's Keras model and the int8
TFLite model measured on one split, as TestAccuracy writes them."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio

from core.readers.example_tables import (
    images_digest,
    read_int_features,
    read_pixels,
    read_raw,
)
from core.readers.trained_model import predict
from core.tflite import (
    input_image_shape,
    predict_tflite,
)
from tasks.classification.accuracy_figures import accuracy_figures


def measure_split(
    keras_model_dir: str,
    int8_model_file: str,
    raw_dir: str,
    transformed_dir: str,
    *,
    class_names: Sequence[str],
    slice_features: Sequence[str],
) -> dict[str, Any]:
    """Accuracy of the Keras SavedModel in `keras_model_dir` and of the
    int8 TFLite model in `int8_model_file` on the transformed images in
    `transformed_dir`, overall, per class and per value of each of the
    Transform's `slice_features`; `raw_dir`, the same split's ETL
    examples, names the images measured (`images_sha256`)."""
    keras_model = tf.keras.models.load_model(keras_model_dir, compile=False)
    pixels = read_pixels([transformed_dir], input_image_shape(keras_model))
    slices = read_int_features([transformed_dir], list(slice_features))
    raw = read_raw([raw_dir])
    with fileio.open(int8_model_file, "rb") as file:
        int8_model = file.read()
    keras_classes = np.argmax(predict(keras_model, pixels.images), axis=-1)
    int8_classes = np.argmax(
        predict_tflite(int8_model, pixels.images), axis=-1
    )
    return {
        "examples": len(pixels),
        "images_sha256": images_digest(raw.paths, raw.sha256),
        "keras": accuracy_figures(
            pixels.labels, keras_classes, class_names, slices
        ),
        "int8": accuracy_figures(
            pixels.labels, int8_classes, class_names, slices
        ),
        "int8_keras_agreement": float(np.mean(int8_classes == keras_classes)),
    }
