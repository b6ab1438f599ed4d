"""`dcp autolabel`: confident predictions of a finished run's model join
train as a new data version, the rest go to review.csv; on real digit
scans, and end to end on a real run and a real git + DVC repository."""

import argparse
import contextlib
import csv
import hashlib
import io
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_digits

from core.dataset.embedded.digits import png_bytes, render_digit
from core.dataset.etl.etl import read_classes
from core.readers import trained_model
from dcp.commands.new_data import add_parser
from dcp.config import load_config
from iteration.data_versions import Change
from iteration.new_data.autolabel import (
    REVIEW_COLUMNS,
    Prediction,
    add_to_train,
    check_folders,
    free_path,
    split_by_confidence,
    top_two,
    train_targets,
    write_review_csv,
)
from iteration.new_data.finished_run import finished_run
from iteration.new_data.folder_images import UnreadableFile, load_folder
from tasks.classification.task import TASK
from tests.new_data_run import small_run

DVC = str(Path(sys.executable).with_name("dvc"))
CLASSES = [str(n) for n in range(10)]


def run(cwd: Path, *command: str) -> str:
    return subprocess.run(
        command, cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def snapshot(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def prediction(path: str, label: str, confidence: float) -> Prediction:
    return Prediction(path, label, confidence, "1", 1 - confidence)


def test_top_two_names_the_class_and_the_runner_up():
    probabilities = np.array(
        [[0.1, 0.7, 0.2] + [0.0] * 7, [0.0] * 9 + [1.0]], np.float32
    )

    first, second = top_two(["a.png", "b.png"], probabilities, CLASSES)

    assert (first.label, first.runner_up) == ("1", "2")
    assert first.confidence == pytest.approx(0.7)
    assert first.runner_up_probability == pytest.approx(0.2)
    assert (second.label, second.confidence) == ("9", 1.0)


def test_a_model_of_other_classes_is_refused():
    with pytest.raises(ValueError, match="predicts 3 classes but the dataset"):
        top_two(["a.png"], np.full((1, 3), 1 / 3), CLASSES)


def test_images_from_the_threshold_on_are_accepted():
    predictions = [
        prediction("a.png", "0", 0.95),
        prediction("b.png", "3", 0.9),
        prediction("c.png", "3", 0.899),
    ]

    accepted, review = split_by_confidence(predictions, 0.9)

    assert [p.path for p in accepted] == ["a.png", "b.png"]
    assert [p.path for p in review] == ["c.png"]


@pytest.mark.parametrize("threshold", [0.0, -0.5, 1.5])
def test_a_threshold_outside_0_1_is_refused(threshold):
    with pytest.raises(ValueError, match=f"threshold {threshold}: must be"):
        split_by_confidence([], threshold)


def test_a_taken_name_gets_a_number(tmp_path, digit_images):
    (tmp_path / "7.png").write_bytes(png_bytes(digit_images[0]))
    (tmp_path / "7-1.png").write_bytes(png_bytes(digit_images[1]))

    assert free_path(tmp_path, "7.png") == tmp_path / "7-2.png"
    assert free_path(tmp_path, "8.png") == tmp_path / "8.png"


@pytest.fixture
def data_dir(tmp_path, digit_images) -> Path:
    """A raw image folder with one train image of class 3 named 0.png,
    a val and a test image, and an unlabeled pool of three images."""
    data = tmp_path / "raw"
    for path, image in (
        ("train/3/0.png", digit_images[3]),
        ("val/3/1.png", digit_images[13]),
        ("test/3/0.png", digit_images[33]),
        ("unlabeled/0.png", digit_images[23]),
        ("unlabeled/more/1.png", digit_images[4]),
        ("unlabeled/2.png", digit_images[5]),
    ):
        (data / path).parent.mkdir(parents=True, exist_ok=True)
        (data / path).write_bytes(png_bytes(image))
    return data


def test_images_inside_the_data_folder_are_moved_to_train(data_dir):
    pool = data_dir / "unlabeled"
    before = snapshot(data_dir)
    accepted = [
        prediction("0.png", "3", 0.99),
        prediction("more/1.png", "4", 0.97),
    ]

    changes = add_to_train(
        pool,
        accepted,
        data_dir,
        targets=train_targets(accepted, data_dir),
        run_id="run-1",
    )

    assert changes == [
        Change(
            "autolabel",
            "unlabeled/0.png",
            "train/3/0-1.png",  # train/3/0.png was taken
            "predicted 3 with confidence 0.990 by run run-1",
            "dcp autolabel",
        ),
        Change(
            "autolabel",
            "unlabeled/more/1.png",
            "train/4/1.png",
            "predicted 4 with confidence 0.970 by run run-1",
            "dcp autolabel",
        ),
    ]
    after = snapshot(data_dir)
    assert after["train/3/0-1.png"] == before["unlabeled/0.png"]
    assert after["train/4/1.png"] == before["unlabeled/more/1.png"]
    assert after["train/3/0.png"] == before["train/3/0.png"]
    assert set(after) == {
        "train/3/0.png",
        "train/3/0-1.png",
        "train/4/1.png",
        "val/3/1.png",
        "test/3/0.png",
        "unlabeled/2.png",
    }
    for held_out in ("val/3/1.png", "test/3/0.png"):
        assert after[held_out] == before[held_out]


def test_images_outside_the_data_folder_are_copied(tmp_path, data_dir):
    outside = tmp_path / "phone"
    shutil.copytree(data_dir / "unlabeled", outside)

    accepted = [prediction("2.png", "5", 0.93)]
    (change,) = add_to_train(
        outside,
        accepted,
        data_dir,
        targets=train_targets(accepted, data_dir),
        run_id="r",
    )

    assert (outside / "2.png").exists()
    assert (data_dir / "train/5/2.png").read_bytes() == (
        outside / "2.png"
    ).read_bytes()
    assert (change.path, change.new_path) == ("", "train/5/2.png")
    assert f"copied from {outside}/2.png" in change.reason


@pytest.mark.parametrize("folder", ["train", "val/3", "test", "."])
def test_a_labelled_split_cannot_be_autolabelled(data_dir, folder):
    with pytest.raises(ValueError, match="lies inside the labelled splits"):
        check_folders(data_dir / folder, data_dir)


def test_review_csv_lists_the_unsure_first_by_confidence_then_the_unreadable(
    tmp_path,
):
    folder = tmp_path / "pool"

    write_review_csv(
        tmp_path / "review" / "review.csv",
        folder,
        [prediction("a.png", "2", 0.4), prediction("b.png", "7", 0.8)],
        [UnreadableFile("c.png", "empty file (0 bytes)")],
        threshold=0.9,
    )

    with (tmp_path / "review" / "review.csv").open() as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == REVIEW_COLUMNS
    assert rows[1] == [
        f"{folder}/b.png",
        "7",
        "0.8000",
        "1",
        "0.2000",
        "confidence below 0.9",
    ]
    assert rows[2][:3] == [f"{folder}/a.png", "2", "0.4000"]
    assert rows[3] == [
        f"{folder}/c.png",
        "",
        "",
        "",
        "",
        "empty file (0 bytes)",
    ]


# End to end: a small real run, its dataset in a git + DVC repository.


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> dict:
    """`dcp autolabel raw/unlabeled` on a copy of the run's dataset, at
    the median confidence of the run's model on the pool."""
    trained = small_run(tmp_path_factory)
    repo = tmp_path_factory.mktemp("autolabel") / "project"
    shutil.copytree(trained.raw, repo / "raw")
    run(repo, "git", "init", "-q")
    run(repo, "git", "config", "user.email", "test@example.com")
    run(repo, "git", "config", "user.name", "test")
    run(repo, DVC, "init", "-q")
    run(repo, "git", "commit", "-qm", "dvc")
    params = yaml.safe_load(trained.params.read_text())
    params["etl"]["data"] = "raw"
    # Found by --name, with the classes of the ETL output the run read.
    params["etl"]["output"] = "no-etl-output"
    params["pipeline"]["name"] = "another"
    params["autolabel"]["review"] = str(repo.parent / "review")
    params["fix"]["changelog"] = "DATA_CHANGELOG.md"
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    config = load_config(repo / "params.yaml")

    finished = finished_run(
        config.pipeline.metadata, "digits", None, task="classification"
    )
    pool = load_folder(
        repo / "raw" / "unlabeled",
        transform_graph=finished.transform_graph,
        task=TASK,
    )
    probabilities = trained_model.predict(
        trained_model.load_keras_model(finished.model), pool.images
    )
    expected = {
        path: (
            read_classes(trained.config.etl.output)[row.argmax()],
            row.max(),
        )
        for path, row in zip(pool.paths, probabilities, strict=True)
    }
    threshold = float(np.median(probabilities.max(axis=1)))
    before = snapshot(repo / "raw")

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "autolabel",
            str(repo / "raw" / "unlabeled"),
            "--threshold",
            str(threshold),
            "--name",
            "digits",
            # The copy, not the folder the run read.
            "--data",
            str(repo / "raw"),
        ]
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        args.run(args, config, [])
    return {
        "repo": repo,
        "before": before,
        "expected": expected,
        "threshold": threshold,
        "printed": printed.getvalue(),
        "after": snapshot(repo / "raw"),
        "review": repo.parent / "review" / "review.csv",
        "run_id": finished.run_id,
    }


def moved(result: dict) -> dict[str, str]:
    """unlabeled file name → its path in train, from what changed."""
    by_hash = {sha: path for path, sha in result["after"].items()}
    return {
        path.removeprefix("unlabeled/"): by_hash[sha]
        for path, sha in result["before"].items()
        if path.startswith("unlabeled/") and path not in result["after"]
    }


@pytest.mark.e2e
def test_confident_images_join_train_under_the_predicted_class(labelled):
    threshold, expected = labelled["threshold"], labelled["expected"]
    confident = {p for p, (_, c) in expected.items() if c >= threshold}
    assert 0 < len(confident) < len(expected)

    placed = moved(labelled)

    assert set(placed) == confident
    for name, path in placed.items():
        split, label, _ = path.split("/")
        assert (split, label) == ("train", expected[name][0])
    for split in ("val", "test"):
        assert {
            p: h for p, h in labelled["after"].items() if p.startswith(split)
        } == {
            p: h for p, h in labelled["before"].items() if p.startswith(split)
        }


@pytest.mark.e2e
def test_confident_labels_are_mostly_right(labelled):
    """The pool holds scikit-learn digits: their true labels are known."""
    digits = load_digits()
    truth = {
        png_bytes(render_digit(scan, 32)): str(label)
        for scan, label in zip(digits.images, digits.target, strict=True)
    }
    raw = labelled["repo"] / "raw"
    placed = moved(labelled)
    right = sum(
        truth[(raw / path).read_bytes()] == path.split("/")[1]
        for path in placed.values()
    )
    assert right >= 0.9 * len(placed)


@pytest.mark.e2e
def test_the_unsure_are_left_for_review(labelled):
    with labelled["review"].open() as file:
        rows = list(csv.DictReader(file))
    confident = set(moved(labelled))
    pool = labelled["repo"] / "raw" / "unlabeled"
    unsure = {p for p in labelled["expected"] if p not in confident}
    assert {
        Path(row["path"]).relative_to(pool).as_posix() for row in rows
    } == unsure
    for row in rows:
        name = Path(row["path"]).relative_to(pool).as_posix()
        label, confidence = labelled["expected"][name]
        assert row["predicted_label"] == label
        assert float(row["confidence"]) == pytest.approx(confidence, abs=1e-4)
        # The model's confidence, not the CSV's 4 digits: the threshold
        # (the pool's median) can fall between the two.
        assert confidence < labelled["threshold"]
        assert (pool / name).exists()


@pytest.mark.e2e
def test_autolabel_is_a_data_version_that_restores(labelled):
    repo = labelled["repo"]
    tags = run(repo, "git", "tag").split()
    assert tags == ["data-v1", "data-v2"]
    changes = (repo / "raw" / "changes.csv").read_text()
    assert changes.count("data-v2,autolabel,unlabeled/") == len(
        moved(labelled)
    )
    assert f"by run {labelled['run_id']}" in changes

    run(repo, "git", "checkout", "-q", "data-v1")
    run(repo, DVC, "checkout", "-q")
    assert snapshot(repo / "raw") == labelled["before"]
    run(repo, "git", "checkout", "-q", "data-v2")
    run(repo, DVC, "checkout", "-q")
    after = snapshot(repo / "raw")
    assert {p: h for p, h in after.items() if p != "changes.csv"} == {
        p: h for p, h in labelled["after"].items() if p != "changes.csv"
    }


@pytest.mark.e2e
def test_the_summary_counts_per_class_and_names_the_outputs(labelled):
    placed = moved(labelled)
    per_class = Counter(path.split("/")[1] for path in placed.values())
    printed = labelled["printed"]
    assert f"Accepted {len(placed)} images into train (" in printed
    for label, count in per_class.items():
        assert f"{label}: {count}" in printed
    unsure = len(labelled["expected"]) - len(placed)
    assert f"; {unsure} left for review." in printed
    assert "data version: data-v2 (before: data-v1)" in printed
    assert f"to review: {labelled['review']}" in printed
