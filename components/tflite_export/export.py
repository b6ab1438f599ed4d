"""The TFLite export: load the Trainer's Keras model, convert it, measure
both TFLite models and write them with their metrics."""

import dataclasses
import json
import posixpath
from typing import Any

import tensorflow as tf
from absl import logging
from tfx.dsl.io import fileio

from components.tflite_export import keys
from core.task import PipelineTask
from core.tflite import convert, input_image_shape


def export_tflite(
    keras_model_dir: str,
    train_dir: str,
    eval_dir: str,
    output_dir: str,
    task: PipelineTask,
    *,
    representative_examples: int,
) -> Any:
    """Convert the Keras SavedModel in `keras_model_dir`, int8 calibrated
    on the first `representative_examples` transformed images in
    `train_dir`, measure it on those in `eval_dir`, and write both models
    and their metrics into `output_dir`; `task` reads the splits and
    measures the models."""
    if representative_examples < 1:
        raise ValueError(
            f"representative_examples is {representative_examples}; int8"
            " calibration needs at least 1 image (a few hundred are"
            " typical)."
        )
    # The serving SavedModel's signatures parse tf.Examples and decode
    # PNGs, which TFLite cannot run; its Keras model takes the
    # transformed image tensor. compile=False: no training state needed.
    keras_model = tf.keras.models.load_model(keras_model_dir, compile=False)
    image_shape = input_image_shape(keras_model)
    representative_images, _ = task.read_tflite_split(
        train_dir, image_shape, limit=representative_examples
    )
    logging.info(
        "Converting to TFLite, int8 calibrated on %d images.",
        len(representative_images),
    )
    float32_model, int8_model = convert(keras_model, representative_images)
    eval_images, eval_labels = task.read_tflite_split(eval_dir, image_shape)
    logging.info("Measuring on %d eval images.", len(eval_labels))
    metrics = task.measure_tflite(
        keras_model, float32_model, int8_model, eval_images, eval_labels
    )

    _write(output_dir, float32_model, int8_model, metrics)
    logging.info(
        "TFLite export in %s: %s",
        output_dir,
        ", ".join(
            f"{name} {value:.3f}"
            if isinstance(value, float)
            else f"{name} {value}"
            for name, value in dataclasses.asdict(metrics).items()
        ),
    )
    return metrics


def _write(
    output_dir: str,
    float32_model: bytes,
    int8_model: bytes,
    metrics: Any,
) -> None:
    fileio.makedirs(output_dir)
    for name, content in (
        (keys.FLOAT32_FILE, float32_model),
        (keys.INT8_FILE, int8_model),
        (
            keys.METRICS_FILE,
            json.dumps(dataclasses.asdict(metrics), indent=2).encode(),
        ),
    ):
        with fileio.open(posixpath.join(output_dir, name), "wb") as f:
            f.write(content)
