"""`dcp compare`'s pieces on real digits: counts and file changes, TFDV
drift, accuracy deltas and flips of real classifiers, run names resolved
in a real git+DVC repository, DVC's diffs, and the page in Chromium."""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from components.quality_report.analysis import class_counts
from components.quality_report.evaluation_results import EvaluationSummary
from components.quality_report.report_data import SliceRow
from core.dataset.embedded.digits import render_digit
from core.dataset.etl.image_properties import image_properties
from core.readers.example_tables import images_digest
from dcp.commands import compare as command
from iteration.comparison.accuracy import (
    CLASS,
    NOT_COMPARABLE,
    OVERALL,
    HeldOutDeltas,
    accuracy_deltas,
    figure_deltas,
    held_out_deltas,
)
from iteration.comparison.compare_html import render_comparison
from iteration.comparison.comparison import (
    LISTED,
    Comparison,
    comparison_json,
    format_summary,
    listed_hashes,
)
from iteration.comparison.data_diff import (
    ADDED,
    CHANGED,
    MOVED,
    REMOVED,
    CountRow,
    FileChange,
    count_rows,
    data_changes,
)
from iteration.comparison.drift import (
    INFINITY_NORM,
    JENSEN_SHANNON,
    SCHEMA_FILE,
    STATISTICS_FILE,
    drift_schema,
    feature_drift,
    statistics_drift,
)
from iteration.comparison.dvc_diff import DvcDiff, dvc_diff
from iteration.comparison.flips import (
    EvalPredictions,
    find_flips,
    predictions,
)
from iteration.comparison.runs import (
    WORKSPACE,
    RunRef,
    recorded_run,
    resolve_run,
)
from pipeline.run_report import write_dvc_files
from pipeline.run_results import RunResults
from tasks.classification.accuracy_figures import accuracy_figures
from tests.raw_tables import raw_table
from tests.test_html_report import EVIL, Page
from tests.test_report_browser import dump_dom

CLASSES = [str(d) for d in range(10)]
SECTIONS = ["summary", "accuracy", "flips", "data", "drift", "tflite", "dvc"]
_DIGITS = load_digits()
# Real classifiers of the 8x8 scans: one trained on few images, one on
# many; both predict the same 200 held-out scans.
_EVAL = slice(1400, 1600)


def classifier_probabilities(train_images: int) -> np.ndarray:
    model = LogisticRegression(max_iter=2000)
    model.fit(_DIGITS.data[:train_images], _DIGITS.target[:train_images])
    return model.predict_proba(_DIGITS.data[_EVAL])


def eval_images() -> list[tuple[str, str, np.ndarray]]:
    """The held-out scans as (path, label, pixels), as the ETL names them."""
    return [
        (f"val/{label}/{index}.png", str(label), render_digit(scan, 32))
        for index, scan, label in zip(
            range(_EVAL.start, _EVAL.stop),
            _DIGITS.images[_EVAL],
            _DIGITS.target[_EVAL],
            strict=True,
        )
    ]


def eval_predictions(
    train_images: int, images: list[tuple[str, str, np.ndarray]]
) -> EvalPredictions:
    table = raw_table(images)
    return predictions(
        table.paths,
        np.array([CLASSES.index(label) for label in table.label_names]),
        classifier_probabilities(train_images),
        sha256_of=dict(zip(table.paths, table.sha256, strict=True)),
        class_names=CLASSES,
    )


def evaluation(
    labels: np.ndarray, predicted: np.ndarray, buckets: np.ndarray
) -> EvaluationSummary:
    """What the Evaluator would report for these predictions, sliced by
    `buckets` of brightness."""
    correct = labels == predicted
    return EvaluationSummary(
        accuracy=float(correct.mean()),
        examples=len(labels),
        per_class_accuracy={
            CLASSES[c]: float(correct[labels == c].mean())
            for c in sorted(set(labels))
        },
        slices=tuple(
            SliceRow(
                "brightness_bucket",
                int(bucket),
                float(correct[buckets == bucket].mean()),
                int((buckets == bucket).sum()),
            )
            for bucket in sorted(set(buckets))
        ),
        confusion=dict(
            Counter(
                (CLASSES[a], CLASSES[p])
                for a, p in zip(labels, predicted, strict=True)
            )
        ),
    )


