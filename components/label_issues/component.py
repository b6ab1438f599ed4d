"""LabelIssues: suspected label errors of train and eval images."""

import json
from collections.abc import Mapping, Sequence

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, component_spec

from components.code_version import CODE_VERSION_KEY, CODE_VERSION_PARAMETER
from components.label_issues import executor
from components.quality_artifacts import DataQualityFindings

_Parameter = component_spec.ExecutionParameter


class LabelIssuesSpec(component_spec.ComponentSpec):
    PARAMETERS: Mapping[str, _Parameter] = {
        executor.CLASS_NAMES_KEY: _Parameter(type=str),
        executor.METHOD_KEY: _Parameter(type=str),
        executor.MODEL_KEY: _Parameter(type=str),
        executor.FOLDS_KEY: _Parameter(type=int),
        executor.EPOCHS_KEY: _Parameter(type=int),
        executor.ROUNDS_KEY: _Parameter(type=int),
        executor.SPLITS_KEY: _Parameter(type=str),
        CODE_VERSION_KEY: CODE_VERSION_PARAMETER,
    }
    INPUTS: Mapping[str, component_spec.ChannelParameter] = {
        key: component_spec.ChannelParameter(
            type=tfx.types.standard_artifacts.Examples
        )
        for key in (executor.EXAMPLES_KEY, executor.TRANSFORMED_EXAMPLES_KEY)
    }
    OUTPUTS: Mapping[str, component_spec.ChannelParameter] = {
        executor.FINDINGS_KEY: component_spec.ChannelParameter(
            type=DataQualityFindings
        ),
    }


class LabelIssues(tfx.types.BaseComponent):
    """Ranks every image of `splits` by how likely its label is wrong:
    confident learning (cleanlab) on out-of-sample probabilities. Writes
    ranking.csv (every image) and findings.csv (those cleanlab flags)."""

    SPEC_CLASS = LabelIssuesSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        examples: tfx.types.BaseChannel,
        transformed_examples: tfx.types.BaseChannel,
        *,
        class_names: Sequence[str],
        model: str,
        method: str = "auditor",
        folds: int = 5,
        epochs: int | None = None,
        rounds: int = 1,
        splits: Sequence[str] = ("train", "eval"),
        code_version: str = "",
    ):
        """Builds the component.

        Args:
          examples: the ETL's examples (the auditor reads their images).
          transformed_examples: the Transform's output of them.
          class_names: the label of each class index.
          model: the fixed model's registry name.
          method: "auditor" (K-fold training of a small CNN on the ink
            crops), "cross_train" (K-fold training of the fixed model) or
            "pixel_probe" (a K-fold linear probe on the pixels; seconds).
          folds: K, or fewer where a class is smaller.
          epochs: per fold; None for the method's default.
          rounds: K-fold rounds, each with its own split, averaged.
          splits: the TFX splits whose labels are checked.
          code_version: the fingerprint of the code it runs; a new one
            reruns the component instead of serving it from the cache.
        """
        super().__init__(
            spec=LabelIssuesSpec(
                **{
                    CODE_VERSION_KEY: code_version,
                    executor.EXAMPLES_KEY: examples,
                    executor.TRANSFORMED_EXAMPLES_KEY: transformed_examples,
                    executor.CLASS_NAMES_KEY: json.dumps(list(class_names)),
                    executor.METHOD_KEY: method,
                    executor.MODEL_KEY: model,
                    executor.FOLDS_KEY: folds,
                    executor.EPOCHS_KEY: epochs or 0,
                    executor.ROUNDS_KEY: rounds,
                    executor.SPLITS_KEY: json.dumps(list(splits)),
                    executor.FINDINGS_KEY: channel.Channel(
                        type=DataQualityFindings
                    ),
                }
            )
        )
