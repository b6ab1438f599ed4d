"""`dcp compare`: read two runs back from MLMD and their artifacts, and
write compare.html and compare.json."""

import csv
import dataclasses
import json
import logging
import posixpath

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
from tfx.dsl.io import fileio
from tfx.utils import path_utils

from components.quality_report.analysis import class_counts
from components.quality_report.evaluation_results import (
    EvaluationSummary,
    read_evaluation,
)
from components.test_accuracy.accuracy_file import read_accuracy
from core.dataset.etl.etl import MANIFEST_FILE, read_classes, read_summary
from core.dataset.staged_output import make_output_folder
from core.readers.example_tables import (
    RawTable,
    read_file_images,
    read_raw,
)
from core.readers.trained_model import (
    load_keras_model,
    predict,
    read_model_inputs,
)
from core.task import DEFAULT_TASK, PipelineTask, get_pipeline_task
from iteration.comparison.accuracy import (
    accuracy_deltas,
    figure_deltas,
    held_out_deltas,
)
from iteration.comparison.compare_html import render_comparison
from iteration.comparison.comparison import (
    Comparison,
    comparison_json,
    listed_hashes,
)
from iteration.comparison.data_diff import count_rows, data_changes
from iteration.comparison.drift import FeatureDrift, statistics_drift
from iteration.comparison.dvc_diff import dvc_diff
from iteration.comparison.flips import (
    EvalPredictions,
    find_flips,
    predictions,
)
from iteration.comparison.runs import RunRef, resolve_run
from iteration.settings import CompareConfig
from pipeline.run_results import (
    latest_outputs,
    pipeline_runs,
    read_tflite_metrics,
    run_data_root,
)

HTML_FILE = "compare.html"
JSON_FILE = "compare.json"
DVC_PLOTS = "dvc_plots"  # the folder `dvc plots diff` writes
# The writer named in the marker of every output (staged_output).
OUTPUT_KIND = "dcp compare"
EXAMPLES = ("ImportExampleGen", "examples")
STATISTICS = ("StatisticsGen", "statistics")
SCHEMA = ("SchemaGen", "schema")
TRANSFORMED = ("Transform", "transformed_examples")
MODEL = ("Trainer", "model")
EVALUATION = ("Evaluator", "evaluation")
TFLITE = ("TFLiteExport", "tflite_model")
TEST_ACCURACY = ("TestAccuracy", "accuracy")  # only with a test split
# What a run needs to be compared; latest and previous have them all.
NEEDED = (EXAMPLES, STATISTICS, SCHEMA, TRANSFORMED, MODEL, EVALUATION, TFLITE)
_EVAL_SPLIT = "eval"

Outputs = dict[tuple[str, str], metadata_store_pb2.Artifact]


@dataclasses.dataclass(frozen=True)
class _Run:
    ref: RunRef
    outputs: Outputs
    files: dict[str, str]  # every split's example paths → sha256
    pngs: dict[str, bytes]  # sha256 → the ETL's PNG, where read
    counts: dict[str, dict[str, int]]  # split → class → images or boxes
    evaluation: EvaluationSummary
    # The eval images' classes as predicted; None for a task whose model
    # gives no single class per image (detection).
    predictions: EvalPredictions | None


def compare_runs(
    settings: CompareConfig,
    *,
    a: str,
    b: str,
    pipeline_name: str,
    metadata: str,
    metrics_file: str,
    data_root: str | None,
    output_dir: str,
    task: PipelineTask | None = None,
) -> Comparison:
    """Compare the runs `a` and `b` name (see runs.resolve_run) of
    `pipeline_name`, a pipeline of `task` (by default classification), in
    the MLMD database `metadata`, each with the class names of
    `data_root` (None: the ETL output it read), and write compare.html
    and compare.json into `output_dir`, which must be new, empty or an
    earlier comparison's (staged_output). `metrics_file` is the
    project's metrics.json, the one git revisions hold.

    The runs are compared on the task's headline figure (accuracy,
    mAP50). A task whose examples have no class label (detection) has
    its boxes per class counted from the ETL's summary, and no flipped
    eval images: its model gives no single class per image."""
    task = task or get_pipeline_task(DEFAULT_TASK)
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        metadata
    )
    runs = pipeline_runs(connection, pipeline_name)
    outputs = {
        run: latest_outputs(connection, pipeline_name, run) for run in runs
    }
    complete = [run for run in runs if set(NEEDED) <= outputs[run].keys()]
    refs = [
        resolve_run(
            name,
            runs=runs,
            complete_runs=complete,
            metrics_file=metrics_file,
        )
        for name in (a, b)
    ]
    roots = [
        data_root or run_data_root(connection, pipeline_name, ref.run_id)
        for ref in refs
    ]
    classes_a, classes_b = (read_classes(root) for root in roots)
    make_output_folder(output_dir, kind=OUTPUT_KIND)
    run_a, run_b = (
        _read_run(ref, outputs[ref.run_id], class_names, root, task)
        for ref, class_names, root in zip(
            refs, (classes_a, classes_b), roots, strict=True
        )
    )
    headline = task.headline
    comparison = Comparison(
        pipeline=pipeline_name,
        a=run_a.ref,
        b=run_b.ref,
        # Only where both runs have counts: a detector's come from an ETL
        # summary, which may not be the one the run read.
        counts=(
            count_rows(run_a.counts, run_b.counts, classes_a)
            if run_a.counts and run_b.counts
            else []
        ),
        changes=data_changes(run_a.files, run_b.files),
        drift=_drift(run_a, run_b, settings),
        accuracy=accuracy_deltas(run_a.evaluation, run_b.evaluation),
        tflite=figure_deltas(
            _tflite(run_a.outputs), _tflite(run_b.outputs), headline
        ),
        flips=(
            find_flips(run_a.predictions, run_b.predictions)
            if run_a.predictions and run_b.predictions
            else None
        ),
        dvc=dvc_diff(
            run_a.ref,
            run_b.ref,
            metrics_file=metrics_file,
            plots_dir=posixpath.join(output_dir, DVC_PLOTS),
        ),
        thumbnails={},
        test=held_out_deltas(
            _test(run_a.outputs), _test(run_b.outputs), headline
        ),
        headline=headline,
        counted="images" if _labelled(task) else "boxes",
    )
    shown = listed_hashes(comparison)
    comparison = dataclasses.replace(
        comparison,
        thumbnails={
            sha256: png
            for run in (run_a, run_b)
            for sha256, png in run.pngs.items()
            if sha256 in shown
        },
    )
    with fileio.open(posixpath.join(output_dir, HTML_FILE), "w") as file:
        file.write(render_comparison(comparison, html_dir=output_dir))
    with fileio.open(posixpath.join(output_dir, JSON_FILE), "w") as file:
        file.write(json.dumps(comparison_json(comparison), indent=2) + "\n")
    return comparison


