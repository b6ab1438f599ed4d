"""The pipeline's steps that run this package's code carry a fingerprint
of the modules they import, so TFX reruns them after that code changed,
and only then, instead of serving what older code made from its
cache."""

import dataclasses
import json
import shutil

import pytest

from core.code_version import (
    CODE_VERSION_KEY,
    code_fingerprint,
    imported_modules,
)
from core.task import get_pipeline_task
from dcp.config import load_config
from dcp.from_params import pipeline_from_params
from pipeline.tfx_pipeline import CODE_STEPS, step_code
from tasks.classification.task import TASK
from tests.conftest import REPO


@pytest.fixture
def code_copy(tmp_path):
    for package in ("components", "tasks", "core", "models"):
        shutil.copytree(
            REPO / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return tmp_path


def fingerprint(step, root, task=TASK) -> str:
    entry, also = step_code(step, task)
    return code_fingerprint(entry, root, also=also)


def fingerprints(root) -> dict[str, str]:
    return {step: fingerprint(step, root) for step in CODE_STEPS}


def edit(module) -> None:
    module.write_text(module.read_text() + "\n# changed\n")


def test_the_fingerprint_follows_the_code_and_nothing_else(code_copy):
    before = code_fingerprint("models.trainer", code_copy)
    assert len(before) == 16
    assert before == code_fingerprint("models.trainer", code_copy)
    cache = code_copy / "models" / "__pycache__"
    cache.mkdir()
    (cache / "registry.cpython-310.pyc").write_bytes(b"bytecode")
    (code_copy / "models" / "notes.txt").write_text("not code")
    assert code_fingerprint("models.trainer", code_copy) == before

    edit(code_copy / "models" / "registry.py")  # imported by the trainer
    assert code_fingerprint("models.trainer", code_copy) != before


def test_a_report_change_reruns_the_report_alone(code_copy):
    before = fingerprints(code_copy)
    edit(code_copy / "components" / "quality_report" / "html_report.py")
    after = fingerprints(code_copy)
    assert {step for step in CODE_STEPS if after[step] != before[step]} == {
        "QualityReport"
    }


def test_a_page_template_change_reruns_the_report_alone(code_copy):
    before = fingerprints(code_copy)
    edit(code_copy / "core" / "pages" / "templates" / "report.html")
    after = fingerprints(code_copy)
    assert {step for step in CODE_STEPS if after[step] != before[step]} == {
        "QualityReport"
    }


def test_a_test_accuracy_change_reruns_it_and_the_report(code_copy):
    before = fingerprints(code_copy)
    # The task's measure, reached by name, reruns TestAccuracy alone.
    edit(code_copy / "tasks" / "classification" / "accuracy_figures.py")
    measured = fingerprints(code_copy)
    assert {step for step in CODE_STEPS if measured[step] != before[step]} == {
        "TestAccuracy"
    }
    # The report reads what TestAccuracy writes.
    edit(code_copy / "components" / "test_accuracy" / "accuracy_file.py")
    after = fingerprints(code_copy)
    assert {step for step in CODE_STEPS if after[step] != measured[step]} == {
        "TestAccuracy",
        "QualityReport",
    }


def test_a_model_change_reruns_what_runs_the_model(code_copy):
    before = fingerprints(code_copy)
    edit(code_copy / "models" / "registry.py")
    after = fingerprints(code_copy)
    # The Transform does not build the model; what it feeds reruns
    # anyway when the Transform's output changes.
    assert {step for step in CODE_STEPS if after[step] != before[step]} == {
        "Trainer",
        "LabelIssues",
    }
    edit(code_copy / "models" / "preprocessing.py")
    assert fingerprints(code_copy)["Transform"] != after["Transform"]


def test_a_task_function_change_reruns_the_steps_that_call_it(code_copy):
    before = fingerprints(code_copy)
    # The components reach it through get_task, not an import.
    edit(
        code_copy / "tasks" / "classification" / "label_issues" / "ranking.py"
    )
    after = fingerprints(code_copy)
    assert {step for step in CODE_STEPS if after[step] != before[step]} == {
        "LabelIssues"
    }
    # What dcp predict draws is not the pipeline's.
    edit(code_copy / "tasks" / "classification" / "drawing.py")
    assert fingerprints(code_copy) == after


def test_imports_are_followed_through_packages(code_copy):
    found = {
        path.relative_to(code_copy).as_posix()
        for path in imported_modules(
            "tasks.classification.label_issues.analysis", code_copy
        )
    }
    # through out_of_sample -> auditor
    assert "tasks/classification/label_issues/auditor.py" in found
    assert "tasks/__init__.py" in found  # it runs on import
    assert not any(path.startswith("pipeline/") for path in found)
    with pytest.raises(ValueError, match=r"components\.nowhere"):
        imported_modules("components.nowhere", code_copy)


@pytest.mark.parametrize(
    "task, report",
    [("classification", "QualityReport"), ("detection", "EvaluationReport")],
)
def test_every_step_running_our_code_carries_its_fingerprint(
    tmp_path, task, report
):
    data_root = tmp_path / "tfrecords"
    # With a test split, so that TestAccuracy is in the DAG.
    for folder in ("train", "val", "test"):
        (data_root / folder).mkdir(parents=True)
    (data_root / "classes.json").write_text(json.dumps(list("0123456789")))
    config = load_config(REPO / "params.yaml")
    config = dataclasses.replace(
        config,
        task=task,
        etl=dataclasses.replace(config.etl, output=str(data_root)),
    )
    pipeline = pipeline_from_params(config, metadata_connection_config=None)
    nodes = {node.id: node for node in pipeline.components}
    steps = [step for step in CODE_STEPS if step in nodes]
    assert {"Transform", "Trainer", "TestAccuracy", report} <= set(steps)
    for step in steps:
        properties = nodes[step].exec_properties
        if "custom_config" in properties:  # the Transform and the Trainer
            properties = json.loads(properties["custom_config"])
        assert properties[CODE_VERSION_KEY] == fingerprint(
            step, REPO, get_pipeline_task(task)
        )
