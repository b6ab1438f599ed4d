"""Measure the TFLite models against their Keras original."""

import dataclasses

import numpy as np
import tensorflow as tf

from core.tflite import predict_tflite


@dataclasses.dataclass(frozen=True)
class ExportMetrics:
    float32_bytes: int
    int8_bytes: int
    eval_examples: int
    keras_accuracy: float
    float32_accuracy: float
    int8_accuracy: float
    # Fraction of eval images where int8 and Keras predict the same class.
    int8_keras_agreement: float


def evaluate(
    keras_model: tf.keras.Model,
    float32_model: bytes,
    int8_model: bytes,
    images: np.ndarray,
    labels: np.ndarray,
) -> ExportMetrics:
    """Accuracy of the three models on `images` and how often int8 agrees
    with Keras."""
    keras_classes = _classes(keras_model.predict(images, verbose=0))
    int8_classes = _classes(predict_tflite(int8_model, images))
    return ExportMetrics(
        float32_bytes=len(float32_model),
        int8_bytes=len(int8_model),
        eval_examples=len(labels),
        keras_accuracy=_mean(keras_classes == labels),
        float32_accuracy=_mean(
            _classes(predict_tflite(float32_model, images)) == labels
        ),
        int8_accuracy=_mean(int8_classes == labels),
        int8_keras_agreement=_mean(int8_classes == keras_classes),
    )


def _classes(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=-1)


def _mean(hits: np.ndarray) -> float:
    return float(np.mean(hits))
