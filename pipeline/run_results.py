"""What the latest run of a pipeline produced, read back from MLMD and
its artifacts: accuracy, slices, TFLite figures, anomalies, blessing."""

import dataclasses
import json
import os
import posixpath
from typing import Any

import tensorflow_model_analysis as tfma
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.io import fileio
from tfx.orchestration import metadata
from tfx.utils import path_utils

from components.tflite_export import keys as tflite_keys
from models import features
from pipeline.evaluation import ACCURACY

_OUTPUT_EVENTS = (
    metadata_store_pb2.Event.OUTPUT,
    metadata_store_pb2.Event.DECLARED_OUTPUT,
)


@dataclasses.dataclass(frozen=True)
class SliceAccuracy:
    feature: str
    value: int
    accuracy: float
    examples: int


@dataclasses.dataclass(frozen=True)
class RunResults:
    accuracy: float
    eval_examples: int
    per_class_accuracy: dict[str, float]
    slices: tuple[SliceAccuracy, ...]  # by image property, worst first
    confusion: dict[tuple[str, str], int]  # (actual, predicted) → count
    blessed: bool
    tflite: dict[str, Any]  # sizes and accuracies, see TFLiteExport
    anomalies: dict[str, list[str]]  # split → descriptions
    artifacts: dict[str, str]  # what → uri

    def metrics(self) -> dict[str, Any]:
        """The figures `dvc metrics` tracks."""
        return {
            "accuracy": self.accuracy,
            "eval_examples": self.eval_examples,
            "per_class_accuracy": self.per_class_accuracy,
            "blessed": self.blessed,
            "tflite": self.tflite,
            "anomalies": sum(len(a) for a in self.anomalies.values()),
        }


def latest_outputs(
    connection_config: metadata.ConnectionConfigType, pipeline_name: str
) -> dict[tuple[str, str], metadata_store_pb2.Artifact]:
    """(component id, output key) → artifact, of the latest pipeline run,
    cached executions included."""
    store = metadata_store.MetadataStore(connection_config)
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
    run = max(runs, key=lambda context: context.create_time_since_epoch)
    executions = store.get_executions_by_context(run.id)
    node_of = {}
    for execution in executions:
        for context in store.get_contexts_by_execution(execution.id):
            if context.type == "node":
                node_of[execution.id] = context.name.split(".", 1)[1]
    events = store.get_events_by_execution_ids(list(node_of))
    output_events = [
        event
        for event in events
        if event.type
        in (
            metadata_store_pb2.Event.OUTPUT,
            metadata_store_pb2.Event.DECLARED_OUTPUT,
        )
    ]
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


def read_results(
    connection_config: metadata.ConnectionConfigType,
    pipeline_name: str,
    class_names: list[str],
) -> RunResults:
    outputs = latest_outputs(connection_config, pipeline_name)
    evaluation = outputs[("Evaluator", "evaluation")].uri
    result = tfma.load_eval_result(evaluation)
    by_slice = {
        slice_key: _accuracy_and_count(metrics)
        for slice_key, metrics in result.slicing_metrics
    }
    accuracy, examples = by_slice[()]
    per_class = {
        class_names[key[0][1]]: value[0]
        for key, value in sorted(by_slice.items())
        if key and key[0][0] == features.LABEL
    }
    slices = sorted(
        (
            SliceAccuracy(key[0][0], int(key[0][1]), *value)
            for key, value in by_slice.items()
            if key and key[0][0] != features.LABEL
        ),
        key=lambda s: s.accuracy,
    )
    blessing = outputs[("Evaluator", "blessing")]
    tflite_dir = path_utils.serving_model_path(
        outputs[("TFLiteExport", "tflite_model")].uri
    )
    with fileio.open(
        posixpath.join(tflite_dir, tflite_keys.METRICS_FILE), "r"
    ) as file:
        tflite = json.load(file)
    tflite["dir"] = tflite_dir
    return RunResults(
        accuracy=accuracy,
        eval_examples=examples,
        per_class_accuracy=per_class,
        slices=tuple(slices),
        confusion=_confusion(evaluation, class_names),
        blessed=blessing.custom_properties["blessed"].int_value == 1,
        tflite=tflite,
        anomalies=_anomalies(outputs[("ExampleValidator", "anomalies")].uri),
        artifacts={
            "model": outputs[("Trainer", "model")].uri,
            "evaluation": evaluation,
            "pushed": outputs[("Pusher", "pushed_model")].uri,
        },
    )


def _accuracy_and_count(metrics: dict[str, Any]) -> tuple[float, int]:
    overall = metrics[""][""]
    return (
        float(overall[ACCURACY]["doubleValue"]),
        int(overall["example_count"]["doubleValue"]),
    )


def _confusion(
    evaluation: str, class_names: list[str]
) -> dict[tuple[str, str], int]:
    for plots in tfma.load_plots(evaluation):
        if plots.slice_key.single_slice_keys:
            continue  # only the overall slice
        for entry in plots.plot_keys_and_values:
            matrices = entry.value.multi_class_confusion_matrix_at_thresholds
            for matrix in matrices.matrices:
                return {
                    (
                        class_names[cell.actual_class_id],
                        class_names[cell.predicted_class_id],
                    ): int(cell.num_weighted_examples)
                    for cell in matrix.entries
                }
    return {}


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
