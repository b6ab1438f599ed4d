"""`dcp fix` on a real git + DVC repository of real digit scans: fixes
become data versions that undo exactly; bad rows change nothing."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from components.quality_report.suggested_actions import (
    LabelEvidence,
    suggest_actions,
)
from core.findings.finding import Finding
from core.findings.issues_csv import (
    read_issues_csv,
    write_issues_csv,
)
from core.findings.types import (
    BLANK,
    BROKEN_FILE,
    EXACT_DUPLICATE,
    LABEL_ISSUE,
    NEAR_DUPLICATE,
    OUTLIER,
)
from dcp.cli import main
from iteration import data_versions
from iteration.fixes.fix_job import FixResult, fix_data, undo_last_version
from iteration.fixes.plan import plan_fixes
from tasks.classification.task import TASK
from tests.fix_repo import (
    DVC,
    finding,
    git_dvc_repo,
    issues_csv,
    run,
    sha256,
    snapshot,
    write_digits,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git + DVC project whose data/images folder is `dvc add`ed."""
    return git_dvc_repo(tmp_path / "project")


def fix(issues: Path, data: Path, **options):
    """dcp fix of `issues` on `data`; the changelog at the repository."""
    root = Path(run(data, "git", "rev-parse", "--show-toplevel").strip())
    return fix_data(
        str(issues),
        str(data),
        changelog=str(root / "DATA_CHANGELOG.md"),
        accept_suggestions=options.get("accept_suggestions", False),
        min_confidence=options.get("min_confidence", 1.0),
        splits=options.get("splits"),
        task=TASK,
    )


def test_fix_moves_files_and_undo_restores_the_exact_bytes(repo):
    images = repo / "data" / "images"
    before = snapshot(images)
    findings = [
        finding(
            images, "train/0/001.png", LABEL_ISSUE, 0.97, suggested_label="2"
        ),
        finding(images, "train/1/101.png", OUTLIER, 0.5),
    ]
    issues = issues_csv(
        repo,
        findings,
        {"train/0/001.png": "accept", "train/1/101.png": "remove"},
    )

    result = fix(issues, images)

    assert result.before == "data-v1"
    assert result.version is not None and result.version.tag == "data-v2"
    assert not (images / "train/0/001.png").exists()
    moved = images / "train/2/001.png"
    assert sha256(moved) == before["train/0/001.png"]
    trashed = images / "trash/data-v2/train/1/101.png"
    assert sha256(trashed) == before["train/1/101.png"]
    changes = (images / data_versions.CHANGES_FILE).read_text()
    assert "data-v2,relabel,train/0/001.png,train/2/001.png" in changes
    assert "issues.csv line" in changes
    changelog = (repo / "DATA_CHANGELOG.md").read_text()
    assert "## data-v2" in changelog and "1 relabel, 1 remove" in changelog
    assert run(repo, DVC, "status", "--json", "data/images.dvc") == "{}\n"
    assert (
        run(repo, "git", "status", "--porcelain", "--", "data").strip() == ""
    )
    assert "data-v2" in run(repo, "git", "tag").split()

    restored, undo = undo_last_version(
        str(images), changelog=str(repo / "DATA_CHANGELOG.md")
    )

    assert (restored, undo.tag) == ("data-v1", "data-v3")
    assert snapshot(images) == before
    run(repo, "git", "checkout", "-q", "data-v2")
    run(repo, DVC, "checkout", "-q")
    assert "train/2/001.png" in snapshot(images)
    run(repo, "git", "checkout", "-q", "data-v1")
    run(repo, DVC, "checkout", "-q")
    assert snapshot(images) == before


@pytest.mark.parametrize(
    "path",
    ["../outside.png", "/etc/hostname", "train/../../../issues.csv", "."],
)
def test_a_path_outside_the_dataset_is_refused_and_nothing_changes(repo, path):
    images = repo / "data" / "images"
    (repo / "outside.png").write_bytes(b"x")
    before = snapshot(images)
    issues = repo / "issues.csv"
    write_issues_csv(
        [
            finding(images, "train/1/101.png", OUTLIER, 0.5),
            Finding(path, "", "train", OUTLIER, 0.9, "1"),
        ],
        str(issues),
    )
    text = issues.read_text().replace(",\n", ",remove\n")
    issues.write_text(text)

    with pytest.raises(ValueError, match="points outside the dataset"):
        fix(issues, images)

    assert snapshot(images) == before
    assert data_versions.versions(images) == []