def _labelled(task: PipelineTask) -> bool:
    """Whether the task's examples hold a class label, by which the
    Evaluator slices (classification), rather than a class per object."""
    return not task.class_metric


def _read_run(
    ref: RunRef,
    outputs: Outputs,
    class_names: list[str],
    data_root: str,
    task: PipelineTask,
) -> _Run:
    missing = [
        f"{component} {key}"
        for component, key in NEEDED
        if (component, key) not in outputs
    ]
    if missing:
        raise ValueError(
            f"run {ref.run_id} ({ref.name}) has no {', '.join(missing)}:"
            " it did not finish; compare a finished run"
        )
    logging.info("Reading run %s (%s)", ref.run_id, ref.name)
    examples = outputs[EXAMPLES]
    split_dirs = [
        posixpath.join(examples.uri, f"Split-{split}")
        for split in _split_names(examples)
    ]
    evaluation = read_evaluation(
        outputs[EVALUATION].uri,
        class_names,
        metric=task.headline_metric,
        class_metric=task.class_metric,
    )
    if not _labelled(task):
        paths, hashes, pngs = read_file_images(split_dirs)
        files = dict(zip(paths, hashes, strict=True))
        return _Run(
            ref=ref,
            outputs=outputs,
            files=files,
            pngs=dict(zip(hashes, pngs, strict=True)),
            counts=_summary_counts(data_root, files),
            evaluation=evaluation,
            predictions=None,
        )
    raw = read_raw(split_dirs)
    logging.info("Predicting its eval images with its model")
    model = load_keras_model(outputs[MODEL].uri)
    pixels = read_model_inputs(
        model,
        [posixpath.join(outputs[TRANSFORMED].uri, f"Split-{_EVAL_SPLIT}")],
    )
    return _Run(
        ref=ref,
        outputs=outputs,
        files=_files(raw),
        pngs=dict(zip(raw.sha256, raw.pngs, strict=True)),
        counts=class_counts(raw),
        evaluation=evaluation,
        predictions=predictions(
            pixels.paths,
            pixels.labels,
            predict(model, pixels.images),
            sha256_of=_files(raw),
            class_names=class_names,
        ),
    )


def _summary_counts(
    data_root: str, files: dict[str, str]
) -> dict[str, dict[str, int]]:
    """Objects (boxes) per split and class, as the summary.json of the
    ETL output `data_root` records them; none where it records none, or
    where its manifest's files (path → sha256) are not the run's
    `files`: the ETL wrote that folder again since the run read it."""
    summary = read_summary(data_root)
    manifest = posixpath.join(data_root, MANIFEST_FILE)
    if summary is None or not summary.instances:
        return {}
    if not fileio.exists(manifest):
        return {}
    with fileio.open(manifest, "r") as file:
        converted = {
            row["path"]: row["sha256"] for row in csv.DictReader(file)
        }
    return summary.instances if converted == files else {}


def _drift(
    run_a: _Run, run_b: _Run, thresholds: CompareConfig
) -> list[FeatureDrift]:
    logging.info(
        "Statistics drift from %s to %s", run_a.ref.name, run_b.ref.name
    )
    statistics_a, statistics_b = (
        run.outputs[STATISTICS] for run in (run_a, run_b)
    )
    return statistics_drift(
        statistics_a.uri,
        statistics_b.uri,
        run_b.outputs[SCHEMA].uri,
        splits=[
            split
            for split in _split_names(statistics_b)
            if split in _split_names(statistics_a)
        ],
        jensen_shannon_threshold=thresholds.jensen_shannon_threshold,
        infinity_norm_threshold=thresholds.infinity_norm_threshold,
    )


def _split_names(artifact: metadata_store_pb2.Artifact) -> list[str]:
    return json.loads(artifact.properties["split_names"].string_value)


def _files(raw: RawTable) -> dict[str, str]:
    return dict(zip(raw.paths, raw.sha256, strict=True))


def _test(outputs: Outputs) -> dict | None:
    """TestAccuracy's figures, None where the run had no test split."""
    test = outputs.get(TEST_ACCURACY)
    return read_accuracy(test.uri) if test else None


def _tflite(outputs: Outputs) -> dict:
    return read_tflite_metrics(
        path_utils.serving_model_path(outputs[TFLITE].uri)
    )
