"""`dcp fix` killed with SIGKILL at each step of recording a version, and
two `dcp fix` at once, on real git + DVC repositories: afterwards the
data is the old version or the new one, every data-v commit is tagged
with one changelog entry, and the next `dcp fix` works."""

import argparse
import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.findings.types import LABEL_ISSUE, OUTLIER
from dcp.commands import fix
from dcp.config import load_config
from iteration import data_versions
from iteration.version_journal import JOURNAL_FILE
from tests.fix_repo import (
    DVC,
    finding,
    git_dvc_repo,
    issues_csv,
    run,
    snapshot,
)

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
# `dcp fix` itself, its parser and run function, with main's handling of
# a ValueError; dcp.cli would also import every other command, ~20 s.
DCP_FIX = """
import argparse, sys
from dcp.commands import fix
from dcp.config import load_config
parser = argparse.ArgumentParser(prog="dcp")
fix.add_parser(parser.add_subparsers())
args = parser.parse_args(sys.argv[2:])
try:
    sys.exit(args.run(args, load_config(sys.argv[1]), []))
except ValueError as error:
    sys.exit(f"dcp fix: error: {error}")
"""
# The steps of a change, in order; DCP_TEST_CRASH_AT names the one at
# which the command kills itself (version_journal.crash_point).
CRASH_POINTS = (
    "after-journal",
    "mid-moves",
    "after-moves",
    "after-dvc",
    "after-commit",
)


