"""TestAccuracy: the fixed model's accuracy on the test split, for the
user's judgement; the Evaluator's blessing stays on eval.

TFMA's Evaluator reads several `example_splits` as one pooled dataset,
so it cannot give test figures beside eval ones; this step does, with
the same slices."""

import json
import posixpath

from tfx.types.standard_artifacts import Examples, Model
from tfx.utils import path_utils

from components.function_component import (
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from components.test_accuracy.accuracy_file import write_accuracy
from components.test_accuracy.keys import SplitAccuracy
from components.tflite_export import keys as tflite_keys
from core.readers.example_tables import split_dir
from core.task import DEFAULT_TASK, get_pipeline_task


@component
def TestAccuracy(
    model: InputArtifact[Model],
    tflite_model: InputArtifact[Model],
    examples: InputArtifact[Examples],
    transformed_examples: InputArtifact[Examples],
    accuracy: OutputArtifact[SplitAccuracy],
    class_names: Parameter[str],
    slice_features: Parameter[str],
    split: Parameter[str] = "test",
    task: Parameter[str] = DEFAULT_TASK,
    code_version: Parameter[str] = "",
) -> None:
    """Writes accuracy.json: the Keras model's and the int8 TFLite
    model's figures on `split` (the task's headline, accuracy or mAP50),
    overall, per class and per slice, and the SHA-256 of the images'
    paths and hashes.

    Args:
      model: the Trainer's Model.
      tflite_model: the TFLiteExport's Model (its int8 model).
      examples: the ETL's examples, for the images' paths and hashes.
      transformed_examples: the Transform's output, what the model reads.
      accuracy: the figures.
      class_names: JSON list, the label of each class index.
      slice_features: JSON list, the Transform's features to slice by.
      split: the split to measure.
      task: the task that measures the models.
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    figures = get_pipeline_task(task).measure_split(
        path_utils.serving_model_path(
            model.uri, path_utils.is_old_model_artifact(model)
        ),
        posixpath.join(
            path_utils.serving_model_path(tflite_model.uri),
            tflite_keys.INT8_FILE,
        ),
        split_dir(examples, split),
        split_dir(transformed_examples, split),
        class_names=json.loads(class_names),
        slice_features=json.loads(slice_features),
    )
    write_accuracy({"split": split, **figures}, accuracy.uri)
