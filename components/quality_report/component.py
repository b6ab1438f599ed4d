"""QualityReport: the run's data-quality report and issues.csv."""

import json
from collections.abc import Mapping, Sequence

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, component_spec

from components.code_version import CODE_VERSION_KEY, CODE_VERSION_PARAMETER
from components.quality_artifacts import (
    DataQualityFindings,
    DataQualityReport,
)
from components.quality_report import executor

_Parameter = component_spec.ExecutionParameter
_Channel = component_spec.ChannelParameter
_artifacts = tfx.types.standard_artifacts


class QualityReportSpec(component_spec.ComponentSpec):
    PARAMETERS: Mapping[str, _Parameter] = {
        executor.CLASS_NAMES_KEY: _Parameter(type=str),
        executor.ETL_DIR_KEY: _Parameter(type=str),
        executor.BUDGET_KEY: _Parameter(type=int),
        executor.TITLE_KEY: _Parameter(type=str),
        CODE_VERSION_KEY: CODE_VERSION_PARAMETER,
    }
    INPUTS: Mapping[str, _Channel] = {
        executor.EXAMPLES_KEY: _Channel(type=_artifacts.Examples),
        executor.TRANSFORMED_EXAMPLES_KEY: _Channel(type=_artifacts.Examples),
        executor.MODEL_KEY: _Channel(type=_artifacts.Model),
        executor.EVALUATION_KEY: _Channel(type=_artifacts.ModelEvaluation),
        **{
            key: _Channel(type=DataQualityFindings)
            for key in executor.FINDINGS_KEYS
        },
    }
    OUTPUTS: Mapping[str, _Channel] = {
        executor.REPORT_KEY: _Channel(type=DataQualityReport),
    }


class QualityReport(tfx.types.BaseComponent):
    """Writes report.html (self-contained: label issues, duplicates,
    outliers and broken files with thumbnails, class balance against the
    budget, and the error analysis) and issues.csv (one row per flagged
    image and issue, with an empty `action` column for a reviewer)."""

    SPEC_CLASS = QualityReportSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        *,
        examples: tfx.types.BaseChannel,
        transformed_examples: tfx.types.BaseChannel,
        model: tfx.types.BaseChannel,
        evaluation: tfx.types.BaseChannel,
        label_issues: tfx.types.BaseChannel,
        duplicates: tfx.types.BaseChannel,
        outliers: tfx.types.BaseChannel,
        class_names: Sequence[str],
        etl_dir: str,
        budget: int,
        title: str,
        code_version: str = "",
    ):
        """Builds the component.

        Args:
          examples: ImportExampleGen's examples (thumbnails, counts).
          transformed_examples: the Transform's (eval images to predict).
          model: the Trainer's model.
          evaluation: the Evaluator's (accuracy, slices, confusion).
          label_issues: LabelIssues' findings.
          duplicates: Duplicates' findings.
          outliers: Outliers' findings.
          class_names: the label of each class index.
          etl_dir: the ETL's output, whose quarantine.csv lists the
            files it could not convert.
          budget: the cap on train + val images.
          title: the report's heading.
          code_version: the fingerprint of the code it runs; a new one
            reruns the component instead of serving it from the cache.
        """
        inputs = {
            executor.EXAMPLES_KEY: examples,
            executor.TRANSFORMED_EXAMPLES_KEY: transformed_examples,
            executor.MODEL_KEY: model,
            executor.EVALUATION_KEY: evaluation,
            "label_issues": label_issues,
            "duplicates": duplicates,
            "outliers": outliers,
        }
        super().__init__(
            spec=QualityReportSpec(
                **inputs,
                **{
                    CODE_VERSION_KEY: code_version,
                    executor.CLASS_NAMES_KEY: json.dumps(list(class_names)),
                    executor.ETL_DIR_KEY: etl_dir,
                    executor.BUDGET_KEY: budget,
                    executor.TITLE_KEY: title,
                    executor.REPORT_KEY: channel.Channel(
                        type=DataQualityReport
                    ),
                },
            )
        )
