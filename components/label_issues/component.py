"""LabelIssues: suspected label errors of train, eval and test images."""

import json

from tfx.types.standard_artifacts import Examples

from components.function_component import (
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from core.findings.quality_artifacts import DataQualityFindings
from core.readers.example_tables import split_dir
from core.task import DEFAULT_TASK, get_task


@component
def LabelIssues(
    examples: InputArtifact[Examples],
    transformed_examples: InputArtifact[Examples],
    label_issues: OutputArtifact[DataQualityFindings],
    class_names: Parameter[str],
    model: Parameter[str],
    task: Parameter[str] = DEFAULT_TASK,
    method: Parameter[str] = "auditor",
    folds: Parameter[int] = 5,
    # TFX allows a None default; mypy reads Parameter[int] as plain int.
    epochs: Parameter[int] = None,  # type: ignore[assignment]
    rounds: Parameter[int] = 1,
    splits: Parameter[str] = '["train", "eval"]',
    never_fit_folders: Parameter[str] = "[]",
    code_version: Parameter[str] = "",
) -> None:
    """Ranks every image of `splits` by how likely its label is wrong,
    with the task's detector: for classification, confident learning
    (cleanlab) on out-of-sample probabilities. Writes ranking.csv (every
    image) and findings.csv (those it flags).

    Args:
      examples: the ETL's examples (the auditor reads their images).
      transformed_examples: the Transform's output of them.
      label_issues: the ranking and the findings.
      class_names: the label of each class index, as a JSON list: TFX
        hands a Kubeflow step a list parameter as JSON text, a local one
        as a list.
      model: the fixed model's registry name.
      task: the task whose detector runs (core/task.py).
      method: "auditor" (K-fold training of a small CNN on the ink
        crops), "cross_train" (K-fold training of the fixed model) or
        "pixel_probe" (a K-fold linear probe on the pixels; seconds).
      folds: K, or fewer where a class is smaller.
      epochs: per fold; None for the method's default.
      rounds: K-fold rounds, each with its own split, averaged.
      splits: the TFX splits whose labels are checked, as a JSON list.
      never_fit_folders: the dataset folders (e.g. "test") among them
        whose images are judged but never learnt from, as a JSON list.
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    split_list = json.loads(splits)
    get_task(task).find_label_issues(
        [split_dir(examples, split) for split in split_list],
        [split_dir(transformed_examples, split) for split in split_list],
        label_issues.uri,
        class_names=json.loads(class_names),
        method=method,
        model=model,
        folds=folds,
        epochs=epochs,
        rounds=rounds,
        never_fit_folders=json.loads(never_fit_folders),
    )
