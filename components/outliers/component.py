"""Outliers: unusual images by property and in embedding space."""

from collections.abc import Mapping

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, component_spec

from components.code_version import CODE_VERSION_KEY, CODE_VERSION_PARAMETER
from components.outliers import executor
from components.quality_artifacts import DataQualityFindings

_Examples = tfx.types.standard_artifacts.Examples


class OutliersSpec(component_spec.ComponentSpec):
    PARAMETERS: Mapping[str, component_spec.ExecutionParameter] = {
        executor.FENCE_KEY: component_spec.ExecutionParameter(type=float),
        CODE_VERSION_KEY: CODE_VERSION_PARAMETER,
    }
    INPUTS: Mapping[str, component_spec.ChannelParameter] = {
        executor.EXAMPLES_KEY: component_spec.ChannelParameter(type=_Examples),
        executor.TRANSFORMED_EXAMPLES_KEY: component_spec.ChannelParameter(
            type=_Examples
        ),
        executor.MODEL_KEY: component_spec.ChannelParameter(
            type=tfx.types.standard_artifacts.Model
        ),
    }
    OUTPUTS: Mapping[str, component_spec.ChannelParameter] = {
        executor.FINDINGS_KEY: component_spec.ChannelParameter(
            type=DataQualityFindings
        ),
    }


class Outliers(tfx.types.BaseComponent):
    """Flags blank, dark, light, blurry, odd-size and grayscale-among-
    colour images, and images far from their neighbours in the trained
    model's embedding space, in findings.csv. Thresholds are Tukey's
    fences of the data's own distribution."""

    SPEC_CLASS = OutliersSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        examples: tfx.types.BaseChannel,
        transformed_examples: tfx.types.BaseChannel,
        model: tfx.types.BaseChannel,
        *,
        fence: float = 3.0,
        code_version: str = "",
    ):
        """Builds the component.

        Args:
          examples: the ETL's examples (ImportExampleGen's output).
          transformed_examples: the Transform's output of the same.
          model: the Trainer's model.
          fence: how many interquartile ranges beyond the quartiles a
            value must lie to be unusual (3 is Tukey's "far out").
          code_version: the fingerprint of the code it runs; a new one
            reruns the component instead of serving it from the cache.
        """
        super().__init__(
            spec=OutliersSpec(
                **{
                    CODE_VERSION_KEY: code_version,
                    executor.EXAMPLES_KEY: examples,
                    executor.TRANSFORMED_EXAMPLES_KEY: transformed_examples,
                    executor.MODEL_KEY: model,
                    executor.FENCE_KEY: fence,
                    executor.FINDINGS_KEY: channel.Channel(
                        type=DataQualityFindings
                    ),
                }
            )
        )
