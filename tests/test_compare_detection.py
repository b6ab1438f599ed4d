"""`dcp compare` of two detection runs: mAP50 per class, per slice and
of the int8 model between them, from the figures the detector's own
measure (map_figures) gives on known boxes; the page and compare.json
name mAP50 and show no flipped images (a detector has no single class
per image). Classification's side stays as it was (test_compare.py)."""

import json
import re

import numpy as np
import pytest

from components.quality_report.evaluation_results import EvaluationSummary
from components.quality_report.report_data import SliceRow
from core.readers.example_tables import images_digest
from iteration.comparison.accuracy import (
    CLASS,
    OVERALL,
    accuracy_deltas,
    figure_deltas,
    held_out_deltas,
)
from iteration.comparison.compare_html import render_comparison
from iteration.comparison.comparison import (
    Comparison,
    comparison_json,
    format_summary,
)
from iteration.comparison.data_diff import count_rows, data_changes
from iteration.comparison.dvc_diff import DvcDiff
from iteration.comparison.runs import RunRef
from tasks.detection.mean_average_precision import ImageBoxes
from tasks.detection.measured_split import map_figures
from tasks.detection.task import PIPELINE_TASK
from tests.test_compare import SECTIONS
from tests.test_html_report import Page

HEADLINE = PIPELINE_TASK.headline  # mAP50
CLASSES = ["zero", "one"]
BOX = np.array([[0.1, 0.1, 0.4, 0.4]])
# Four test images, a box each: zero, zero, one, one.
TRUTH = [ImageBoxes(BOX, np.array([c])) for c in (0, 0, 1, 1)]
SLICES = {"box_count_bucket": np.array([0, 1, 0, 1])}
PATHS = [f"images/test/{i}.png" for i in range(4)]
HASHES = [f"{i:064x}" for i in range(4)]


def found(classes: list[int | None]) -> list[ImageBoxes]:
    """One exact detection per image of the class given; none for None."""
    return [
        ImageBoxes(BOX, np.array([c]), np.array([0.9]))
        if c is not None
        else ImageBoxes(np.zeros((0, 4)), np.zeros(0, int), np.zeros(0))
        for c in classes
    ]


def run_figures(keras: list[int | None], int8: list[int | None]) -> dict:
    """A run's TestAccuracy figures, as measure_split writes them."""
    return {
        "split": "test",
        "examples": len(TRUTH),
        "images_sha256": images_digest(PATHS, HASHES),
        "keras": map_figures(TRUTH, found(keras), CLASSES, SLICES),
        "int8": map_figures(TRUTH, found(int8), CLASSES, SLICES),
    }


# A finds every box; B misses the ones of "one" (its int8 model too).
FIGURES_A = run_figures([0, 0, 1, 1], [0, 0, 1, 1])
FIGURES_B = run_figures([0, 0, None, None], [0, 0, None, None])


def eval_summary(figures: dict) -> EvaluationSummary:
    """What read_evaluation gives for a detector (its class_metric):
    mAP50 overall, AP50 per class, mAP50 per slice, no confusion
    matrix."""
    return EvaluationSummary(
        accuracy=figures[HEADLINE],
        examples=len(TRUTH),
        per_class_accuracy=figures[f"per_class_{HEADLINE}"],
        slices=tuple(
            SliceRow(s["feature"], s["value"], s[HEADLINE], s["examples"])
            for s in figures["slices"]
        ),
        confusion={},
    )


def test_map_per_class_between_two_runs_on_the_same_test_images():
    test = held_out_deltas(FIGURES_A, FIGURES_B, HEADLINE)
    assert test.note == ""
    overall = test.overall
    assert overall is not None
    assert (overall.a, overall.b) == pytest.approx((1.0, 0.5))
    assert overall.examples_a == overall.examples_b == 4
    per_class = {row.name: row for row in test.accuracy if row.group == CLASS}
    assert list(per_class) == CLASSES
    assert per_class["zero"].change == pytest.approx(0.0)
    assert (per_class["one"].a, per_class["one"].b) == pytest.approx((1, 0))
    # A detector's figures count boxes per class, not images.
    assert per_class["one"].examples_a is None
    slices = [row for row in test.accuracy if row.group == "box_count_bucket"]
    assert [(row.name, row.examples_a) for row in slices] == [
        ("0", 2),
        ("1", 2),
    ]
    # Each bucket holds a "zero" and a "one": B finds half of them.
    assert [row.b for row in slices] == pytest.approx([0.5, 0.5])
    assert test.int8 is not None and test.int8.name == "int8_mAP50"
    assert (test.int8.a, test.int8.b) == pytest.approx((1.0, 0.5))


def test_other_or_missing_test_images_say_so_in_map50():
    other = {**FIGURES_B, "images_sha256": "0" * 64}
    assert held_out_deltas(FIGURES_A, other, HEADLINE).note == (
        "test mAP50 is not comparable: the runs' test images differ"
    )
    assert held_out_deltas(FIGURES_A, None, HEADLINE).note == (
        "test mAP50 is not comparable: B has no test split"
    )


