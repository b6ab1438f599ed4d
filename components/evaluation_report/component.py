"""EvaluationReport: report.html of the trained model's evaluation, for
a task without data-quality analyses (core.task's
`EvaluationReporter`); a task with them has the QualityReport."""

import json

from tfx.types.standard_artifacts import Examples, Model
from tfx.utils import path_utils

from components.function_component import (
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from core.findings.quality_artifacts import DataQualityReport
from core.readers.example_tables import split_dir, split_names
from core.task import get_evaluation_reporter


@component
def EvaluationReport(
    model: InputArtifact[Model],
    transformed_examples: InputArtifact[Examples],
    report: OutputArtifact[DataQualityReport],
    class_names: Parameter[str],
    title: Parameter[str],
    task: Parameter[str],
    code_version: Parameter[str] = "",
) -> None:
    """Writes report.html: the task's figures on the test split (else
    eval), its curves and its labels, as the task draws them.

    Args:
      model: the Trainer's model.
      transformed_examples: the Transform's output, what the model reads.
      report: report.html.
      class_names: JSON list, the label of each class index.
      title: the report's heading.
      task: the task that measures and draws.
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    get_evaluation_reporter(task).write_evaluation_report(
        path_utils.serving_model_path(
            model.uri, path_utils.is_old_model_artifact(model)
        ),
        {
            split: split_dir(transformed_examples, split)
            for split in split_names(transformed_examples)
        },
        report.uri,
        class_names=json.loads(class_names),
        title=title,
    )
