"""`dvc repro` of the project's own dvc.yaml in a scratch copy."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.e2e


def sh(*command: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The repository's tracked files in a fresh git repository."""
    copy = tmp_path_factory.mktemp("dvc") / "project"
    files = sh(
        "git",
        "ls-files",
        "--cached",
        "--others",
        "--exclude-standard",
        cwd=REPO,
    ).split()
    for name in files:
        if (REPO / name).is_file() and not name.startswith("data/"):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["trainer"]["epochs"] = 1  # the whole DAG, quickly
    # The label evidence in seconds: this test is about DVC, not labels.
    params["quality"]["label_method"] = "pixel_probe"
    params["quality"]["label_rounds"] = 1
    (copy / "params.yaml").write_text(yaml.safe_dump(params))
    sh("git", "init", "-q", cwd=copy)
    sh("git", "add", "-A", cwd=copy)
    sh(
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "copy",
        cwd=copy,
    )
    (copy / "dvc.lock").unlink(missing_ok=True)
    return copy


def test_repro_twice_the_second_does_nothing(project):
    first = sh("dvc", "repro", cwd=project)
    assert "Running stage 'prepare'" in first
    assert "Running stage 'etl'" in first
    assert "1642 images converted, 3 quarantined" in first
    assert "Running stage 'pipeline'" in first
    assert "Eval accuracy" in first
    outputs = snapshot(project / "data")
    metrics = json.loads((project / "metrics.json").read_text())
    assert metrics["eval_examples"] == 275
    # The embedded dataset's test split, held fixed, measured beside eval.
    assert "Test accuracy" in first
    assert metrics["test"]["examples"] > 0
    shown = sh("dvc", "metrics", "show", cwd=project)
    assert "metrics.json" in shown and "test.int8_accuracy" in shown
    confusion = (project / "plots" / "confusion_matrix.csv").read_text()
    assert len(confusion.splitlines()) == 1 + 275

    second = sh("dvc", "repro", cwd=project)
    assert "Running stage" not in second
    assert "Data and pipelines are up to date." in second
    assert snapshot(project / "data") == outputs
    assert sh("dvc", "status", cwd=project).strip() == (
        "Data and pipelines are up to date."
    )


def test_push_and_pull_through_a_local_remote(project, tmp_path):
    sh("dvc", "repro", cwd=project)
    sh(
        "dvc",
        "remote",
        "modify",
        "--local",
        "local",
        "url",
        str(tmp_path),
        cwd=project,
    )
    sh("dvc", "push", cwd=project)
    manifest = project / "data" / "tfrecords" / "manifest.csv"
    before = manifest.read_bytes()
    shutil.rmtree(project / "data" / "tfrecords")
    shutil.rmtree(project / "data" / "raw")
    shutil.rmtree(project / ".dvc" / "cache")
    sh("dvc", "pull", cwd=project)
    assert manifest.read_bytes() == before
    assert len(list((project / "data" / "raw").rglob("*.png"))) == 1825
