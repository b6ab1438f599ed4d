"""Measure the Trainer's Keras model and the int8 TFLite model on one
split and write the figures."""

import json
import posixpath
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging
from tfx.dsl.io import fileio

from components.test_accuracy.figures import (
    accuracy_figures,
    images_digest,
)
from components.test_accuracy.keys import ACCURACY_FILE
from core.readers.example_tables import (
    read_int_features,
    read_pixels,
    read_raw,
)
from core.readers.trained_model import predict
from core.tflite import (
    input_image_shape,
    predict_tflite,
)


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


def write_accuracy(figures: dict[str, Any], output_dir: str) -> None:
    fileio.makedirs(output_dir)
    with fileio.open(posixpath.join(output_dir, ACCURACY_FILE), "w") as file:
        file.write(json.dumps(figures, indent=2))
    logging.info(
        "Accuracy on %d images: Keras %.3f, int8 %.3f.",
        figures["examples"],
        figures["keras"]["accuracy"],
        figures["int8"]["accuracy"],
    )


def read_accuracy(uri: str) -> dict[str, Any]:
    """What write_accuracy wrote into the SplitAccuracy at `uri`."""
    with fileio.open(posixpath.join(uri, ACCURACY_FILE), "r") as file:
        return json.load(file)
