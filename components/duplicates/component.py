"""Duplicates: exact and near-duplicate images, and leaks across splits."""

from collections.abc import Mapping

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, component_spec

from components.code_version import CODE_VERSION_KEY, CODE_VERSION_PARAMETER
from components.duplicates import executor
from components.quality_artifacts import DataQualityFindings


class DuplicatesSpec(component_spec.ComponentSpec):
    PARAMETERS: Mapping[str, component_spec.ExecutionParameter] = {
        executor.MAX_DISTANCE_KEY: component_spec.ExecutionParameter(
            type=float
        ),
        CODE_VERSION_KEY: CODE_VERSION_PARAMETER,
    }
    INPUTS: Mapping[str, component_spec.ChannelParameter] = {
        executor.EXAMPLES_KEY: component_spec.ChannelParameter(
            type=tfx.types.standard_artifacts.Examples
        ),
    }
    OUTPUTS: Mapping[str, component_spec.ChannelParameter] = {
        executor.FINDINGS_KEY: component_spec.ChannelParameter(
            type=DataQualityFindings
        ),
    }


class Duplicates(tfx.types.BaseComponent):
    """Finds files with the same bytes, and images that differ only by a
    shift of a pixel, brightness or contrast, in and across all splits;
    flags the later copy (train, then val, then test) in findings.csv,
    saying when the copy leaks across splits or carries another label."""

    SPEC_CLASS = DuplicatesSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        examples: tfx.types.BaseChannel,
        *,
        max_distance: float = 0.15,
        code_version: str = "",
    ):
        """Builds the component.

        Args:
          examples: the ETL's examples (ImportExampleGen's output).
          max_distance: how close two normalised images must be (0..2) to
            count as near-duplicates.
          code_version: the fingerprint of the code it runs; a new one
            reruns the component instead of serving it from the cache.
        """
        super().__init__(
            spec=DuplicatesSpec(
                **{
                    CODE_VERSION_KEY: code_version,
                    executor.EXAMPLES_KEY: examples,
                    executor.MAX_DISTANCE_KEY: max_distance,
                    executor.FINDINGS_KEY: channel.Channel(
                        type=DataQualityFindings
                    ),
                }
            )
        )
