"""The whole TFX pipeline with LocalDagRunner on a tiny real dataset:
a first run, the same pipeline compiled for Kubeflow and run task by task
as the KFP 2 backend would, a rerun served from the cache, and a rerun
after one image changed, compared with the run before it."""

import argparse
import csv
import json
from pathlib import Path

import pytest
import yaml
from ml_metadata import metadata_store
from PIL import Image
from sklearn.datasets import load_digits
from tfx import v1 as tfx

from core.dataset.embedded.digits import render_digit
from core.dataset.etl.etl import run_etl
from dcp import local_runner
from dcp.commands import compare as compare_command
from dcp.config import load_config
from dcp.kubeflow_local import LocalRun, run_local
from dcp.kubeflow_runner import compile_pipeline
from iteration.comparison.compare_job import HTML_FILE, JSON_FILE, compare_runs
from iteration.comparison.data_diff import CHANGED
from pipeline.run_results import (
    latest_outputs,
    pipeline_runs,
    read_results,
    results_from_outputs,
)
from tests.conftest import IN_PROCESS_BEAM, REPO, save
from tests.test_compare import SECTIONS
from tests.test_html_report import Page
from tests.test_report_browser import dump_dom

pytestmark = pytest.mark.e2e

COMPLETE, CACHED = 3, 5  # MLMD execution states
NODES = {
    "ImportExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "latest_blessed_model",
    "Evaluator",
    "TFLiteExport",
    "TestAccuracy",
    "Pusher",
    "LabelIssues",
    "Duplicates",
    "Outliers",
    "QualityReport",
}


PER_CLASS = {"train": 12, "val": 4, "test": 2}


def write_digits(root: Path) -> None:
    """12 train, 4 val and 2 test real digit images per class."""
    digits = load_digits()
    counts: dict[str, dict[int, int]] = {split: {} for split in PER_CLASS}
    for index, (scan, label) in enumerate(
        zip(digits.images, digits.target, strict=True)
    ):
        split = {0: "val", 1: "test"}.get(index % 4, "train")
        count = counts[split].get(label, 0)
        if count < PER_CLASS[split]:
            counts[split][label] = count + 1
            image = Image.fromarray(render_digit(scan, 32))
            save(root / split / str(label) / f"{index}.png", image)


def etl(raw: Path, output: Path) -> None:
    run_etl(
        str(raw),
        str(output),
        splits=tuple(PER_CLASS),
        on_bad_file="fail",
        images_per_shard=1000,
        parallel_from_images=10_000,
        beam_args=IN_PROCESS_BEAM,
    )


def connection(metadata: Path):
    return tfx.orchestration.metadata.sqlite_metadata_connection_config(
        str(metadata)
    )


