"""Property tests of what `dcp fix` reads: an issues.csv with malformed
rows, in strange encodings, is read and planned, or refused with a
ValueError naming the line; never an unhandled exception, and a refusal
changes no file and no data version."""

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.findings.finding import ISSUE_COLUMNS
from core.findings.issues_csv import read_issues_csv
from iteration import data_versions
from iteration.fixes.fix_job import fix_data
from iteration.fixes.plan import plan_fixes
from tasks.classification.task import TASK
from tests.fix_repo import git_dvc_repo, run, sha256, snapshot

FILES = ["train/0/001.png", "train/1/101.png", "val/2/204.png"]
CELLS = {
    "path": [
        *FILES,
        "../outside.png",
        "/etc/hostname",
        "train/../../x.png",
        "train/0",
        ".",
        "train/0/none.png",
        'train/"0"/001.png',
    ],
    "action": ["", "keep", "remove", "relabel", "accept", "REMOVE ", "drop"],
    "suggested_label": ["", "0", "1", "2", "9", "zwei", "../0"],
    "suggested_action": ["", "relabel", "remove", "review", "burn"],
    "issue": ["", "label_issue", "outlier", "exact_duplicate", "gremlin"],
    "duplicate_of": ["", *FILES, "../x.png", "train/9/none.png"],
    "score": ["0.5", "nan", "-inf", "1e999", "abc", ""],
    "confidence": ["0.99", "nan", "inf", "-1", "x", ""],
}
# Bytes a broken file holds: invalid UTF-8, a NUL, quotes, line breaks.
NOISE = [b"\xff", b"\xc3", b"\x00", b'"', b'""', b"\r", b"\n", b",", b"\xe9"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1"]
# A refusal names where: a row's line, or the file itself.
NAMED = re.compile(r"line \d+|is not an issues\.csv")


@st.composite
def issues_files(draw) -> bytes:
    """An issues.csv: its header with a column dropped, added or
    reordered now and then, rows of good and bad cells, too few or too
    many now and then, in one of ENCODINGS, with noise spliced in."""
    header = list(ISSUE_COLUMNS)
    if draw(st.booleans()):
        header.remove(draw(st.sampled_from(header)))
    if draw(st.booleans()):
        header.append("reviewer note")
    header = draw(st.permutations(header))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [
            draw(st.sampled_from(CELLS.get(column, ["", "x"])))
            for column in header
        ]
        cut = draw(st.integers(0, len(row) + 2))
        rows.append(row[:cut] + ["extra"] * (cut - len(row)))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    data = text.getvalue().encode(draw(st.sampled_from(ENCODINGS)), "replace")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(NOISE)) + data[at:]
    return data


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git + DVC project of digit scans, data-v1 recorded."""
    root = git_dvc_repo(tmp_path_factory.mktemp("properties") / "project")
    data_versions.ensure_recorded(
        root / "data" / "images", changelog="DATA_CHANGELOG.md"
    )
    return root


def read_and_plan(issues: Path, images: Path) -> str:
    """ "" if the file is read and planned; else the refusal."""
    try:
        rows = read_issues_csv(str(issues))
        for accept in (False, True):
            plan_fixes(
                rows, images, accept_suggestions=accept, min_confidence=0.9
            )
    except ValueError as refused:
        return str(refused)
    return ""


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=issues_files())
def test_an_issues_csv_is_planned_or_refused_naming_the_line(
    repo, tmp_path, data
):
    images = repo / "data" / "images"
    issues = tmp_path / "issues.csv"
    issues.write_bytes(data)
    before = snapshot(images)

    refused = read_and_plan(issues, images)

    if refused:
        assert NAMED.search(refused), refused
        # Refused while planning: dcp fix moves nothing, records nothing.
        with pytest.raises(ValueError):
            fix_data(
                str(issues),
                str(images),
                changelog="DATA_CHANGELOG.md",
                accept_suggestions=False,
                min_confidence=0.9,
                splits=None,
                task=TASK,
            )
        assert data_versions.versions(images) == ["data-v1"]
    assert snapshot(images) == before


@pytest.mark.parametrize(
    ("encoding", "refused"),
    [
        ("utf-8-sig", ""),  # as a spreadsheet saves "CSV UTF-8"
        ("utf-16", "line 1: not UTF-8 text (byte 0); save it as UTF-8"),
    ],
)
def test_an_issues_csv_from_a_spreadsheet_is_read_or_refused_clearly(
    tmp_path, encoding, refused
):
    issues = tmp_path / "issues.csv"
    issues.write_bytes(
        (
            ",".join(ISSUE_COLUMNS) + "\ntrain/0/ä.png" + "," * 11 + "remove\n"
        ).encode(encoding)
    )
    try:
        rows = read_issues_csv(str(issues))
    except ValueError as error:
        assert refused and refused in str(error)
        assert str(issues) in str(error)
    else:
        assert not refused
        assert [(r["path"], r["action"]) for r in rows] == [
            ("train/0/ä.png", "remove")
        ]


def test_a_nul_byte_is_refused_naming_its_line(tmp_path):
    issues = tmp_path / "issues.csv"
    issues.write_bytes(
        (",".join(ISSUE_COLUMNS) + "\n" + "," * 11 + "keep\n").encode()
        + b"train/0/0\x0001.png"
        + b"," * 11
        + b"remove\n"
    )

    with pytest.raises(ValueError, match=r"issues\.csv line 3: .*NUL"):
        read_issues_csv(str(issues))


@pytest.mark.parametrize("confidence", ["nan", "inf"])
def test_a_confidence_that_is_no_number_accepts_no_suggestion(
    repo, tmp_path, confidence
):
    images = repo / "data" / "images"
    row = dict.fromkeys(ISSUE_COLUMNS, "")
    row |= {
        "path": "train/1/101.png",
        "sha256": sha256(images / "train/1/101.png"),
        "issue": "outlier",
        "suggested_action": "remove",
        "confidence": confidence,
    }

    plan = plan_fixes(
        [row], images, accept_suggestions=True, min_confidence=0.9
    )

    assert plan.steps == ()
    assert [why for _, why in plan.left_for_review] == [
        f"train/1/101.png: remove at confidence {confidence}, below 0.9"
    ]
    assert run(repo, "git", "status", "--porcelain").strip() == ""
