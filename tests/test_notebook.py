"""notebooks/interactive.ipynb run in a Jupyter kernel on a tiny real
dataset with one epoch: every step runs and shows its output."""

import json
from pathlib import Path
from typing import NamedTuple

import nbclient
import nbformat
import pytest
import tensorflow_model_analysis as tfma
import yaml

from components.quality_report.evaluation_results import ACCURACY
from tests.conftest import REPO
from tests.test_pipeline_e2e import etl, write_digits

pytestmark = pytest.mark.e2e

NOTEBOOKS = REPO / "notebooks"
NOTEBOOK = NOTEBOOKS / "interactive.ipynb"


class Run(NamedTuple):
    notebook: nbformat.NotebookNode  # executed, kept in memory
    root: Path  # PIPELINE_ROOT
    new_files: set[Path]  # in the notebooks folder


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("notebook")
    write_digits(root / "raw")
    etl(root / "raw", root / "tfrecords")
    # A short auditor: this test is about the notebook, not the labels.
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["quality"].update(label_rounds=1, label_epochs=3)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    parameters = {
        "PARAMS": str(root / "params.yaml"),
        "DATA_ROOT": str(root / "tfrecords"),
        "EPOCHS": 1,
        "PIPELINE_ROOT": str(root / "tfx"),
    }
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = (
        cell
        for cell in notebook.cells
        if "parameters" in cell.metadata.get("tags", [])
    )
    cell.source = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    before = set(NOTEBOOKS.rglob("*"))
    nbclient.NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    return Run(notebook, root / "tfx", set(NOTEBOOKS.rglob("*")) - before)


def outputs_of(notebook: nbformat.NotebookNode, code: str) -> list[dict]:
    """Outputs of the one code cell whose source contains `code`."""
    (cell,) = (
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and code in cell.source
    )
    return cell.outputs


def only(pattern: str, root: Path) -> Path:
    (path,) = root.glob(pattern)
    return path


def test_the_saved_notebook_holds_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert not any(cell.outputs or cell.execution_count for cell in code)


def test_every_cell_runs_and_writes_nothing_beside_the_notebook(run):
    cells = run.notebook.cells
    outputs = [o for cell in cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert run.new_files == set()


def test_the_evaluator_measures_the_40_eval_images(run):
    evaluation = only("Evaluator/evaluation/*", run.root)
    result = tfma.load_eval_result(str(evaluation))
    overall = dict(result.slicing_metrics)[()][""][""]
    assert overall["example_count"]["doubleValue"] == 40
    assert 0.0 <= overall[ACCURACY]["doubleValue"] <= 1.0


def test_the_tflite_export_writes_a_smaller_int8_model(run):
    metrics_file = "TFLiteExport/tflite_model/*/Format-Serving/metrics.json"
    metrics = json.loads(only(metrics_file, run.root).read_text())
    assert metrics["eval_examples"] == 40
    assert metrics["int8_bytes"] < metrics["float32_bytes"]


def test_the_steps_show_their_results(run):
    notebook = run.notebook

    def html(code: str) -> str:
        return "".join(
            output.data.get("text/html", "")
            for output in outputs_of(notebook, code)
            if output.output_type in ("display_data", "execute_result")
        )

    def text(code: str) -> str:
        return "".join(
            output.get("text", "")
            for output in outputs_of(notebook, code)
            if output.output_type == "stream"
        )

    assert "facets-overview" in html('outputs["statistics"]')
    assert "Feature name" in html('outputs["schema"]')
    assert "image_xf" in html("transformed_feature_spec")
    assert "val_accuracy" in text('components["Trainer"]')
    evaluation = outputs_of(notebook, 'outputs["evaluation"])')
    assert any(
        "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for output in evaluation
    )
    table = html("slicing_metrics")
    for column in ("accuracy", "examples", "label", "brightness_bucket"):
        assert column in table
    assert "int8_accuracy" in html("METRICS_FILE")
    # write_digits writes a test split, so TestAccuracy runs.
    assert "Test accuracy " in text('components["TestAccuracy"]')
    assert "on 20 images; int8 " in text('components["TestAccuracy"]')
    report = text('components["QualityReport"]')
    assert "Report: " in report
    assert Path(report.split("Report: ")[1].strip()).is_file()
    # The number of images per issue, as a table.
    assert "images" in html("value_counts()")