def node_states(metadata: Path) -> dict[str, int]:
    """Component id → state of its execution in the latest run."""
    store = metadata_store.MetadataStore(connection(metadata))
    run = max(
        store.get_contexts_by_type("pipeline_run"),
        key=lambda context: context.create_time_since_epoch,
    )
    states = {}
    for execution in store.get_executions_by_context(run.id):
        for context in store.get_contexts_by_execution(execution.id):
            if context.type == "node":
                node = context.name.split(".", 1)[1]
                states[node] = execution.last_known_state
    return states


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Tiny data, its ETL output, and a params.yaml pointing at both with
    one epoch of training."""
    root = tmp_path_factory.mktemp("pipeline")
    write_digits(root / "raw")
    etl(root / "raw", root / "tfrecords")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["etl"]["output"] = str(root / "tfrecords")
    params["pipeline"].update(
        root=str(root / "tfx"),
        metadata=str(root / "metadata.sqlite"),
        serving_dir=str(root / "serving"),
        metrics=str(root / "metrics.json"),
        plots=str(root / "plots"),
    )
    params["trainer"]["epochs"] = 1
    # A short auditor: this test is about the DAG, its cache and compare.
    params["quality"].update(label_rounds=1, label_epochs=3)
    # One epoch on 120 images: bless whatever it learns, to see the push.
    params["evaluator"]["min_accuracy"] = 0.0
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return root


@pytest.fixture(scope="module")
def first_run(project) -> dict[str, int]:
    local_runner.run(str(project / "params.yaml"))
    return node_states(project / "metadata.sqlite")


def test_first_run_executes_every_component(project, first_run):
    assert set(first_run) == NODES
    assert all(state == COMPLETE for state in first_run.values())
    metadata = connection(project / "metadata.sqlite")
    results = read_results(metadata, "digits", [str(d) for d in range(10)])
    # The run id dcp compare takes, recorded for dvc metrics.
    assert [results.run_id] == pipeline_runs(metadata, "digits")
    assert results.metrics()["run_id"] == results.run_id
    assert results.eval_examples == 40
    assert 0.0 <= results.accuracy <= 1.0
    assert set(results.per_class_accuracy) == {str(d) for d in range(10)}
    assert {s.feature for s in results.slices} == {
        "brightness_bucket",
        "contrast_bucket",
        "std_red_bucket",
        "blur_bucket",
    }
    assert sum(results.confusion.values()) == 40
    # Blessed (min_accuracy 0), so the Pusher copied it to serving.
    assert results.blessed
    assert list((project / "serving").iterdir())
    tflite = results.tflite
    assert tflite["eval_examples"] == 40
    assert tflite["int8_bytes"] < tflite["float32_bytes"] / 3
    int8_model = Path(results.artifacts["tflite"]) / "model_int8.tflite"
    assert int8_model.stat().st_size == tflite["int8_bytes"]
    # The held-fixed test split, measured beside eval.
    assert results.test["examples"] == 20
    test = results.metrics()["test"]
    assert test["examples"] == 20 and 0.0 <= test["accuracy"] <= 1.0
    assert 0.0 <= test["int8_accuracy"] <= 1.0
    # The report is there; what it finds is tested on the embedded
    # dataset in test_data_quality_e2e.
    report = Path(results.artifacts["report"])
    assert (report / "report.html").is_file()
    # Every image on the embedding map, in a cluster ranked by loss.
    with (report / "population.csv").open() as file:
        points = list(csv.DictReader(file))
    assert len(points) == 10 * sum(PER_CLASS.values())
    assert {p["split"] for p in points} == set(PER_CLASS)
    assert "brightness" in points[0] and "blur" in points[0]
    assert all(
        0 <= float(p["x"]) <= 1 and 0 <= float(p["y"]) <= 1 for p in points
    )
    insights = json.loads((report / "insights.json").read_text())
    clusters = insights["clusters"]
    assert sum(sum(c["sizes"].values()) for c in clusters) == len(points)
    losses = [c["mean_loss"] for c in clusters]
    assert losses == sorted(losses, reverse=True)


@pytest.fixture(scope="module")
def kubeflow_run(project, tmp_path_factory) -> tuple[LocalRun, list[str]]:
    """The pipeline of `project` compiled for Kubeflow and run by
    `dcp kubeflow run-local`, a subprocess per step as in the pods, on
    the data of the first run; the run and its progress lines."""
    root = tmp_path_factory.mktemp("kubeflow")
    config = load_config(project / "params.yaml")
    spec = compile_pipeline(
        config,
        image="registry.example/dcp:test",
        output_file=str(root / "digits.json"),
        pipeline_root=str(root / "tfx"),
        serving_dir=str(root / "serving"),
    )
    lines: list[str] = []
    return run_local(spec, str(root / "tfx"), progress=lines.append), lines


# Before the tests that rerun the pipeline or change an image.
def test_the_kubeflow_spec_runs_every_step_as_local_dag_runner_does(
    project, first_run, kubeflow_run
):
    run, progress = kubeflow_run
    # Every component but the resolver, which KFP 2 cannot run.
    assert set(run.tasks) == NODES - {"latest_blessed_model"}
    assert progress[0] == f"[1/{len(run.tasks)}] ImportExampleGen ..."
    assert len(progress) == 2 * len(run.tasks)
    for (task, key), uri in run.uris().items():
        assert uri.startswith(f"{run.run_root}/{task}/"), (task, key)
        assert Path(uri).is_dir(), (task, key)
    assert "outputs under" in run.summary()
    blessing = run.tasks["Evaluator"].outputs["blessing"]
    kubeflow = results_from_outputs(
        "kubeflow",
        run.uris(),
        blessed=blessing.metadata["blessed"] == 1,
        class_names=[str(d) for d in range(10)],
    )
    metadata = connection(project / "metadata.sqlite")
    first = pipeline_runs(metadata, "digits")[0]
    local = results_from_outputs(
        first,
        {
            where: artifact.uri
            for where, artifact in latest_outputs(
                metadata, "digits", first
            ).items()
        },
        blessed=True,  # asserted by test_first_run_executes_every_component
        class_names=[str(d) for d in range(10)],
    )
    # The model, served: blessed (min_accuracy 0) and pushed.
    model = Path(kubeflow.artifacts["model"])
    assert (model / "Format-Serving" / "saved_model.pb").is_file()
    assert kubeflow.blessed
    pushed = run.tasks["Pusher"].outputs["pushed_model"]
    assert pushed.metadata["pushed"] == 1
    assert Path(pushed.metadata["pushed_destination"]).is_dir()
    # The same data, so the same counts and the same data checks.
    assert kubeflow.eval_examples == local.eval_examples == 40
    assert kubeflow.anomalies == local.anomalies
    assert kubeflow.test and kubeflow.test["examples"] == 20
    # Training is seeded and, on CPU, bit for bit the same in a subprocess
    # per step: the same figures, to the last image.
    assert kubeflow.accuracy == local.accuracy
    assert kubeflow.per_class_accuracy == local.per_class_accuracy
    assert kubeflow.confusion == local.confusion
    assert kubeflow.test == local.test
    assert kubeflow.tflite == local.tflite
    assert kubeflow.tflite["eval_examples"] == 40
    int8_model = Path(kubeflow.artifacts["tflite"]) / "model_int8.tflite"
    assert int8_model.stat().st_size == kubeflow.tflite["int8_bytes"]
    # The report and the issues to review, with the same kinds of finding.
    report = Path(kubeflow.artifacts["report"])
    assert "<html" in (report / "report.html").read_text()
    assert (report / "issues.csv").read_text().startswith("path,sha256,")
    assert kubeflow.findings == local.findings


def test_rerun_with_nothing_changed_is_served_from_the_cache(
    project, first_run
):
    local_runner.run(str(project / "params.yaml"))
    states = node_states(project / "metadata.sqlite")
    # The first run's model was blessed, so the Evaluator now has a
    # baseline it did not have: it, and the Pusher after it, run again.
    # The resolver looks up the latest blessed model afresh every run.
    rerun = {"latest_blessed_model", "Evaluator", "Pusher", "QualityReport"}
    assert {n for n, state in states.items() if state != CACHED} == rerun
    assert {states[n] for n in rerun} == {COMPLETE}

    # With the same baseline again, everything but the resolver is cached.
    local_runner.run(str(project / "params.yaml"))
    states = node_states(project / "metadata.sqlite")
    del states["latest_blessed_model"]
    assert set(states.values()) == {CACHED}


@pytest.fixture(scope="module")
def changed_image(project, first_run) -> str:
    """One train image replaced by another digit, inverted; the ETL and
    the pipeline run again. The image's path in the dataset."""
    changed = sorted((project / "raw" / "train" / "3").glob("*.png"))[0]
    pixels = render_digit(load_digits().images[0], 32)
    Image.fromarray(255 - pixels).save(changed)
    etl(project / "raw", project / "tfrecords")
    local_runner.run(str(project / "params.yaml"))
    return changed.relative_to(project / "raw").as_posix()


