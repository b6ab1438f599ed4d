"""Executor of the TFLite export: load the Trainer's Keras model, convert
it, measure both TFLite models and write them with their metrics."""

import dataclasses
import json
import posixpath
from typing import Any

import tensorflow as tf
from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.utils import path_utils

from components.tflite_export import keys
from components.tflite_export.conversion import convert, input_image_shape
from components.tflite_export.evaluation import ExportMetrics, evaluate
from components.tflite_export.transformed_examples import (
    read_split,
    split_uri,
)


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        model = artifact_utils.get_single_instance(input_dict[keys.MODEL_KEY])
        examples = artifact_utils.get_single_instance(
            input_dict[keys.EXAMPLES_KEY]
        )
        output = artifact_utils.get_single_instance(
            output_dict[keys.TFLITE_MODEL_KEY]
        )
        representative_examples = exec_properties[
            keys.REPRESENTATIVE_EXAMPLES_KEY
        ]
        if representative_examples < 1:
            raise ValueError(
                f"{keys.REPRESENTATIVE_EXAMPLES_KEY} is"
                f" {representative_examples}; int8 calibration needs at"
                " least 1 image (a few hundred are typical)."
            )
        train_dir, eval_dir = (
            split_uri(examples, exec_properties[key], key)
            for key in (keys.TRAIN_SPLIT_KEY, keys.EVAL_SPLIT_KEY)
        )

        # The serving SavedModel's signatures parse tf.Examples and decode
        # PNGs, which TFLite cannot run; its Keras model takes the
        # transformed image tensor. compile=False: no training state needed.
        keras_model = tf.keras.models.load_model(
            path_utils.serving_model_path(
                model.uri, path_utils.is_old_model_artifact(model)
            ),
            compile=False,
        )
        image_shape = input_image_shape(keras_model)
        representative_images, _ = read_split(
            train_dir, image_shape, limit=representative_examples
        )
        logging.info(
            "Converting to TFLite, int8 calibrated on %d images.",
            len(representative_images),
        )
        float32_model, int8_model = convert(keras_model, representative_images)
        eval_images, eval_labels = read_split(eval_dir, image_shape)
        logging.info("Measuring on %d eval images.", len(eval_labels))
        metrics = evaluate(
            keras_model, float32_model, int8_model, eval_images, eval_labels
        )

        output_dir = path_utils.serving_model_dir(output.uri)
        _write(output_dir, float32_model, int8_model, metrics)
        logging.info(
            "TFLite export in %s: float32 %d bytes, accuracy %.3f; int8 %d"
            " bytes, accuracy %.3f, agrees with Keras (accuracy %.3f) on"
            " %.1f%% of %d eval images.",
            output_dir,
            metrics.float32_bytes,
            metrics.float32_accuracy,
            metrics.int8_bytes,
            metrics.int8_accuracy,
            metrics.keras_accuracy,
            100 * metrics.int8_keras_agreement,
            metrics.eval_examples,
        )


def _write(
    output_dir: str,
    float32_model: bytes,
    int8_model: bytes,
    metrics: ExportMetrics,
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
