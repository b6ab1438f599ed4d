"""The TFLite export component: the Trainer's model as float32 and int8
TFLite models for microcontrollers, with their accuracy."""

from tfx.types.standard_artifacts import Examples, Model
from tfx.utils import path_utils

from components.function_component import (
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from components.tflite_export.export import export_tflite
from components.tflite_export.splits import split_uri
from core.task import DEFAULT_TASK, get_pipeline_task


@component
def TFLiteExport(
    model: InputArtifact[Model],
    examples: InputArtifact[Examples],
    tflite_model: OutputArtifact[Model],
    representative_examples: Parameter[int] = 200,
    train_split: Parameter[str] = "train",
    eval_split: Parameter[str] = "eval",
    task: Parameter[str] = DEFAULT_TASK,
    code_version: Parameter[str] = "",
) -> None:
    """Converts the Trainer's Keras model to `model_float32.tflite` and
    full-integer `model_int8.tflite`, and writes `metrics.json` with their
    sizes, their accuracy and the Keras model's on the eval split, and how
    often int8 agrees with Keras. The files are in the output Model's
    serving directory (`Format-Serving`), the folder a Pusher copies.

    Args:
      model: the Trainer's Model. Its serving SavedModel must load with
        `tf.keras.models.load_model` as a Keras model whose input is
        the transformed image [batch, height, width, channels].
      examples: the Transform's transformed_examples.
      tflite_model: the two TFLite models and metrics.json.
      representative_examples: how many transformed train images
        calibrate the int8 activations.
      train_split: the split the calibration images come from.
      eval_split: the split the models are measured on.
      task: the task that reads the split and measures the models.
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    export_tflite(
        path_utils.serving_model_path(
            model.uri, path_utils.is_old_model_artifact(model)
        ),
        split_uri(examples, train_split, "train_split"),
        split_uri(examples, eval_split, "eval_split"),
        path_utils.serving_model_dir(tflite_model.uri),
        get_pipeline_task(task),
        representative_examples=representative_examples,
    )
