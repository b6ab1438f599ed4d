"""The whole TFX pipeline with LocalDagRunner on a tiny real dataset:
a first run, a rerun served from the cache, and a rerun after one image
changed."""

from pathlib import Path

import pytest
import yaml
from ml_metadata import metadata_store
from PIL import Image
from sklearn.datasets import load_digits
from tfx import v1 as tfx

from components.embedded_dataset.digits import render_digit
from components.image_etl.etl import run_etl
from pipeline import local_runner
from pipeline.run_results import read_results
from tests.conftest import IN_PROCESS_BEAM, REPO, save

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
    "Pusher",
    "LabelIssues",
    "Duplicates",
    "Outliers",
    "QualityReport",
}


def write_digits(root: Path) -> None:
    """12 train and 4 val real digit images per class."""
    digits = load_digits()
    counts = {"train": {}, "val": {}}
    for index, (scan, label) in enumerate(
        zip(digits.images, digits.target, strict=True)
    ):
        split = "val" if index % 4 == 0 else "train"
        count = counts[split].get(label, 0)
        if count < (4 if split == "val" else 12):
            counts[split][label] = count + 1
            image = Image.fromarray(render_digit(scan, 32))
            save(root / split / str(label) / f"{index}.png", image)


def etl(raw: Path, output: Path) -> None:
    run_etl(
        str(raw),
        str(output),
        splits=("train", "val"),
        on_bad_file="fail",
        images_per_shard=1000,
        parallel_from_images=10_000,
        beam_args=IN_PROCESS_BEAM,
    )


def node_states(metadata: Path) -> dict[str, int]:
    """Component id → state of its execution in the latest run."""
    config = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        str(metadata)
    )
    store = metadata_store.MetadataStore(config)
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
    results = read_results(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(project / "metadata.sqlite")
        ),
        "digits",
        [str(d) for d in range(10)],
    )
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
    # The report is there; what it finds is tested on the embedded
    # dataset in test_data_quality_e2e.
    assert (Path(results.artifacts["report"]) / "report.html").is_file()


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


def test_one_changed_image_reruns_from_example_gen(project, first_run):
    changed = sorted((project / "raw" / "train" / "3").glob("*.png"))[0]
    pixels = render_digit(load_digits().images[0], 32)
    Image.fromarray(255 - pixels).save(changed)
    etl(project / "raw", project / "tfrecords")
    local_runner.run(str(project / "params.yaml"))
    states = node_states(project / "metadata.sqlite")
    assert all(state == COMPLETE for state in states.values()), states
