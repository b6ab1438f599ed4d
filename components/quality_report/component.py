"""QualityReport: the run's data-quality report and issues.csv."""

import json

from tfx.types.standard_artifacts import Examples, Model, ModelEvaluation

from components.function_component import (
    InputArtifact,
    OptionalInputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from components.quality_report.analysis import ReportInputs, build_report
from components.test_accuracy.keys import SplitAccuracy
from core.findings.quality_artifacts import (
    DataQualityFindings,
    DataQualityReport,
)
from core.readers.example_tables import split_dir, split_names
from core.task import DEFAULT_TASK, get_task


@component
def QualityReport(
    examples: InputArtifact[Examples],
    transformed_examples: InputArtifact[Examples],
    model: InputArtifact[Model],
    evaluation: InputArtifact[ModelEvaluation],
    label_issues: InputArtifact[DataQualityFindings],
    duplicates: InputArtifact[DataQualityFindings],
    outliers: InputArtifact[DataQualityFindings],
    report: OutputArtifact[DataQualityReport],
    class_names: Parameter[str],
    etl_dir: Parameter[str],
    budget: Parameter[int],
    title: Parameter[str],
    test_accuracy: OptionalInputArtifact[SplitAccuracy] = None,
    task: Parameter[str] = DEFAULT_TASK,
    code_version: Parameter[str] = "",
) -> None:
    """Writes report.html (self-contained: label issues, duplicates,
    outliers and broken files with thumbnails, class balance against the
    budget, and the error analysis) and issues.csv (one row per flagged
    image and issue, with an empty `action` column for a reviewer).

    Args:
      examples: ImportExampleGen's examples (thumbnails, counts).
      transformed_examples: the Transform's (eval images to predict).
      model: the Trainer's model.
      evaluation: the Evaluator's (accuracy, slices, confusion).
      label_issues: LabelIssues' findings.
      duplicates: Duplicates' findings.
      outliers: Outliers' findings.
      report: report.html and issues.csv.
      class_names: the label of each class index, as a JSON list: TFX
        hands a Kubeflow step a list parameter as JSON text, a local one
        as a list.
      etl_dir: the ETL's output, whose quarantine.csv lists the
        files it could not convert.
      budget: the cap on train + val images.
      title: the report's heading.
      test_accuracy: TestAccuracy's figures, if there is a test split.
      task: the task whose error analysis the report shows.
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    build_report(
        ReportInputs(
            raw_split_dirs=[
                split_dir(examples, split) for split in split_names(examples)
            ],
            eval_split_dir=split_dir(transformed_examples, "eval"),
            model_uri=model.uri,
            evaluation_uri=evaluation.uri,
            findings_dirs=[
                findings.uri
                for findings in (label_issues, duplicates, outliers)
            ],
            etl_dir=etl_dir,
            test_accuracy_uri=test_accuracy.uri if test_accuracy else None,
            transformed_split_dirs=[
                split_dir(transformed_examples, split)
                for split in split_names(transformed_examples)
            ],
        ),
        report.uri,
        get_task(task),
        class_names=json.loads(class_names),
        budget=budget,
        title=title,
    )
