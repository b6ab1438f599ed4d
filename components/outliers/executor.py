"""Executor of Outliers: a thin call of analysis.find_outliers_in."""

from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.example_tables import split_dir, split_names
from components.outliers.analysis import find_outliers_in

EXAMPLES_KEY = "examples"
TRANSFORMED_EXAMPLES_KEY = "transformed_examples"
MODEL_KEY = "model"
FINDINGS_KEY = "outliers"
FENCE_KEY = "fence"


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples, transformed, model = (
            artifact_utils.get_single_instance(input_dict[key])
            for key in (EXAMPLES_KEY, TRANSFORMED_EXAMPLES_KEY, MODEL_KEY)
        )
        output = artifact_utils.get_single_instance(output_dict[FINDINGS_KEY])
        splits = split_names(examples)
        find_outliers_in(
            [split_dir(examples, split) for split in splits],
            [split_dir(transformed, split) for split in splits],
            model.uri,
            output.uri,
            fence=exec_properties[FENCE_KEY],
        )