def brightness_buckets(images: list[np.ndarray], buckets: int) -> np.ndarray:
    brightness = np.array(
        [image_properties(i[:, :, None])["brightness"] for i in images]
    )
    edges = np.quantile(brightness, np.linspace(0, 1, buckets + 1)[1:-1])
    return np.searchsorted(edges, brightness)


# Counts and file changes.


def test_count_rows_follow_the_real_labels_of_both_runs():
    images = eval_images()
    before = class_counts(raw_table(images))
    # B: the 3s of val relabelled as 8, and a test split added.
    relabelled = [
        (path.replace("/3/", "/8/"), "8" if label == "3" else label, pixels)
        for path, label, pixels in images
    ]
    extra = [(f"test/1/{i}.png", "1", images[i][2]) for i in range(5)]
    after = class_counts(raw_table(relabelled + extra))
    rows = count_rows(before, after, CLASSES)
    by_key = {(row.split, row.label): row for row in rows}
    threes = sum(label == "3" for _, label, _ in images)
    eights = sum(label == "8" for _, label, _ in images)
    assert threes > 0
    assert by_key["val", "3"] == CountRow("val", "3", threes, 0)
    assert by_key["val", "8"].change == threes
    assert by_key["val", "8"].b == threes + eights
    assert by_key["test", "1"] == CountRow("test", "1", 0, 5)
    assert [row.split for row in rows] == ["val"] * 10 + ["test"] * 10
    assert sum(row.change for row in rows) == 5


def test_data_changes_tell_added_removed_changed_and_moved_files():
    images = eval_images()[:12]
    (p0, label0, pixels0), (p1, _, _), (p2, label2, pixels2) = images[:3]
    moved_to = f"train/{label0}/moved.png"
    copy = images[3][2]
    # A: the 12 images and a copy of the fourth. B: the first moved, the
    # second removed, the third's pixels inverted, both copies of the
    # fourth moved to train, and a new image.
    a_images = [*images, ("val/copy/dup.png", "x", copy)]
    b_images = [
        (moved_to, label0, pixels0),
        (p2, label2, 255 - pixels2),
        *images[4:],
        ("train/new/1.png", "x", render_digit(_DIGITS.images[0], 32)),
        ("train/copy/1.png", "x", copy),
        ("train/copy/2.png", "x", copy),
    ]
    a, b = raw_table(a_images), raw_table(b_images)
    files_a = dict(zip(a.paths, a.sha256, strict=True))
    changes = data_changes(files_a, dict(zip(b.paths, b.sha256, strict=True)))
    kinds = [change.kind for change in changes]
    assert kinds == [ADDED, REMOVED, CHANGED, MOVED, MOVED, MOVED]
    assert changes[0].path_b == "train/new/1.png"
    assert changes[1] == FileChange(REMOVED, p1, "", files_a[p1], "")
    assert changes[2].path_a == changes[2].path_b == p2
    assert changes[2].sha256_a == files_a[p2] != changes[2].sha256_b
    assert FileChange(MOVED, p0, moved_to, files_a[p0], files_a[p0]) in changes
    # The two copies pair up with the two copies, in path order.
    assert {(c.path_a, c.path_b) for c in changes[3:]} == {
        (p0, moved_to),
        (images[3][0], "train/copy/1.png"),
        ("val/copy/dup.png", "train/copy/2.png"),
    }
    assert data_changes(files_a, files_a) == []


# Drift.


def property_frame(
    images: list[np.ndarray], labels: list[str]
) -> pd.DataFrame:
    frame = pd.DataFrame([image_properties(i[:, :, None]) for i in images])
    frame["label_name"] = labels
    frame["path"] = [
        f"train/{label}/{i}.png" for i, label in enumerate(labels)
    ]
    return frame


