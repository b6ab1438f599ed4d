"""What the latest run of a pipeline produced, read back from MLMD and
its artifacts: accuracy, slices, TFLite figures, anomalies, blessing."""

import dataclasses
import json
import os
import posixpath
from collections import Counter
from typing import Any

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.io import fileio
from tfx.orchestration import metadata
from tfx.utils import path_utils

from components.quality_report.analysis import read_notes
from components.quality_report.evaluation_results import read_evaluation
from components.quality_report.report_data import SliceRow
from components.test_accuracy.accuracy_file import read_accuracy
from components.tflite_export import keys as tflite_keys
from core.dataset.etl.etl import QUARANTINE_FILE, read_summary
from core.findings.issues_csv import read_issues_csv
from core.findings.quality_artifacts import ISSUES_FILE
from core.task import DEFAULT_TASK, PipelineTask, get_pipeline_task

_OUTPUT_EVENTS = (
    metadata_store_pb2.Event.OUTPUT,
    metadata_store_pb2.Event.DECLARED_OUTPUT,
)
_EXAMPLE_GEN = "ImportExampleGen"
_INPUT_BASE = "input_base"  # its exec property: the folder it read
# The analyses that note what they could not judge (NOTES_FILE).
_NOTING = (
    ("LabelIssues", "label_issues"),
    ("Duplicates", "duplicates"),
    ("Outliers", "outliers"),
)


@dataclasses.dataclass(frozen=True)
class RunResults:
    run_id: str  # the TFX pipeline run, as `dcp compare` takes it
    # The task's headline figure on eval (see `headline`).
    accuracy: float
    eval_examples: int
    per_class_accuracy: dict[str, float]
    slices: tuple[SliceRow, ...]  # by image property, worst first
    confusion: dict[tuple[str, str], int]  # (actual, predicted) → count
    blessed: bool
    tflite: dict[str, Any]  # sizes and accuracies, see TFLiteExport
    anomalies: dict[str, list[str]]  # split → descriptions
    # Data-quality issue type → flagged images; None without the analyses.
    findings: dict[str, int] | None
    artifacts: dict[str, str]  # what → uri
    # The test split's figures (see TestAccuracy), None without a test split.
    test: dict[str, Any] | None = None
    # What limits what the run could judge: files the ETL left out, classes
    # too small to judge, ...
    warnings: tuple[str, ...] = ()
    # The name of the task's headline figure (core.task): the fields
    # named accuracy hold it.
    headline: str = "accuracy"

    def metrics(self) -> dict[str, Any]:
        """The figures `dvc metrics` tracks."""
        headline = self.headline
        return {
            "run_id": self.run_id,
            headline: self.accuracy,
            "eval_examples": self.eval_examples,
            f"per_class_{headline}": self.per_class_accuracy,
            "blessed": self.blessed,
            "tflite": self.tflite,
            "anomalies": sum(len(a) for a in self.anomalies.values()),
            **(
                {"findings": self.findings}
                if self.findings is not None
                else {}
            ),
            **(
                {"test": _test_metrics(self.test, headline)}
                if self.test
                else {}
            ),
        }


def _test_metrics(test: dict[str, Any], headline: str) -> dict[str, Any]:
    """The test figures `dvc metrics` tracks; the slices stay in the
    report."""
    return {
        headline: test["keras"][headline],
        "examples": test["examples"],
        f"per_class_{headline}": test["keras"][f"per_class_{headline}"],
        f"int8_{headline}": test["int8"][headline],
        "images_sha256": test["images_sha256"],
    }


def existing_store(metadata_path: str) -> metadata.ConnectionConfigType:
    """The connection to the MLMD store at `metadata_path`; ValueError,
    saying how to make one, if there is none."""
    if not fileio.exists(metadata_path):
        raise ValueError(
            f"{metadata_path}: no metadata store; run the pipeline first"
            " (dcp pipeline) or set pipeline.metadata in params.yaml"
        )
    return metadata.sqlite_metadata_connection_config(metadata_path)


def pipeline_runs(
    connection_config: metadata.ConnectionConfigType, pipeline_name: str
) -> list[str]:
    """The run ids of `pipeline_name`, oldest first."""
    store = metadata_store.MetadataStore(connection_config)
    return [run.name for run in _runs(store, pipeline_name)]


