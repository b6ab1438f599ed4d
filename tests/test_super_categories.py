"""Super-categories: params.yaml's `etl.labels` gives several class
folders one label, and the whole pipeline follows it: the class list,
the counts, the evaluation, the test accuracy and the report."""

import csv
import json
from pathlib import Path

import pytest
import yaml

from dcp import cli
from pipeline.run_results import read_results
from tests.conftest import IN_PROCESS_BEAM, REPO
from tests.test_pipeline_e2e import PER_CLASS, connection, write_digits

pytestmark = pytest.mark.e2e

# Digits with a closed loop, as one class.
LOOPS = {"0": "loop", "6": "loop", "8": "loop", "9": "loop"}
CLASSES = ["1", "2", "3", "4", "5", "7", "loop"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """`dcp etl` then `dcp pipeline`, with LOOPS in params.yaml."""
    root = tmp_path_factory.mktemp("super-categories")
    write_digits(root / "raw")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["etl"].update(
        data=str(root / "raw"),
        output=str(root / "tfrecords"),
        labels=LOOPS,
        beam_args=list(IN_PROCESS_BEAM),
    )
    params["pipeline"].update(
        root=str(root / "tfx"),
        metadata=str(root / "metadata.sqlite"),
        serving_dir=str(root / "serving"),
        metrics=str(root / "metrics.json"),
        plots=str(root / "plots"),
    )
    params["quality"].update(
        report=str(root / "report"), label_method="pixel_probe"
    )
    params["trainer"]["epochs"] = 1
    params["evaluator"]["min_accuracy"] = 0.0
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    for command in ("etl", "pipeline"):
        assert cli.main(["--params", str(root / "params.yaml"), command]) == 0
    return root


def test_the_etl_gives_the_mapped_label_and_keeps_the_folder(project):
    output = project / "tfrecords"
    assert json.loads((output / "classes.json").read_text()) == CLASSES
    summary = json.loads((output / "summary.json").read_text())
    assert summary["images"]["train"] == {
        **{name: PER_CLASS["train"] for name in CLASSES[:-1]},
        "loop": 4 * PER_CLASS["train"],
    }
    with (output / "manifest.csv").open() as file:
        rows = list(csv.DictReader(file))
    loops = [row for row in rows if row["label_name"] == "loop"]
    assert {row["folder_label"] for row in loops} == set(LOOPS)
    assert all(row["path"].split("/")[1] in LOOPS for row in loops)


def test_evaluation_and_test_accuracy_follow_the_map(project):
    results = read_results(
        connection(project / "metadata.sqlite"), "digits", CLASSES
    )
    assert set(results.per_class_accuracy) == set(CLASSES)
    assert results.eval_examples == 10 * PER_CLASS["val"]
    assert (
        sum(
            n
            for (actual, _), n in results.confusion.items()
            if actual == "loop"
        )
        == 4 * PER_CLASS["val"]
    )
    metrics = json.loads((project / "metrics.json").read_text())
    assert set(metrics["per_class_accuracy"]) == set(CLASSES)
    assert set(metrics["test"]["per_class_accuracy"]) == set(CLASSES)


def test_the_report_speaks_of_the_mapped_labels(project):
    with (project / "report" / "issues.csv").open() as file:
        given = {row["given_label"] for row in csv.DictReader(file)}
    assert given and given <= set(CLASSES)