@pytest.fixture(scope="module")
def digit_statistics():
    """TFDV statistics of 120 real digits' properties (A), of the same
    with 30 of them inverted (B), and with 6 ones relabelled 7 (C)."""
    images = [render_digit(scan, 32) for scan in _DIGITS.images[:120]]
    labels = [str(label) for label in _DIGITS.target[:120]]
    inverted = [
        255 - image if i % 4 == 0 else image for i, image in enumerate(images)
    ]
    ones = [i for i, label in enumerate(labels) if label == "1"][:6]
    relabelled = [
        "7" if i in ones else label for i, label in enumerate(labels)
    ]
    return {
        name: tfdv.generate_statistics_from_dataframe(
            property_frame(pixels, names)
        )
        for name, pixels, names in (
            ("a", images, labels),
            ("inverted", inverted, labels),
            ("relabelled", images, relabelled),
        )
    }, len(ones) / len(labels)


def test_inverting_digits_drifts_brightness_not_contrast(digit_statistics):
    statistics, _ = digit_statistics
    schema = drift_schema(
        tfdv.infer_schema(statistics["a"]),
        jensen_shannon_threshold=0.05,
        infinity_norm_threshold=0.05,
    )
    drift = {
        d.feature: d
        for d in feature_drift(
            statistics["a"], statistics["inverted"], schema, split="train"
        )
    }
    # One value per image: no comparator on the path.
    assert "path" not in drift
    assert drift["brightness"].measure == JENSEN_SHANNON
    assert drift["brightness"].drifted
    assert drift["dark_fraction"].value > 0
    # An inverted image has the same spread and edges.
    for feature in ("contrast", "blur"):
        assert drift[feature].value == pytest.approx(0, abs=1e-9)
        assert not drift[feature].drifted
    assert drift["label_name"].measure == INFINITY_NORM
    assert drift["label_name"].value == 0
    assert next(iter(drift.values())).value == max(
        d.value for d in drift.values()
    )


def test_relabelling_moves_the_label_distance_by_the_moved_share(
    digit_statistics, tmp_path
):
    statistics, moved_share = digit_statistics
    # Through the files, as StatisticsGen and SchemaGen write them.
    for name in ("a", "relabelled"):
        split = tmp_path / name / "Split-train"
        split.mkdir(parents=True)
        (split / STATISTICS_FILE).write_bytes(
            statistics[name].SerializeToString()
        )
    tfdv.write_schema_text(
        tfdv.infer_schema(statistics["a"]), str(tmp_path / SCHEMA_FILE)
    )
    drift = statistics_drift(
        str(tmp_path / "a"),
        str(tmp_path / "relabelled"),
        str(tmp_path),
        splits=["train"],
        jensen_shannon_threshold=0.5,
        infinity_norm_threshold=moved_share / 2,
    )
    by_feature = {d.feature: d for d in drift}
    # The largest change of one label's share is the share relabelled.
    assert by_feature["label_name"].value == pytest.approx(moved_share)
    assert by_feature["label_name"].drifted
    assert by_feature["brightness"].value == 0
    assert [d.feature for d in drift if d.drifted] == ["label_name"]


# Accuracy and flips.


@pytest.fixture(scope="module")
def two_models():
    """Predictions of a weak (A) and a stronger (B) real classifier on
    the same 200 real digits."""
    images = eval_images()
    return (
        eval_predictions(40, images),
        eval_predictions(600, images),
        images,
    )


