"""The registry of issue types, and the worked example of
docs/issue-types.md run as written: a new type is one file."""

import ast
import csv
import importlib
import re
import sys
import types

import numpy as np
import pytest

from components.quality_report.suggested_actions import suggest_actions
from core.findings import issue_types as it
from core.findings.finding import REVIEW, Finding
from core.findings.issues_csv import read_issues_csv, write_issues_csv
from core.findings.types import ISSUE_TYPES, ODD_SIZE
from tests.conftest import REPO
from tests.raw_tables import raw_table

DOCS_PAGE = REPO / "docs" / "issue-types.md"
TYPES_DIR = REPO / "core" / "findings" / "types"


def test_every_registered_type_has_a_unique_name_and_order():
    registered = it.issue_types()
    assert len({t.name for t in registered}) == len(registered)
    assert len({t.order for t in registered}) == len(registered)


def test_issue_types_is_the_registry_in_report_order():
    assert tuple(t.name for t in it.issue_types()) == ISSUE_TYPES
    assert ISSUE_TYPES[0] == "label_issue"
    assert ISSUE_TYPES[-1] == "outlier"


def test_every_detector_is_there():
    for t in it.issue_types():
        module, _, name = t.detector.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), t


def test_every_type_module_is_imported_by_the_package():
    init = ast.parse((TYPES_DIR / "__init__.py").read_text())
    imported = {
        node.module
        for node in ast.walk(init)
        if isinstance(node, ast.ImportFrom)
    }
    modules = {
        f"core.findings.types.{path.stem}"
        for path in TYPES_DIR.glob("*.py")
        if path.name != "__init__.py"
    }
    assert modules - imported == set(), "import them in types/__init__.py"


def test_a_name_or_order_is_registered_once(fresh_registry):
    with pytest.raises(ValueError, match="registered twice"):
        it.register(it.IssueType("blank", "b", it.OUTLIERS_SECTION, 1, "x"))
    with pytest.raises(ValueError, match="order 50 is blank's"):
        it.register(it.IssueType("new", "n", it.OUTLIERS_SECTION, 50, "x"))


def test_an_unregistered_type_is_refused_by_write_issues_csv(tmp_path):
    finding = Finding("train/1/a.png", "", "train", "smudge", 0.5, "1")
    refused = "unknown issue types: smudge; an issue type is registered"
    with pytest.raises(ValueError, match=refused):
        write_issues_csv([finding], str(tmp_path / "issues.csv"))


@pytest.fixture
def fresh_registry(monkeypatch):
    """The registry as it is, restored after the test."""
    monkeypatch.setattr(it, "_REGISTRY", dict(it._registry()))


def example_code() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOCS_PAGE.read_text(), re.S)
    assert len(blocks) == 1, "docs/issue-types.md: one python block"
    return blocks[0]


@pytest.fixture
def tiny_image(fresh_registry, monkeypatch):
    """The docs' example, loaded as a module and registered."""
    name = "tiny_image_from_docs"
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(example_code(), str(DOCS_PAGE), "exec"), module.__dict__)
    return module


def test_the_worked_example_finds_tiny_images(tiny_image, tmp_path):
    digit = np.zeros((28, 28), np.uint8)
    digit[8:20, 12:16] = 255
    tiny = np.full((8, 12), 255, np.uint8)
    tiny[2:6, 5:7] = 0
    table = raw_table(
        [
            ("train/1/a.png", "1", digit),
            ("train/1/tiny.png", "1", tiny),
            ("val/1/b.png", "1", digit[:, 2:]),
        ]
    )

    findings = it.find_issues(table)

    assert [(f.path, f.issue, f.score) for f in findings] == [
        ("train/1/tiny.png", tiny_image.TINY_IMAGE, 0.5)
    ]
    assert findings[0].detail == "12x8 pixels, under 16 on a side"
    assert it.title_of(tiny_image.TINY_IMAGE) == "tiny image"
    assert tiny_image.TINY_IMAGE in it.in_section(it.OUTLIERS_SECTION)
    [suggested] = suggest_actions(findings, {})
    assert (suggested.suggested_action, suggested.confidence) == (REVIEW, 0.5)

    odd = Finding("train/1/a.png", "", "train", ODD_SIZE, 9.0, "1")
    path = tmp_path / "issues.csv"
    write_issues_csv([suggested, odd], str(path))
    rows = read_issues_csv(str(path))
    assert [r["issue"] for r in rows] == [ODD_SIZE, tiny_image.TINY_IMAGE]
    assert rows[1]["suggested_action"] == REVIEW
    with path.open() as f:
        assert next(csv.reader(f))[3] == "issue"
