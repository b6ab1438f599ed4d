"""`dcp report`: the data-quality analyses and report on a finished run,
with the current params.yaml, outside the pipeline."""

import logging
import os
import posixpath

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
from tfx.dsl.io import fileio

from components.duplicates.analysis import find_duplicates_in
from components.outliers.analysis import find_outliers_in
from components.quality_report.analysis import ReportInputs, build_report
from core.dataset.etl.etl import read_classes
from core.dataset.staged_output import make_output_folder
from core.findings.quality_artifacts import ISSUES_FILE, REPORT_FILE
from core.task import Task
from pipeline.run_report import REPORT_KIND
from pipeline.run_results import latest_outputs, run_data_root
from pipeline.settings import ModelName, QualityConfig
from pipeline.tfx_pipeline import SPLIT_FOLDERS

# The splits whose labels are checked, as in the pipeline.
# Test is judged too, but never learnt from (folds.plan_folds).
_JUDGED_SPLITS = ("train", "eval", "test")


def report_on_run(
    quality: QualityConfig,
    task: Task,
    *,
    model_name: ModelName,
    metadata: str,
    pipeline_name: str,
    data_root: str | None,
    run_id: str | None,
    output_dir: str,
) -> tuple[str, str]:
    """Analyse the run `run_id` (None: the latest) of `pipeline_name` in
    the MLMD database `metadata`, whose ETL output is `data_root` (None:
    the one the run read), into `output_dir`, with the `quality`
    settings and the model `model_name` for the label issues; return
    the paths of report.html and issues.csv; `task` finds the label
    issues and the errors. `output_dir` must be new,
    empty or a report folder (staged_output)."""
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        metadata
    )
    outputs = latest_outputs(connection, pipeline_name, run_id)
    data_root = data_root or run_data_root(connection, pipeline_name, run_id)
    examples = split_folders(outputs[("ImportExampleGen", "examples")])
    transformed = split_folders(outputs[("Transform", "transformed_examples")])
    model = outputs[("Trainer", "model")].uri
    classes = read_classes(data_root)
    make_output_folder(output_dir, kind=REPORT_KIND)
    folders = {
        name: posixpath.join(output_dir, name)
        for name in ("label_issues", "duplicates", "outliers")
    }
    logging.info("Label issues by %s ...", quality.label_method)
    judged = [split for split in _JUDGED_SPLITS if split in examples]
    task.find_label_issues(
        [examples[split] for split in judged],
        [transformed[split] for split in judged],
        folders["label_issues"],
        class_names=classes,
        method=quality.label_method,
        model=model_name,
        folds=quality.folds,
        epochs=quality.label_epochs,
        rounds=quality.label_rounds,
        never_fit_folders=[SPLIT_FOLDERS["test"]],
    )
    find_duplicates_in(
        list(examples.values()),
        folders["duplicates"],
        max_distance=quality.near_duplicate_distance,
    )
    find_outliers_in(
        list(examples.values()),
        [transformed[split] for split in examples],
        model,
        folders["outliers"],
        fence=quality.outlier_fence,
    )
    build_report(
        ReportInputs(
            raw_split_dirs=list(examples.values()),
            eval_split_dir=transformed["eval"],
            model_uri=model,
            evaluation_uri=outputs[("Evaluator", "evaluation")].uri,
            findings_dirs=list(folders.values()),
            etl_dir=data_root,
        ),
        output_dir,
        task,
        class_names=classes,
        budget=quality.budget,
        title=f"{pipeline_name}, run {run_id or 'latest'}",
    )
    return (
        posixpath.join(output_dir, REPORT_FILE),
        posixpath.join(output_dir, ISSUES_FILE),
    )


def split_folders(artifact: metadata_store_pb2.Artifact) -> dict[str, str]:
    """TFX split name → folder of an Examples artifact."""
    folders = sorted(
        os.fsdecode(folder)
        for folder in fileio.glob(posixpath.join(artifact.uri, "Split-*"))
    )
    return {
        posixpath.basename(folder).removeprefix("Split-"): folder
        for folder in folders
    }