def test_a_stale_report_is_refused(repo):
    images = repo / "data" / "images"
    findings = [
        finding(
            images, "train/0/001.png", LABEL_ISSUE, 0.9, suggested_label="1"
        )
    ]
    issues = issues_csv(repo, findings, {"train/0/001.png": "relabel"})
    # The image changed after the report.
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(
        images / "train/0/001.png"
    )

    with pytest.raises(ValueError, match="changed since the report"):
        plan_fixes(read_issues_csv(str(issues)), images)


def test_accepting_suggestions_keeps_eval_fixed(repo):
    images = repo / "data" / "images"
    findings = suggest_actions(
        [
            finding(images, "train/0/001.png", LABEL_ISSUE, 0.95),
            finding(images, "train/0/002.png", LABEL_ISSUE, 0.5),
            finding(images, "val/0/004.png", LABEL_ISSUE, 0.99),
            finding(
                images,
                "val/1/leak.png",
                EXACT_DUPLICATE,
                1.0,
                duplicate_of="train/1/100.png",
            ),
            finding(images, "train/2/broken.png", BROKEN_FILE, 1.0),
            finding(images, "train/1/101.png", OUTLIER, 0.99),
        ],
        {
            "train/0/001.png": LabelEvidence(0.01, "2", 0.97),
            "train/0/002.png": LabelEvidence(0.2, "1", 0.75),
            "val/0/004.png": LabelEvidence(0.0, "1", 0.99),
        },
    )
    issues = issues_csv(repo, findings, {})
    val_before = snapshot(images / "val")

    result = fix(
        issues,
        images,
        accept_suggestions=True,
        min_confidence=0.9,
        splits=["train"],
    )

    moves = {change.path: change.new_path for change in result.changes}
    assert moves == {
        "train/0/001.png": "train/2/001.png",  # a confident relabel
        "train/1/100.png": "trash/data-v2/train/1/100.png",  # the leak
        "train/2/broken.png": "trash/data-v2/train/2/broken.png",
    }
    assert [why for _, why in result.skipped] == [
        "val/0/004.png: split val is held fixed"
    ]
    assert [why for _, why in result.left_for_review] == [
        "train/0/002.png: relabel at confidence 0.800, below 0.9",
        "train/1/101.png: suggested review",  # outliers need a person
    ]
    assert snapshot(images / "val") == val_before
    assert (images / "train/0/002.png").exists()
    assert (images / "train/1/101.png").exists()
    summary = result.format(str(images), "DATA_CHANGELOG.md")
    assert (
        "3 applied, 2 images left for review (1 relabel below the"
        " confidence, 1 suggested review)" in summary
    )


def test_a_leak_into_test_removes_the_non_test_copy(repo):
    images = repo / "data" / "images"
    test_copy = images / "test" / "1" / "leak.png"
    test_copy.parent.mkdir(parents=True)
    test_copy.write_bytes((images / "val" / "1" / "leak.png").read_bytes())
    findings = suggest_actions(
        [
            finding(
                images,
                "test/1/leak.png",
                EXACT_DUPLICATE,
                1.0,
                duplicate_of="val/1/leak.png",
            ),
            finding(images, "test/1/leak.png", LABEL_ISSUE, 0.99),
        ],
        {"test/1/leak.png": LabelEvidence(0.0, "2", 0.99)},
    )
    test_before = snapshot(images / "test")

    result = fix(
        issues_csv(repo, findings, {}),
        images,
        accept_suggestions=True,
        min_confidence=0.9,
    )

    assert [(c.action, c.path) for c in result.changes] == [
        ("remove", "val/1/leak.png")
    ]
    assert snapshot(images / "test") == test_before
    assert [why for _, why in result.left_for_review] == [
        "test/1/leak.png: test is never changed automatically"
    ]


