"""Executor of Duplicates: a thin call of analysis.find_duplicates_in."""

from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.duplicates.analysis import find_duplicates_in
from components.example_tables import split_dir, split_names

EXAMPLES_KEY = "examples"
FINDINGS_KEY = "duplicates"
MAX_DISTANCE_KEY = "max_distance"


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        output = artifact_utils.get_single_instance(output_dict[FINDINGS_KEY])
        find_duplicates_in(
            [split_dir(examples, split) for split in split_names(examples)],
            output.uri,
            max_distance=exec_properties[MAX_DISTANCE_KEY],
        )
