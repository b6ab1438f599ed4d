"""One writer per dataset: a `dcp fix` while another command holds the
dataset's lock waits and says so, or with --wait gives up in time;
nothing changes meanwhile."""

import argparse
import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.findings.types import OUTLIER
from dcp.commands import fix
from dcp.config import load_config
from iteration.dataset_lock import DatasetBusy
from tests.fix_repo import finding, git_dvc_repo, issues_csv, snapshot

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
# Another writer: holds the lock of the repository argv[1] for argv[2]
# seconds, saying "held" once it has it.
HOLDER = """
import sys, time
from pathlib import Path
from iteration.dataset_lock import dataset_lock
with dataset_lock(Path(sys.argv[1]), Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def repo(tmp_path) -> Path:
    root = git_dvc_repo(tmp_path / "project")
    images = root / "data" / "images"
    issues_csv(
        tmp_path,
        [finding(images, "train/1/101.png", OUTLIER, 0.5)],
        {"train/1/101.png": "remove"},
    )
    return root


@contextlib.contextmanager
def lock_held(repo: Path, seconds: float):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout and holder.stdout.readline() == "held\n"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def dcp_fix(repo: Path, *options: str) -> str:
    """`dcp fix` of issues.csv beside `repo`; what it printed."""
    parser = argparse.ArgumentParser(prog="dcp")
    fix.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            *("fix", str(repo.parent / "issues.csv")),
            *("--data", str(repo / "data" / "images"), *options),
        ]
    )
    printed = io.StringIO()
    with (
        contextlib.redirect_stdout(printed),
        contextlib.redirect_stderr(printed),
    ):
        args.run(args, load_config(PARAMS), [])
    return printed.getvalue()


def test_a_second_writer_with_wait_gives_up_and_changes_nothing(repo):
    before = snapshot(repo / "data" / "images")
    with lock_held(repo, 60) as pid:
        started = time.monotonic()
        with pytest.raises(DatasetBusy) as refused:
            dcp_fix(repo, "--wait", "0.5")
        waited = time.monotonic() - started

    assert 0.5 <= waited < 10
    message = str(refused.value)
    assert f"another dcp command (pid {pid}) is still changing it" in message
    assert "after 0.5 seconds" in message and "\n" not in message
    assert snapshot(repo / "data" / "images") == before
    assert not (repo / "DATA_CHANGELOG.md").exists()


def test_a_second_writer_waits_says_so_and_then_goes_on(repo):
    with lock_held(repo, 2) as pid:
        printed = dcp_fix(repo)

    images = repo / "data" / "images"
    assert (
        f"another dcp command is changing {images} (pid {pid}); waiting…"
        in printed
    )
    assert "data-v2: 1 remove" in printed
    assert not (images / "train/1/101.png").exists()
