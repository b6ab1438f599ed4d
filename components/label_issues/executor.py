"""Executor of LabelIssues: a thin call of analysis.find_label_issues."""

import json
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.example_tables import split_dir
from components.label_issues.analysis import find_label_issues

EXAMPLES_KEY = "examples"
TRANSFORMED_EXAMPLES_KEY = "transformed_examples"
FINDINGS_KEY = "label_issues"
CLASS_NAMES_KEY = "class_names"  # JSON list
METHOD_KEY = "method"
MODEL_KEY = "model"
FOLDS_KEY = "folds"
EPOCHS_KEY = "epochs"  # 0: the method's default
ROUNDS_KEY = "rounds"
SPLITS_KEY = "splits"  # JSON list of TFX split names


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples, transformed = (
            artifact_utils.get_single_instance(input_dict[key])
            for key in (EXAMPLES_KEY, TRANSFORMED_EXAMPLES_KEY)
        )
        output = artifact_utils.get_single_instance(output_dict[FINDINGS_KEY])
        splits = json.loads(exec_properties[SPLITS_KEY])
        find_label_issues(
            [split_dir(examples, split) for split in splits],
            [split_dir(transformed, split) for split in splits],
            output.uri,
            class_names=json.loads(exec_properties[CLASS_NAMES_KEY]),
            method=exec_properties[METHOD_KEY],
            model=exec_properties[MODEL_KEY],
            folds=exec_properties[FOLDS_KEY],
            epochs=exec_properties[EPOCHS_KEY] or None,
            rounds=exec_properties[ROUNDS_KEY],
        )
