"""Convert a Keras image classifier to TFLite and run TFLite models."""

from collections.abc import Iterator

import numpy as np
import tensorflow as tf


def input_image_shape(keras_model: tf.keras.Model) -> tuple[int, ...]:
    """The shape of one input image, e.g. (32, 32, 3), without the batch."""
    shape = keras_model.input_shape
    if not isinstance(shape, tuple) or None in shape[1:]:
        raise ValueError(
            f"The model takes inputs of shape {shape}; the TFLite export"
            " needs one image tensor of fixed shape [batch, height, width,"
            " channels]. Give the Keras model a single Input with a fixed"
            " image shape."
        )
    return tuple(shape[1:])


def convert(
    keras_model: tf.keras.Model, representative_images: np.ndarray
) -> tuple[bytes, bytes]:
    """The model as float32 TFLite and as full-integer int8 TFLite, whose
    activations are calibrated on `representative_images` [n, ...]."""
    float32_model = tf.lite.TFLiteConverter.from_keras_model(
        keras_model
    ).convert()

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for image in representative_images:
            yield [image[np.newaxis].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    # Integer kernels only, int8 in and out: what microcontrollers run.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return float32_model, converter.convert()


def predict_tflite(tflite_model: bytes, images: np.ndarray) -> np.ndarray:
    """The model's output scores [n, classes] for float `images` [n, ...],
    one image at a time as on a device; int8 inputs are quantised and
    int8 outputs dequantised with their tensors' scale and zero point."""
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    interpreter.allocate_tensors()
    (input_details,) = interpreter.get_input_details()
    (output_details,) = interpreter.get_output_details()
    scores = np.empty(
        (len(images), *output_details["shape"][1:]), dtype=np.float32
    )
    for i, image in enumerate(images):
        interpreter.set_tensor(
            input_details["index"], _quantise(image[np.newaxis], input_details)
        )
        interpreter.invoke()
        scores[i] = _dequantise(
            interpreter.get_tensor(output_details["index"]), output_details
        )[0]
    return scores


def _quantise(values: np.ndarray, details: dict) -> np.ndarray:
    dtype = details["dtype"]
    if dtype == np.float32:
        return values.astype(np.float32)
    scale, zero_point = details["quantization"]
    limits = np.iinfo(dtype)
    quantised = np.round(values / scale) + zero_point
    return np.clip(quantised, limits.min, limits.max).astype(dtype)


def _dequantise(values: np.ndarray, details: dict) -> np.ndarray:
    if details["dtype"] == np.float32:
        return values
    scale, zero_point = details["quantization"]
    return (values.astype(np.float32) - zero_point) * scale