def latest_outputs(
    connection_config: metadata.ConnectionConfigType,
    pipeline_name: str,
    run_id: str | None = None,
) -> dict[tuple[str, str], metadata_store_pb2.Artifact]:
    """(component id, output key) → artifact, of the run `run_id` (by
    default the latest run), cached executions included."""
    store = metadata_store.MetadataStore(connection_config)
    run = _run(store, pipeline_name, run_id)
    node_of = {
        execution.id: node for node, execution in _node_executions(store, run)
    }
    events = store.get_events_by_execution_ids(list(node_of))
    output_events = [event for event in events if event.type in _OUTPUT_EVENTS]
    artifacts = {
        artifact.id: artifact
        for artifact in store.get_artifacts_by_id(
            [event.artifact_id for event in output_events]
        )
    }
    return {
        (node_of[event.execution_id], event.path.steps[0].key): artifacts[
            event.artifact_id
        ]
        for event in output_events
    }


def run_data_root(
    connection_config: metadata.ConnectionConfigType,
    pipeline_name: str,
    run_id: str | None = None,
) -> str:
    """The ETL output (classes.json, quarantine.csv, TFRecords) that the
    run `run_id` (None: the latest) of `pipeline_name` read: the
    input_base its ImportExampleGen recorded."""
    store = metadata_store.MetadataStore(connection_config)
    run = _run(store, pipeline_name, run_id)
    data_root = next(
        (
            execution.custom_properties[_INPUT_BASE].string_value
            for node, execution in _node_executions(store, run)
            if node == _EXAMPLE_GEN
            and _INPUT_BASE in execution.custom_properties
        ),
        None,
    )
    if data_root is None:
        raise ValueError(
            f"the run {run.name} of {pipeline_name!r} read no data (no"
            f" {_EXAMPLE_GEN}); pass --data-root with its ETL output"
        )
    if not fileio.isdir(data_root):
        raise ValueError(
            f"{data_root}: not found, the ETL output that run {run.name} of"
            f" {pipeline_name!r} read; pass --data-root with where it is"
            " now"
        )
    return data_root


def read_results(
    connection_config: metadata.ConnectionConfigType,
    pipeline_name: str,
    class_names: list[str],
    task: PipelineTask | None = None,
) -> RunResults:
    """The figures of the latest run of `pipeline_name`, a pipeline of
    `task` (by default classification)."""
    run_id = pipeline_runs(connection_config, pipeline_name)[-1]
    outputs = latest_outputs(connection_config, pipeline_name, run_id)
    blessing = outputs[("Evaluator", "blessing")]
    return results_from_outputs(
        run_id,
        {where: artifact.uri for where, artifact in outputs.items()},
        blessed=blessing.custom_properties["blessed"].int_value == 1,
        class_names=class_names,
        data_root=run_data_root(connection_config, pipeline_name, run_id),
        task=task,
    )


def results_from_outputs(
    run_id: str,
    uris: dict[tuple[str, str], str],
    *,
    blessed: bool,
    class_names: list[str],
    data_root: str | None = None,
    task: PipelineTask | None = None,
) -> RunResults:
    """The figures of a run of `task` (by default classification) whose
    (component, output key) → uri are `uris`, from any orchestrator; with
    the ETL's warnings if its output, `data_root`, is given."""
    task = task or get_pipeline_task(DEFAULT_TASK)
    evaluation = uris[("Evaluator", "evaluation")]
    summary = read_evaluation(
        evaluation,
        class_names,
        metric=task.headline_metric,
        class_metric=task.class_metric,
    )
    tflite_dir = path_utils.serving_model_path(
        uris[("TFLiteExport", "tflite_model")]
    )
    report = (
        uris.get(("QualityReport", "report"))
        or uris[("EvaluationReport", "report")]
    )
    test = uris.get(("TestAccuracy", "accuracy"))
    return RunResults(
        run_id=run_id,
        headline=task.headline,
        accuracy=summary.accuracy,
        eval_examples=summary.examples,
        per_class_accuracy=summary.per_class_accuracy,
        slices=summary.slices,
        confusion=summary.confusion,
        blessed=blessed,
        tflite=read_tflite_metrics(tflite_dir),
        anomalies=_anomalies(uris[("ExampleValidator", "anomalies")]),
        findings=_findings(report),
        artifacts={
            "model": uris[("Trainer", "model")],
            "evaluation": evaluation,
            "pushed": uris[("Pusher", "pushed_model")],
            "tflite": tflite_dir,
            "report": report,
        },
        test=read_accuracy(test) if test else None,
        warnings=run_warnings(uris, data_root),
    )