def start_fix(
    repo: Path, issues: Path, crash_at: str = ""
) -> subprocess.Popen:
    env = {**os.environ, "DCP_TEST_CRASH_AT": crash_at}
    return subprocess.Popen(
        [
            *(sys.executable, "-c", DCP_FIX, str(PARAMS), "fix", str(issues)),
            *("--data", str(repo / "data" / "images")),
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out + err


def history(repo: Path) -> tuple[list[str], list[str]]:
    """The data-v tags, and what is wrong with the history: a data-v
    commit without its tag, changelog entries other than the tags, a
    change left half-way."""
    tags = data_versions.versions(repo / "data" / "images")
    tagged = {
        run(repo, "git", "rev-parse", f"{tag}^{{commit}}").strip(): tag
        for tag in tags
    }
    wrong = []
    for line in run(repo, "git", "log", "--format=%H %s").splitlines():
        commit, subject = line.split(" ", 1)
        version = re.match(r"(data-v\d+):", subject)
        if version and tagged.get(commit) != version[1]:
            wrong.append(f"untagged commit {subject!r}")
    changelog = (repo / "DATA_CHANGELOG.md").read_text()
    entries = re.findall(r"^## (data-v\d+) ", changelog, re.M)
    if entries != tags:
        wrong.append(f"changelog entries {entries}, tags {tags}")
    if (repo / JOURNAL_FILE).exists():
        wrong.append("a journal is left")
    if run(repo, "git", "status", "--porcelain").strip():
        wrong.append("git status: " + run(repo, "git", "status", "--short"))
    if run(repo, DVC, "status", "--json", "data/images.dvc") != "{}\n":
        wrong.append("the data is not its DVC version")
    return tags, wrong


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A git + DVC project whose data/images is data-v1, and
    issues.csv (relabel train/0/001.png, remove train/1/101.png,
    train/2/201.png) beside it."""
    top = tmp_path_factory.mktemp("template")
    repo = git_dvc_repo(top / "project")
    images = repo / "data" / "images"
    data_versions.ensure_recorded(images, changelog="DATA_CHANGELOG.md")
    first = [
        finding(
            images, "train/0/001.png", LABEL_ISSUE, 0.9, suggested_label="2"
        ),
        finding(images, "train/1/101.png", OUTLIER, 0.5),
        finding(images, "train/2/201.png", OUTLIER, 0.4),
    ]
    issues_csv(
        top,
        first,
        {p: "remove" for p in ("train/1/101.png", "train/2/201.png")}
        | {"train/0/001.png": "accept"},
    ).rename(top / "first.csv")
    second = [finding(images, "train/2/202.png", OUTLIER, 0.5)]
    issues_csv(top, second, {"train/2/202.png": "remove"}).rename(
        top / "second.csv"
    )
    issues_csv(top, second, {"train/2/202.png": "keep"}).rename(
        top / "keep.csv"
    )
    return repo


def copy_of(template: Path, folder: Path) -> Path:
    shutil.copytree(template.parent, folder / "copy")
    return folder / "copy" / "project"


def dcp_fix(repo: Path, issues: str) -> tuple[int, str]:
    """`dcp fix` of the issues file beside `repo`, in this process."""
    parser = argparse.ArgumentParser(prog="dcp")
    fix.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["fix", str(repo.parent / issues), "--data", str(repo / "data/images")]
    )
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = args.run(args, load_config(PARAMS), [])
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def versions_of_the_data(template, tmp_path_factory) -> tuple[dict, dict]:
    """The snapshots of data/images before first.csv and after it."""
    repo = copy_of(template, tmp_path_factory.mktemp("reference"))
    before = snapshot(repo / "data" / "images")
    assert dcp_fix(repo, "first.csv")[0] == 0
    return before, snapshot(repo / "data" / "images")


@pytest.fixture(scope="module")
def killed(template, tmp_path_factory) -> dict[str, tuple[Path, int, str]]:
    """Per crash point, each in a copy of its own, all at once: `dcp fix
    first.csv` killed there; its repository, exit status and output."""
    repos = {
        point: copy_of(template, tmp_path_factory.mktemp(point))
        for point in CRASH_POINTS
    }
    started = {
        point: start_fix(repo, repo.parent / "first.csv", point)
        for point, repo in repos.items()
    }
    return {
        point: (repos[point], *finish(process))
        for point, process in started.items()
    }


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_killed_fix_is_finished_or_rolled_back_by_the_next(
    killed, versions_of_the_data, point
):
    before, fixed = versions_of_the_data
    repo, code, said = killed[point]
    assert code == -signal.SIGKILL, said
    assert (repo / JOURNAL_FILE).exists()

    code, said = dcp_fix(repo, "keep.csv")  # changes no file

    assert code == 0, said
    assert "recovered the interrupted data-v2 of data/images" in said
    assert "Nothing to change" in said
    tags, wrong = history(repo)
    assert wrong == []
    data = snapshot(repo / "data" / "images")
    if point == "after-commit":  # committed: finished, tagged
        assert "its commit is tagged now" in said
        assert (data, tags) == (fixed, ["data-v1", "data-v2"])
    else:
        assert "rolled back" in said
        assert (data, tags) == (before, ["data-v1"])

    code, said = dcp_fix(repo, "second.csv")

    assert code == 0, said
    assert "recovered" not in said
    after, wrong = history(repo)
    assert wrong == []
    assert after == [*tags, f"data-v{len(tags) + 1}"]
    added = set(snapshot(repo / "data" / "images")) - set(data)
    assert f"trash/{after[-1]}/train/2/202.png" in added


def test_two_fixes_at_once_record_two_versions_and_nothing_spurious(
    template, tmp_path
):
    """On a folder not yet a version, as the first `dcp fix` finds it."""
    repo = git_dvc_repo(tmp_path / "project")
    for issues in ("first.csv", "second.csv"):
        shutil.copy(template.parent / issues, tmp_path / issues)

    started = [
        start_fix(repo, tmp_path / issues)
        for issues in ("first.csv", "second.csv")
    ]
    results = [finish(process) for process in started]

    assert [code for code, _ in results] == [0, 0], results
    tags, wrong = history(repo)
    assert wrong == []
    assert tags == ["data-v1", "data-v2", "data-v3"]
    changelog = (repo / "DATA_CHANGELOG.md").read_text()
    assert changelog.count("`the data as found`") == 1
    data = snapshot(repo / "data" / "images")
    assert not {"train/1/101.png", "train/2/202.png"} & set(data)