def add_test_split(images: Path) -> None:
    """test/0/t0.png and test/1/t1.png, mirrored val scans, and
    test/1/leak.png, the bytes of val/1/leak.png: a val↔test leak."""
    for label, source in (("0", "val/0/004.png"), ("1", "val/1/104.png")):
        target = images / "test" / label / f"t{label}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.open(images / source).transpose(
            Image.Transpose.FLIP_LEFT_RIGHT
        ).save(target)
    (images / "test" / "1" / "leak.png").write_bytes(
        (images / "val" / "1" / "leak.png").read_bytes()
    )


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """The digits of `repo` and a test split, without git or DVC."""
    folder = tmp_path / "images"
    write_digits(folder)
    add_test_split(folder)
    return folder


@pytest.mark.parametrize(
    "splits, applied",
    [
        (None, []),
        (["train", "val"], []),
        (["train", "val", "test"], ["test/0/t0.png", "test/1/t1.png"]),
    ],
)
def test_a_row_of_test_changes_only_by_its_own_action_with_test_named(
    images, splits, applied
):
    rows = [
        {
            "path": "test/0/t0.png",
            "issue": LABEL_ISSUE,
            "suggested_label": "2",
            "action": "relabel",
        },
        {"path": "test/1/t1.png", "issue": OUTLIER, "action": "remove"},
        {
            "path": "test/1/leak.png",
            "issue": LABEL_ISSUE,
            "suggested_action": "relabel",
            "suggested_label": "2",
            "confidence": "1.0",
        },
    ]

    plan = plan_fixes(
        rows,
        images,
        accept_suggestions=True,
        min_confidence=0.9,
        splits=splits,
    )

    assert [step.path for step in plan.steps] == applied
    assert [why for _, why in plan.skipped] == [
        f"{path}: test changes only if --splits names it"
        for path in ("test/0/t0.png", "test/1/t1.png")
        if path not in applied
    ]
    # A suggestion for test is never accepted, named or not.
    assert plan.left_for_review == (
        (4, "test/1/leak.png: test is never changed automatically"),
    )


def test_a_misspelt_split_is_refused(images):
    with pytest.raises(ValueError, match=r"--splits names tset, not a split"):
        plan_fixes([], images, splits=["train", "tset"])


@pytest.mark.parametrize("issue", [EXACT_DUPLICATE, NEAR_DUPLICATE])
@pytest.mark.parametrize(
    "path, original",
    [
        ("test/1/leak.png", "val/1/leak.png"),
        ("val/1/leak.png", "test/1/leak.png"),
    ],
)
@pytest.mark.parametrize("action", ["", "accept"])
def test_a_val_test_leak_removes_the_val_copy(
    images, issue, path, original, action
):
    row = {
        "path": path,
        "issue": issue,
        "duplicate_of": original,
        "suggested_action": "remove",
        "confidence": "1.0",
        "action": action,
    }

    plan = plan_fixes(
        [row], images, accept_suggestions=True, min_confidence=0.99
    )

    assert [(step.action, step.path) for step in plan.steps] == [
        ("remove", "val/1/leak.png")
    ]
    assert plan.skipped == plan.left_for_review == ()


def test_fix_leaves_every_file_of_test_byte_identical(repo):
    images = repo / "data" / "images"
    add_test_split(images)
    findings = suggest_actions(
        [
            finding(
                images,
                "test/1/leak.png",
                EXACT_DUPLICATE,
                1.0,
                duplicate_of="val/1/leak.png",
            ),
            finding(images, "test/0/t0.png", LABEL_ISSUE, 0.99),
            finding(images, "test/1/t1.png", OUTLIER, 0.99),
            finding(images, "train/0/001.png", LABEL_ISSUE, 0.95),
        ],
        {
            "test/0/t0.png": LabelEvidence(0.0, "2", 0.99),
            "train/0/001.png": LabelEvidence(0.01, "2", 0.97),
        },
    )
    issues = issues_csv(repo, findings, {"test/1/t1.png": "remove"})
    test_before = snapshot(images / "test")

    result = fix(issues, images, accept_suggestions=True, min_confidence=0.9)

    assert snapshot(images / "test") == test_before
    assert sorted((c.action, c.path) for c in result.changes) == [
        ("relabel", "train/0/001.png"),
        ("remove", "val/1/leak.png"),
    ]
    summary = result.format(str(images), "DATA_CHANGELOG.md")
    assert (
        "1 rows skipped (1 test changes only if --splits names it)" in summary
    )
    assert "test/1/t1.png: test changes only if --splits names it" in summary
    assert "test/0/t0.png: test is never changed automatically" in summary