def test_flips_account_for_the_change_in_accuracy(two_models):
    a, b, _ = two_models
    flips = find_flips(a, b)
    assert flips.matched == 200 and flips.only_a == flips.only_b == 0
    assert (
        flips.right_a == a.correct.sum() and flips.right_b == b.correct.sum()
    )
    assert flips.right_b > flips.right_a  # more training data helps
    assert flips.right_b - flips.right_a == len(flips.wrong_to_right) - len(
        flips.right_to_wrong
    )
    assert len(flips.wrong_to_right) > 0
    index = {sha: i for i, sha in enumerate(a.sha256)}
    for flip in flips.right_to_wrong:
        assert (
            a.correct[index[flip.sha256]] and not b.correct[index[flip.sha256]]
        )
        assert flip.predicted_a == flip.label_a != flip.predicted_b
    for flip in flips.wrong_to_right:
        assert (
            not a.correct[index[flip.sha256]] and b.correct[index[flip.sha256]]
        )
    confidences = [f.confidence_b for f in flips.wrong_to_right]
    assert confidences == sorted(confidences, reverse=True)
    # Against itself nothing flips.
    same = find_flips(b, b)
    assert same.right_to_wrong == same.wrong_to_right == []


def test_flips_match_images_by_bytes_across_relabels(two_models):
    _, _, images = two_models
    a = eval_predictions(600, images)
    # B: an image the model gets right relabelled (moved to another
    # class folder), and the last image gone.
    k = int(np.flatnonzero(a.correct)[0])
    moved_path, label, pixels = images[k]
    wrong_label = CLASSES[(CLASSES.index(label) + 1) % 10]
    b_images = images[:-1]
    b_images[k] = (f"val/{wrong_label}/moved.png", wrong_label, pixels)
    table = raw_table(b_images)
    b = predictions(
        table.paths,
        np.array([CLASSES.index(name) for name in table.label_names]),
        classifier_probabilities(600)[:-1],
        sha256_of=dict(zip(table.paths, table.sha256, strict=True)),
        class_names=CLASSES,
    )
    flips = find_flips(a, b)
    assert (flips.matched, flips.only_a, flips.only_b) == (199, 1, 0)
    # The same prediction, judged against the new label.
    (flip,) = flips.right_to_wrong
    assert (flip.path_a, flip.path_b) == (moved_path, b.paths[k])
    assert (flip.label_a, flip.label_b) == (label, wrong_label)
    assert flip.predicted_a == flip.predicted_b == label
    assert flips.wrong_to_right == []


def test_predictions_need_the_hash_of_every_eval_image(two_models):
    _, _, images = two_models
    with pytest.raises(ValueError, match=r"val/\d/1400\.png and 199 other"):
        predictions(
            [path for path, _, _ in images],
            _DIGITS.target[_EVAL],
            classifier_probabilities(40),
            sha256_of={},
            class_names=CLASSES,
        )


def test_accuracy_deltas_overall_per_class_and_slice(two_models):
    a, b, images = two_models
    labels = _DIGITS.target[_EVAL]
    buckets = brightness_buckets([pixels for _, _, pixels in images], 4)
    summary_a = evaluation(
        labels, np.array([CLASSES.index(p) for p in a.predicted]), buckets
    )
    # B's eval set lacks the nines: a class A has and B has not.
    keep = labels != 9
    summary_b = evaluation(
        labels[keep],
        np.array([CLASSES.index(p) for p in b.predicted])[keep],
        buckets[keep],
    )
    rows = accuracy_deltas(summary_a, summary_b)
    overall = rows[0]
    assert overall.group == OVERALL
    assert overall.change == pytest.approx(
        summary_b.accuracy - summary_a.accuracy
    )
    assert (overall.examples_a, overall.examples_b) == (200, keep.sum())
    per_class = {r.name: r for r in rows if r.group == CLASS}
    assert list(per_class) == CLASSES
    assert per_class["9"].b is None and per_class["9"].change is None
    assert per_class["9"].examples_a == (labels == 9).sum()
    assert per_class["9"].examples_b == 0
    for name in CLASSES[:9]:
        assert per_class[name].examples_a == (labels == int(name)).sum()
        assert per_class[name].a == summary_a.per_class_accuracy[name]
    slices = [r for r in rows if r.group == "brightness_bucket"]
    assert [r.name for r in slices] == ["0", "1", "2", "3"]
    assert sum(r.examples_a for r in slices) == 200
    assert sum(r.examples_b for r in slices) == keep.sum()


