"""The TFLite export component: the Trainer's model as float32 and int8
TFLite models for microcontrollers, with their accuracy."""

from collections.abc import Mapping

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, component_spec

from components.code_version import CODE_VERSION_KEY, CODE_VERSION_PARAMETER
from components.tflite_export import executor, keys

_Model = tfx.types.standard_artifacts.Model


class TFLiteExportSpec(component_spec.ComponentSpec):
    PARAMETERS: Mapping[str, component_spec.ExecutionParameter] = {
        keys.REPRESENTATIVE_EXAMPLES_KEY: component_spec.ExecutionParameter(
            type=int
        ),
        keys.TRAIN_SPLIT_KEY: component_spec.ExecutionParameter(type=str),
        keys.EVAL_SPLIT_KEY: component_spec.ExecutionParameter(type=str),
        CODE_VERSION_KEY: CODE_VERSION_PARAMETER,
    }
    INPUTS: Mapping[str, component_spec.ChannelParameter] = {
        keys.MODEL_KEY: component_spec.ChannelParameter(type=_Model),
        keys.EXAMPLES_KEY: component_spec.ChannelParameter(
            type=tfx.types.standard_artifacts.Examples
        ),
    }
    OUTPUTS: Mapping[str, component_spec.ChannelParameter] = {
        keys.TFLITE_MODEL_KEY: component_spec.ChannelParameter(type=_Model),
    }


class TFLiteExport(tfx.types.BaseComponent):
    """Converts the Trainer's Keras model to `model_float32.tflite` and
    full-integer `model_int8.tflite`, and writes `metrics.json` with their
    sizes, their accuracy and the Keras model's on the eval split, and how
    often int8 agrees with Keras. The files are in the output Model's
    serving directory (`Format-Serving`), the folder a Pusher copies."""

    SPEC_CLASS = TFLiteExportSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        model: tfx.types.BaseChannel,
        examples: tfx.types.BaseChannel,
        *,
        representative_examples: int = 200,
        train_split: str = "train",
        eval_split: str = "eval",
        code_version: str = "",
    ):
        """Builds the component.

        Args:
          model: the Trainer's Model. Its serving SavedModel must load with
            `tf.keras.models.load_model` as a Keras model whose input is
            the transformed image [batch, height, width, channels].
          examples: the Transform's transformed_examples.
          representative_examples: how many transformed train images
            calibrate the int8 activations.
          train_split: the split the calibration images come from.
          eval_split: the split the models are measured on.
          code_version: the fingerprint of the code it runs; a new one
            reruns the component instead of serving it from the cache.
        """
        super().__init__(
            spec=TFLiteExportSpec(
                **{
                    CODE_VERSION_KEY: code_version,
                    keys.MODEL_KEY: model,
                    keys.EXAMPLES_KEY: examples,
                    keys.REPRESENTATIVE_EXAMPLES_KEY: representative_examples,
                    keys.TRAIN_SPLIT_KEY: train_split,
                    keys.EVAL_SPLIT_KEY: eval_split,
                    keys.TFLITE_MODEL_KEY: channel.Channel(type=_Model),
                }
            )
        )
