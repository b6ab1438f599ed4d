"""Executor of QualityReport: a thin call of analysis.build_report."""

import json
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.example_tables import split_dir, split_names
from components.quality_report.analysis import ReportInputs, build_report

EXAMPLES_KEY = "examples"
TRANSFORMED_EXAMPLES_KEY = "transformed_examples"
MODEL_KEY = "model"
EVALUATION_KEY = "evaluation"
FINDINGS_KEYS = ("label_issues", "duplicates", "outliers")
REPORT_KEY = "report"
CLASS_NAMES_KEY = "class_names"  # JSON list
ETL_DIR_KEY = "etl_dir"
BUDGET_KEY = "budget"
TITLE_KEY = "title"
EVAL_SPLIT = "eval"


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        def uri(key: str) -> str:
            return artifact_utils.get_single_instance(input_dict[key]).uri

        examples, transformed = (
            artifact_utils.get_single_instance(input_dict[key])
            for key in (EXAMPLES_KEY, TRANSFORMED_EXAMPLES_KEY)
        )
        output = artifact_utils.get_single_instance(output_dict[REPORT_KEY])
        build_report(
            ReportInputs(
                raw_split_dirs=[
                    split_dir(examples, split)
                    for split in split_names(examples)
                ],
                eval_split_dir=split_dir(transformed, EVAL_SPLIT),
                model_uri=uri(MODEL_KEY),
                evaluation_uri=uri(EVALUATION_KEY),
                findings_dirs=[uri(key) for key in FINDINGS_KEYS],
                etl_dir=exec_properties[ETL_DIR_KEY],
            ),
            output.uri,
            class_names=json.loads(exec_properties[CLASS_NAMES_KEY]),
            budget=exec_properties[BUDGET_KEY],
            title=exec_properties[TITLE_KEY],
        )