def test_one_changed_image_reruns_from_example_gen(project, changed_image):
    states = node_states(project / "metadata.sqlite")
    assert all(state == COMPLETE for state in states.values()), states


def test_compare_shows_the_changed_image_and_its_effects(
    project, changed_image, tmp_path
):
    output = tmp_path / "compare"
    config = load_config(project / "params.yaml")
    comparison = compare_runs(
        config.compare,
        a="previous",
        b="latest",
        pipeline_name="digits",
        metadata=config.pipeline.metadata,
        metrics_file=config.pipeline.metrics,
        data_root=str(project / "tfrecords"),
        output_dir=str(output),
    )
    runs = pipeline_runs(connection(project / "metadata.sqlite"), "digits")
    assert (comparison.a.run_id, comparison.b.run_id) == tuple(runs[-2:])
    # The one change: the same path with other bytes; no count moved.
    (change,) = comparison.changes
    assert (change.kind, change.path_a, change.path_b) == (
        CHANGED,
        changed_image,
        changed_image,
    )
    assert [row.change for row in comparison.counts] == [0] * 30
    # The test images are the same files in both runs: test accuracy
    # is compared, and is the headline.
    test = comparison.test
    assert test.note == "" and test.overall is not None
    assert test.overall.examples_a == test.overall.examples_b == 20
    # TFDV sees it in train's brightness; eval is the same data.
    train = {d.feature: d for d in comparison.drift if d.split == "train"}
    assert train["brightness"].value > 0
    eval_drift = [d for d in comparison.drift if d.split == "eval"]
    assert eval_drift and all(d.value == 0 for d in eval_drift)
    # Each model on its own eval split: as many right as the Evaluator
    # counted, and the flips make up the difference.
    overall, flips = comparison.overall, comparison.flips
    assert flips.matched == overall.examples_a == overall.examples_b == 40
    assert flips.right_a == round(overall.a * 40)
    assert flips.right_b == round(overall.b * 40)
    assert flips.right_b - flips.right_a == len(flips.wrong_to_right) - len(
        flips.right_to_wrong
    )
    tflite = {figure.name: figure for figure in comparison.tflite}
    assert tflite["int8_bytes"].a > 0 and tflite["int8_bytes"].b > 0
    assert "not a git revision" in comparison.dvc.note
    record = json.loads((output / JSON_FILE).read_text())
    assert record["changes"][CHANGED] == 1
    assert record["b"]["run_id"] == runs[-1]
    page = Page(dump_dom(tmp_path, (output / HTML_FILE).as_uri()))
    assert page.section_ids == SECTIONS
    assert page.column("changes-table", 2) == [changed_image]
    assert "test-accuracy-table" in page.tables
    # The changed image before and after, and each flipped image.
    flipped = len(flips.right_to_wrong) + len(flips.wrong_to_right)
    assert len(page.images) == 2 + flipped


def test_compare_the_latest_run_with_itself(
    project, changed_image, tmp_path, capsys
):
    # The run's name is enough: its classes come from the ETL output it
    # read, not from params.yaml's.
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["etl"]["output"] = str(tmp_path / "no-etl-output")
    params["pipeline"]["name"] = "another"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    output = tmp_path / "compare"
    parser = argparse.ArgumentParser()
    compare_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "compare",
            "latest",
            "latest",
            "--output",
            str(output),
            "--name",
            "digits",
        ]
    )
    args.run(args, load_config(tmp_path / "params.yaml"), [])
    summary = capsys.readouterr().out
    assert "0 right → wrong, 0 wrong → right of the 40 eval images" in summary
    assert "(+0.000) on the same 20 test images" in summary
    assert "all 10 classes as before" in summary
    assert "0 added, 0 removed, 0 changed, 0 moved" in summary
    assert "no feature beyond its threshold" in summary
    assert f"compare.html: {output / HTML_FILE}" in summary
    record = json.loads((output / JSON_FILE).read_text())
    assert all(row["change"] == 0 for row in record["accuracy"])
    assert all(not row["value"] for row in record["drift"])