def test_figure_deltas_of_the_recorded_tflite_figures():
    recorded = json.loads(
        (Path(__file__).parents[1] / "metrics.json").read_text()
    )
    a = recorded["tflite"]
    b = {**a, "int8_bytes": a["int8_bytes"] // 2, "new_figure": 1, "note": "x"}
    del b["float32_bytes"]
    rows = {row.name: row for row in figure_deltas(a, b)}
    assert rows["int8_bytes"].change == -(
        a["int8_bytes"] - a["int8_bytes"] // 2
    )
    assert rows["float32_bytes"].b is None
    assert rows["int8_accuracy"].change == 0
    assert rows["new_figure"].a is None
    assert "note" not in rows  # not a number


# Run names, git revisions and DVC.


def sh(cwd: Path, *command: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def figures_on_test(run: EvalPredictions, buckets: np.ndarray) -> dict:
    """A run's TestAccuracy figures on the 200 digits as its test split;
    its int8 model is taken to agree with it."""
    labels = np.array([CLASSES.index(label) for label in run.labels])
    predicted = np.array([CLASSES.index(p) for p in run.predicted])
    figures = accuracy_figures(
        labels, predicted, CLASSES, {"brightness_bucket": buckets}
    )
    return {
        "split": "test",
        "examples": len(labels),
        "images_sha256": images_digest(run.paths, run.sha256),
        "keras": figures,
        "int8": figures,
        "int8_keras_agreement": 1.0,
    }


def run_results(run_id: str, probabilities: np.ndarray) -> RunResults:
    """A run's figures, from a real classifier's predictions."""
    labels = _DIGITS.target[_EVAL]
    predicted = probabilities.argmax(axis=1)
    summary = evaluation(labels, predicted, np.zeros(len(labels), int))
    return RunResults(
        run_id=run_id,
        accuracy=summary.accuracy,
        eval_examples=summary.examples,
        per_class_accuracy=summary.per_class_accuracy,
        slices=summary.slices,
        confusion=summary.confusion,
        blessed=True,
        tflite={"int8_bytes": 1000, "int8_accuracy": summary.accuracy},
        anomalies={},
        findings={},
        artifacts={},
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git+DVC project with three commits of metrics.json and plots:
    tag old (no run id), data-v1 (run r1) and data-v2 (run r2)."""
    root = tmp_path_factory.mktemp("compare-repo")
    sh(root, "git", "init", "-q")
    sh(root, "git", "config", "user.email", "test@example.com")
    sh(root, "git", "config", "user.name", "Test")
    sh(root, "dvc", "init", "-q")
    (root / "dvc.yaml").write_text(
        "metrics:\n  - metrics.json\nplots:\n"
        "  - plots/per_class_accuracy.csv:\n"
        "      template: bar_horizontal\n      x: accuracy\n      y: class\n"
    )
    (root / "metrics.json").write_text(json.dumps({"accuracy": 0.5}))
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-qm", "before run ids")
    sh(root, "git", "tag", "old")
    for tag, run_id, train_images in (
        ("data-v1", "r1", 40),
        ("data-v2", "r2", 600),
    ):
        write_dvc_files(
            run_results(run_id, classifier_probabilities(train_images)),
            metrics_file=str(root / "metrics.json"),
            plots_dir=str(root / "plots"),
        )
        sh(root, "git", "add", "-A")
        sh(root, "git", "commit", "-qm", tag)
        sh(root, "git", "tag", tag)
    return root


RUNS = ["r0", "r1", "r2", "r3"]


def test_run_names_resolve_to_runs(repo):
    metrics = repo / "metrics.json"

    def resolve(name: str, complete=RUNS) -> RunRef:
        return resolve_run(
            name, runs=RUNS, complete_runs=complete, metrics_file=metrics
        )

    assert resolve("latest") == RunRef("latest", "r3", None)
    # Unfinished runs are passed over by latest and previous.
    assert resolve("previous", ["r0", "r2"]) == RunRef("previous", "r0", None)
    # The working tree's metrics.json is r2's.
    assert resolve("r2") == RunRef("r2", "r2", WORKSPACE)
    assert resolve("data-v1") == RunRef("data-v1", "r1", "data-v1")
    assert resolve("HEAD~1") == RunRef("HEAD~1", "r1", "HEAD~1")
    assert recorded_run("data-v2", metrics) == "r2"


@pytest.mark.parametrize(
    ("name", "runs", "complete", "message"),
    [
        (
            "previous",
            RUNS,
            ["r3"],
            r"1 finished run\(s\) \(r3\).*latest latest",
        ),
        ("data-v9", RUNS, RUNS, r"neither a run .* latest are r1, r2, r3"),
        ("old", RUNS, RUNS, "old: its metrics.json records no run id"),
        ("data-v1", ["r0"], ["r0"], "records run r1, which is not in"),
    ],
)
def test_bad_run_names_say_what_to_give(repo, name, runs, complete, message):
    with pytest.raises(ValueError, match=message):
        resolve_run(
            name,
            runs=runs,
            complete_runs=complete,
            metrics_file=repo / "metrics.json",
        )


def test_dvc_metrics_diff_shows_the_run_ids_as_text(repo):
    diff = sh(repo, "dvc", "metrics", "diff", "data-v1", "data-v2")
    run_row = next(line for line in diff.splitlines() if "run_id" in line)
    assert run_row.split()[2:] == ["r1", "r2", "-"]
    shown = sh(repo, "dvc", "metrics", "show", "--json")
    assert json.loads(shown)  # DVC reads the file with its string


def test_dvc_diff_of_two_revisions(repo, comparison, tmp_path):
    a = RunRef("data-v1", "r1", "data-v1")
    b = RunRef("latest", "r2", WORKSPACE)
    plots_dir = tmp_path / "compare" / "dvc_plots"
    diff = dvc_diff(
        a, b, metrics_file=repo / "metrics.json", plots_dir=plots_dir
    )
    assert diff.note == ""
    metrics = diff.metrics["metrics.json"]
    recorded = {
        tag: json.loads(sh(repo, "git", "show", f"{tag}:metrics.json"))
        for tag in ("data-v1", "data-v2")
    }
    assert metrics["accuracy"]["old"] == recorded["data-v1"]["accuracy"]
    assert metrics["accuracy"]["new"] == recorded["data-v2"]["accuracy"]
    assert metrics["accuracy"]["diff"] > 0
    assert metrics["run_id"] == {"old": "r1", "new": "r2"}
    page = Path(diff.plots)
    assert page.parent == plots_dir
    assert "per_class_accuracy" in page.read_text()
    changed = [name for name, values in metrics.items() if values.get("diff")]
    assert "accuracy" in changed and "run_id" not in changed
    summary = format_summary(
        dataclasses.replace(comparison, dvc=diff), html_file="", json_file=""
    )
    assert f"metrics diff ({len(changed)} changed)" in summary


def test_dvc_diff_says_why_not_when_a_run_is_no_revision(repo, tmp_path):
    diff = dvc_diff(
        RunRef("previous", "r1", None),
        RunRef("data-v2", "r2", "data-v2"),
        metrics_file=repo / "metrics.json",
        plots_dir=tmp_path / "plots",
    )
    assert diff.metrics == {} and diff.plots == ""
    assert diff.note.startswith("previous: not a git revision")
    assert not (tmp_path / "plots").exists()
    failed = dvc_diff(
        RunRef("a", "r1", "data-v1"),
        RunRef("b", "r2", "no-such-tag"),
        metrics_file=repo / "metrics.json",
        plots_dir=tmp_path / "plots",
    )
    assert failed.metrics == {}
    assert failed.note.startswith("dvc metrics diff failed: ERROR:")
    assert "no-such-tag" in failed.note and "support" not in failed.note


# The page, the JSON and the summary.


@pytest.fixture(scope="module")
def comparison(two_models, digit_statistics) -> Comparison:
    a, b, images = two_models
    statistics, _ = digit_statistics
    table = raw_table(images)
    files = dict(zip(table.paths, table.sha256, strict=True))
    evil_path = f"val/{EVIL}/x.png"
    new = raw_table([(evil_path, EVIL, 255 - images[0][2])])
    changes = data_changes(files, {**files, evil_path: new.sha256[0]})
    labels = _DIGITS.target[_EVAL]
    buckets = brightness_buckets([pixels for _, _, pixels in images], 3)
    summaries = [
        evaluation(
            labels,
            np.array([CLASSES.index(p) for p in run.predicted]),
            buckets,
        )
        for run in (a, b)
    ]
    schema = drift_schema(
        tfdv.infer_schema(statistics["a"]),
        jensen_shannon_threshold=0.05,
        infinity_norm_threshold=0.05,
    )
    built = Comparison(
        pipeline="digits",
        a=RunRef("data-v1", "r1", "data-v1"),
        b=RunRef("latest", EVIL, None),
        counts=count_rows(
            class_counts(table),
            class_counts(
                raw_table([*images, (evil_path, EVIL, images[0][2])])
            ),
            CLASSES,
        ),
        changes=changes,
        drift=feature_drift(
            statistics["a"], statistics["inverted"], schema, split="train"
        ),
        accuracy=accuracy_deltas(*summaries),
        tflite=figure_deltas(
            {"int8_bytes": 2048, "int8_accuracy": 0.9},
            {"int8_bytes": 1024, "int8_accuracy": 0.95},
        ),
        flips=find_flips(a, b),
        dvc=DvcDiff({}, "", f"{EVIL}: not a git revision"),
        thumbnails={},
        test=held_out_deltas(
            *(figures_on_test(run, buckets) for run in (a, b))
        ),
    )
    shown = listed_hashes(built)
    pngs = dict(zip(table.sha256, table.pngs, strict=True))
    pngs[new.sha256[0]] = new.pngs[0]
    return dataclasses.replace(
        built, thumbnails={sha: pngs[sha] for sha in shown}
    )


def test_page_lists_every_flip_and_change_with_thumbnails(
    comparison, tmp_path
):
    markup = render_comparison(comparison, html_dir=str(tmp_path))
    page = Page(markup)
    assert page.section_ids == SECTIONS
    flips = comparison.flips
    assert len(page.tables["right-to-wrong"]) == len(flips.right_to_wrong)
    assert len(page.tables["wrong-to-right"]) == len(flips.wrong_to_right)
    (added,) = page.tables["changes-table"]
    assert added[0] == ADDED and added[4] == f"val/{EVIL}/x.png"
    # One picture per flip, and the added image's.
    flipped = len(flips.right_to_wrong) + len(flips.wrong_to_right)
    assert len(page.images) == flipped + 1 <= LISTED
    assert EVIL not in markup  # escaped everywhere
    drifted = [row for row in page.tables["drift-table"] if row[5] == "yes"]
    assert {row[1] for row in drifted} == {
        d.feature for d in comparison.drift if d.drifted
    }
    overall = page.tables["accuracy-table"][0]
    assert overall[0] == "all"
    assert overall[3] == f"{comparison.overall.change:+.1%}"
    # Better in green: B's higher accuracy, its smaller int8 file.
    assert comparison.overall.change > 0
    better = '<td class="num better" data-value="{}">'
    assert better.format(comparison.overall.change) in markup
    assert better.format(-1024.0) in markup


def test_page_renders_and_sorts_in_chromium(comparison, tmp_path):
    path = tmp_path / "compare.html"
    path.write_text(render_comparison(comparison, html_dir=str(tmp_path)))
    page = Page(
        dump_dom(tmp_path, f"{path.as_uri()}#sort=drift-table:value:asc")
    )
    assert page.section_ids == SECTIONS
    values = [float(v) for v in page.column("drift-table", 3)]
    assert values == sorted(values)
    assert page.table_attributes["drift-table"]["data-sorted"] == "value:asc"
    assert len(page.images) == len(comparison.thumbnails)


def test_json_and_summary_agree_with_the_comparison(comparison):
    record = json.loads(json.dumps(comparison_json(comparison)))
    flips = comparison.flips
    assert record["flips"]["matched"] == flips.matched
    assert len(record["flips"]["right_to_wrong"]) == len(flips.right_to_wrong)
    assert record["changes"][ADDED] == 1
    assert record["accuracy"][0]["change"] == comparison.overall.change
    assert record["b"]["run_id"] == EVIL
    assert sum(d["drifted"] for d in record["drift"]) == sum(
        d.drifted for d in comparison.drift
    )
    summary = format_summary(
        comparison, html_file="out/compare.html", json_file="out/compare.json"
    )
    overall = comparison.overall
    assert f"accuracy {overall.a:.3f} → {overall.b:.3f}" in summary
    assert (
        f"{len(flips.right_to_wrong)} right → wrong,"
        f" {len(flips.wrong_to_right)} wrong → right" in summary
    )
    assert "1 added, 0 removed, 0 changed, 0 moved" in summary
    assert "int8 2 → 1 KiB, accuracy 0.900 → 0.950" in summary
    assert "out/compare.html" in summary and "out/compare.json" in summary


def test_summary_headlines_test_accuracy_on_the_same_test_images(
    comparison,
):
    test = comparison.test
    assert test.note == "" and test.overall is not None
    summary = format_summary(
        comparison, html_file="out/compare.html", json_file="out/compare.json"
    )
    # The test line comes before the eval line.
    assert summary.splitlines()[1] == (
        f"  test accuracy {test.overall.a:.3f} → {test.overall.b:.3f}"
        f" ({test.overall.change:+.3f}) on the same 200 test images; int8"
        f" {test.int8.a:.3f} → {test.int8.b:.3f} ({test.int8.change:+.3f})"
    )
    record = comparison_json(comparison)["test"]
    assert record["accuracy"][0]["change"] == test.overall.change
    assert {r["group"] for r in record["accuracy"]} == {
        OVERALL,
        CLASS,
        "brightness_bucket",
    }


def test_other_test_images_are_not_compared(two_models):
    a, b, images = two_models
    buckets = brightness_buckets([pixels for _, _, pixels in images], 3)
    figures_a, figures_b = (figures_on_test(run, buckets) for run in (a, b))
    # One test image relabelled: same paths, another hash.
    other = {**figures_b, "images_sha256": "0" * 64}
    assert held_out_deltas(figures_a, other) == HeldOutDeltas(
        [], None, NOT_COMPARABLE
    )
    assert "test images differ" in held_out_deltas(figures_a, other).note
    assert held_out_deltas(figures_a, None).note == (
        "test accuracy is not comparable: B has no test split"
    )


def test_page_and_summary_fall_back_to_eval_without_comparable_test(
    comparison,
):
    fallback = dataclasses.replace(
        comparison, test=HeldOutDeltas([], None, NOT_COMPARABLE)
    )
    summary = format_summary(fallback, html_file="h", json_file="j")
    assert summary.splitlines()[1] == (
        f"  {NOT_COMPARABLE}; the eval figures below are what there is"
    )
    assert "  eval accuracy " in summary
    page = render_comparison(fallback, html_dir="out")
    assert (
        "<strong>Test accuracy is not comparable: the runs&#39; test images"
        " differ</strong>; compare them on eval below." in page
    )
    assert 'id="test-accuracy-table"' not in page
    assert 'id="test-accuracy-table"' in render_comparison(
        comparison, html_dir="out"
    )


def test_command_defaults_to_previous_against_latest():
    parser = argparse.ArgumentParser()
    command.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["compare"])
    assert (args.a, args.b, args.output) == ("previous", "latest", None)
    args = parser.parse_args(["compare", "data-v1", "--output", "x"])
    assert (args.a, args.b, args.output) == ("data-v1", "latest", "x")