def test_eval_map_per_class_and_slice():
    rows = accuracy_deltas(
        eval_summary(FIGURES_A["keras"]), eval_summary(FIGURES_B["keras"])
    )
    assert rows[0].group == OVERALL
    assert rows[0].change == pytest.approx(-0.5)
    per_class = {row.name: row for row in rows if row.group == CLASS}
    assert per_class["one"].change == pytest.approx(-1.0)
    assert per_class["zero"].change == pytest.approx(0.0)
    # No confusion matrix: images per class are not known, not zero.
    assert {
        (row.examples_a, row.examples_b) for row in per_class.values()
    } == {(None, None)}
    assert {row.group for row in rows} == {OVERALL, CLASS, "box_count_bucket"}


TFLITE_A = {
    "float32_bytes": 4000,
    "int8_bytes": 1300,
    "eval_examples": 4,
    "keras_mAP50": 1.0,
    "float32_mAP50": 1.0,
    "int8_mAP50": 1.0,
    "keras_mAP50_95": 0.8,
    "int8_mAP50_95": 0.7,
}
TFLITE_B = {
    **TFLITE_A,
    "int8_bytes": 1200,
    "keras_mAP50": 0.5,
    "float32_mAP50": 0.5,
    "int8_mAP50": 0.5,
}


def test_tflite_figures_lead_with_the_headline():
    names = [row.name for row in figure_deltas(TFLITE_A, TFLITE_B, HEADLINE)]
    assert names == [
        "float32_bytes",
        "int8_bytes",
        "keras_mAP50",
        "float32_mAP50",
        "int8_mAP50",
        "eval_examples",
        "int8_mAP50_95",
        "keras_mAP50_95",
    ]


@pytest.fixture
def comparison() -> Comparison:
    boxes = {"train": {"zero": 5, "one": 3}, "test": {"zero": 2, "one": 2}}
    return Comparison(
        pipeline="scenes",
        a=RunRef("previous", "r1", None),
        b=RunRef("latest", "r2", None),
        counts=count_rows(
            boxes, {**boxes, "train": {"zero": 5, "one": 4}}, CLASSES
        ),
        changes=data_changes(
            dict(zip(PATHS, HASHES, strict=True)),
            {**dict(zip(PATHS, HASHES, strict=True)), PATHS[0]: "f" * 64},
        ),
        drift=[],
        accuracy=accuracy_deltas(
            eval_summary(FIGURES_A["keras"]),
            eval_summary(FIGURES_B["keras"]),
        ),
        tflite=figure_deltas(TFLITE_A, TFLITE_B, HEADLINE),
        flips=None,
        dvc=DvcDiff({}, "", "latest: not a git revision"),
        thumbnails={},
        test=held_out_deltas(FIGURES_A, FIGURES_B, HEADLINE),
        headline=HEADLINE,
        counted="boxes",
    )


def test_page_names_map50_and_has_no_flips(comparison):
    markup = render_comparison(comparison, html_dir="out")
    page = Page(markup)
    assert page.section_ids == [s for s in SECTIONS if s != "flips"]
    assert "right-to-wrong" not in page.tables
    assert ">mAP50</a>" in markup and "<h2>mAP50</h2>" in markup
    assert "<strong>Test mAP50 100.0% → 50.0% (-50.0%)</strong>" in markup
    assert "<li>Eval mAP50 " in markup
    # Only the ids, which links keep, say accuracy.
    assert "ccuracy" not in re.sub(r"<[^>]*>", "", markup)
    assert "eval images went from right to wrong" not in markup
    test_rows = {row[1]: row for row in page.tables["test-accuracy-table"][:3]}
    assert test_rows["one"][2:6] == ["100.0%", "0.0%", "-100.0%", "—"]
    assert "<h3>Boxes per split and class</h3>" in markup
    assert page.column("counts-table", 4) == ["+0", "+1", "+0", "+0"]
    # Worse mAP50 in red, the smaller int8 file in green.
    assert '<td class="num worse" data-value="-0.5">' in markup
    assert '<td class="num better" data-value="-100.0">' in markup


def test_json_and_summary_name_map50(comparison):
    record = json.loads(json.dumps(comparison_json(comparison)))
    assert (record["headline"], record["counted"]) == ("mAP50", "boxes")
    assert record["flips"] is None
    one = next(r for r in record["test"]["accuracy"] if r["name"] == "one")
    assert one["change"] == pytest.approx(-1.0)
    assert record["test"]["int8"]["name"] == "int8_mAP50"
    summary = format_summary(comparison, html_file="h", json_file="j")
    lines = summary.splitlines()
    assert lines[1] == (
        "  test mAP50 1.000 → 0.500 (-0.500) on the same 4 test images;"
        " int8 1.000 → 0.500 (-0.500)"
    )
    assert lines[2].startswith("  eval mAP50 1.000 → 0.500 (-0.500)")
    assert lines[3] == "  per class: one 1.000 → 0.000 (-1.000)"
    assert "flips" not in summary
    assert "1 changed" in summary and "boxes train/one 3 → 4" in summary
    assert "int8 1 → 1 KiB, mAP50 1.000 → 0.500" in summary


def test_classification_json_keeps_its_keys(comparison):
    # A classification comparison names no headline: compare.json's keys
    # are those it always had.
    record = comparison_json(
        Comparison(
            **{
                **vars(comparison),
                "headline": "accuracy",
                "counted": "images",
            }
        )
    )
    assert list(record) == [
        "pipeline",
        "a",
        "b",
        "accuracy",
        "tflite",
        "test",
        "counts",
        "changes",
        "drift",
        "flips",
        "dvc",
    ]