def _findings(report_uri: str) -> dict[str, int] | None:
    """Flagged images per issue type in the report's issues.csv; None for
    a report without findings (a task without data-quality analyses)."""
    issues_file = posixpath.join(report_uri, ISSUES_FILE)
    if not fileio.exists(issues_file):
        return None
    issues = read_issues_csv(issues_file)
    return dict(Counter(row["issue"] for row in issues))


def run_warnings(
    uris: dict[tuple[str, str], str], data_root: str | None
) -> tuple[str, ...]:
    """What the ETL left out of `data_root` and what the analyses among
    `uris` could not judge, each once."""
    etl = etl_warnings(data_root) if data_root else []
    notes = read_notes([uris[where] for where in _NOTING if where in uris])
    return tuple(dict.fromkeys([*etl, *notes]))


def etl_warnings(data_root: str) -> list[str]:
    """The warnings of the ETL that wrote `data_root` (a split left out,
    links followed out of the folder, ...) and its quarantined files, as
    its summary.json records them; none without a summary.json."""
    summary = read_summary(data_root)
    if summary is None:
        return []
    warnings = [f"ETL: {warning}" for warning in summary.warnings]
    quarantined = len(summary.quarantined)
    if quarantined:
        warnings.append(
            f"ETL: {quarantined} bad file(s) quarantined, not converted;"
            f" see {posixpath.join(data_root, QUARANTINE_FILE)}"
        )
    return warnings


def read_tflite_metrics(tflite_dir: str) -> dict[str, Any]:
    """Sizes and accuracies the TFLiteExport measured; `tflite_dir` is
    its serving directory."""
    with fileio.open(
        posixpath.join(tflite_dir, tflite_keys.METRICS_FILE), "r"
    ) as file:
        return json.load(file)


def _runs(
    store: metadata_store.MetadataStore, pipeline_name: str
) -> list[metadata_store_pb2.Context]:
    runs = [
        context
        for context in store.get_contexts_by_type("pipeline_run")
        if store.get_parent_contexts_by_context(context.id)
        and store.get_parent_contexts_by_context(context.id)[0].name
        == pipeline_name
    ]
    if not runs:
        raise ValueError(
            f"no run of pipeline {pipeline_name!r} in the metadata store"
        )
    runs.sort(key=lambda context: context.create_time_since_epoch)
    return runs


def _run(
    store: metadata_store.MetadataStore,
    pipeline_name: str,
    run_id: str | None,
) -> metadata_store_pb2.Context:
    runs = _runs(store, pipeline_name)
    if run_id is None:
        return runs[-1]
    named = [context for context in runs if context.name == run_id]
    if not named:
        raise ValueError(
            f"no run {run_id!r} of pipeline {pipeline_name!r}; its"
            " latest runs are: "
            + ", ".join(context.name for context in runs[-5:])
        )
    return named[0]


def _node_executions(
    store: metadata_store.MetadataStore, run: metadata_store_pb2.Context
) -> list[tuple[str, metadata_store_pb2.Execution]]:
    """(component id, execution) of each execution of `run`."""
    return [
        (context.name.split(".", 1)[1], execution)
        for execution in store.get_executions_by_context(run.id)
        for context in store.get_contexts_by_execution(execution.id)
        if context.type == "node"
    ]


def _anomalies(uri: str) -> dict[str, list[str]]:
    found = {}
    for found_dir in sorted(fileio.glob(posixpath.join(uri, "Split-*"))):
        split_dir = os.fsdecode(found_dir)
        anomalies = anomalies_pb2.Anomalies()
        with fileio.open(
            posixpath.join(split_dir, "SchemaDiff.pb"), "rb"
        ) as f:
            anomalies.ParseFromString(f.read())
        split = posixpath.basename(split_dir).removeprefix("Split-")
        found[split] = [
            f"{feature}: {info.description}"
            for feature, info in sorted(anomalies.anomaly_info.items())
        ]
    return found