def test_a_relabel_to_an_unknown_class_is_refused(repo):
    images = repo / "data" / "images"
    findings = [
        finding(
            images,
            "train/0/001.png",
            LABEL_ISSUE,
            0.9,
            suggested_label="seven",
        )
    ]
    issues = issues_csv(repo, findings, {"train/0/001.png": "relabel"})
    with pytest.raises(ValueError, match="'seven', which is not a class"):
        fix(issues, images)


def test_the_embedded_dataset_as_a_stage_output_gets_versions(tmp_path):
    """data/raw is the output of the `prepare` stage: a fix is recorded
    with `dvc commit`, so `dvc repro` keeps it."""
    root = tmp_path / "project"
    write_digits(root / "source")
    (root / "dvc.yaml").write_text(
        "stages:\n  prepare:\n    cmd: cp -r source data\n"
        "    deps: [source]\n    outs: [data]\n"
    )
    run(root, "git", "init", "-q")
    run(root, "git", "config", "user.email", "test@example.com")
    run(root, "git", "config", "user.name", "test")
    run(root, DVC, "init", "-q")
    run(root, DVC, "repro", "-q")
    run(root, "git", "add", "-A")
    run(root, "git", "commit", "-qm", "prepared")
    data = root / "data"
    before = snapshot(data)
    issues = issues_csv(
        root,
        [finding(data, "train/1/101.png", OUTLIER, 0.5)],
        {"train/1/101.png": "remove"},
    )

    fix(issues, data)

    assert "Stage 'prepare' didn't change" in run(root, DVC, "repro")
    assert not (data / "train/1/101.png").exists()
    undo_last_version(str(data), changelog=str(root / "DATA_CHANGELOG.md"))
    assert snapshot(data) == before


def test_cli_reports_a_bad_row_without_a_traceback(repo, capsys):
    images = repo / "data" / "images"
    before = snapshot(images)
    issues = repo / "issues.csv"
    write_issues_csv(
        [Finding("../x.png", "", "train", OUTLIER, 1, "1")], str(issues)
    )
    issues.write_text(issues.read_text().replace(",\n", ",remove\n"))
    params = Path(__file__).resolve().parents[1] / "params.yaml"

    status = main(
        ["--params", str(params), "fix", str(issues), "--data", str(images)]
    )

    error = capsys.readouterr().err
    assert status == 2
    assert "dcp fix: error: cannot apply these rows" in error
    assert "line 2: path '../x.png' points outside the dataset" in error
    assert "Traceback" not in error
    assert snapshot(images) == before


def test_a_blank_flagged_as_a_label_issue_too_is_removed_not_relabelled(
    repo,
):
    images = repo / "data" / "images"
    blank = images / "train" / "0" / "blank.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(blank)
    findings = suggest_actions(
        [
            finding(images, "train/0/blank.png", LABEL_ISSUE, 0.99),
            finding(images, "train/0/blank.png", BLANK, 1.0),
        ],
        {"train/0/blank.png": LabelEvidence(0.0, "1", 0.99)},
    )
    issues = issues_csv(repo, findings, {})

    result = fix(issues, images, accept_suggestions=True, min_confidence=0.9)

    assert [(c.action, c.path) for c in result.changes] == [
        ("remove", "train/0/blank.png")
    ]
    assert [why for _, why in result.skipped] == [
        "train/0/blank.png: changed by an earlier row"
    ]


def test_the_summary_counts_skipped_rows_by_reason():
    skipped = (
        (2, "train/0/a.png: removed by line 3"),
        (4, "test/0/b.png: test changes only if --splits names it"),
        (5, "train/1/c.png: removed by line 7"),
    )

    summary = FixResult("data-v1", None, (), skipped).format("images", "log")

    assert (
        "3 rows skipped (2 removed by another row, 1 test changes only if"
        " --splits names it):" in summary
    )
    assert "line 4: test/0/b.png: test changes only if --splits" in summary
