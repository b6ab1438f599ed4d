"""The detector's figures beside the Evaluator: mAP overall, per class
and per slice, and ultralytics' per-class table, on known detections."""

import numpy as np
import pytest

from pipeline.run_report import format_summary
from pipeline.run_results import RunResults
from tasks.detection.mean_average_precision import ImageBoxes
from tasks.detection.measured_split import ground_truth, map_figures

CLASSES = ["RBC", "WBC", "Platelets"]
BOXES = np.array(
    [[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.9, 0.9], [0.6, 0.1, 0.7, 0.2]]
)


def test_read_split_targets_drop_their_padding():
    targets = np.full((1, 5, 5), -1.0)
    targets[0, :2] = [[0.1, 0.1, 0.3, 0.3, 2], [0.5, 0.5, 0.9, 0.9, 0]]
    [image] = ground_truth(targets)
    np.testing.assert_allclose(image.boxes, targets[0, :2, :4])
    assert image.classes.tolist() == [2, 0]


def test_exact_detections_score_one_everywhere():
    truth = [
        ImageBoxes(BOXES, np.array([0, 1, 2])),
        ImageBoxes(BOXES[:1], [0]),
    ]
    found = [
        ImageBoxes(BOXES, np.array([0, 1, 2]), np.array([0.9, 0.8, 0.7])),
        ImageBoxes(BOXES[:1], np.array([0]), np.array([0.6])),
    ]
    figures = map_figures(truth, found, CLASSES, {"blur_bucket": [0, 1]})
    assert figures["mAP50"] == pytest.approx(1.0)
    assert figures["per_class_boxes"] == {"RBC": 2, "WBC": 1, "Platelets": 1}
    columns = figures["table"]["columns"]
    rows = {
        row[0]: dict(zip(columns, row, strict=True))
        for row in figures["table"]["rows"]
    }
    assert list(rows) == ["all classes", *CLASSES]
    assert rows["RBC"]["images"] == 2 and rows["RBC"]["instances"] == 2
    for row in rows.values():
        assert (row["P"], row["R"], row["mAP50"]) == pytest.approx((1, 1, 1))
    assert [(s["value"], s["examples"]) for s in figures["slices"]] == [
        (0, 1),
        (1, 1),
    ]


def test_a_missed_class_and_a_spurious_box_show_in_its_row():
    truth = [ImageBoxes(BOXES, np.array([0, 1, 2]))]
    # Platelets missed; a spurious WBC box on background.
    found = [
        ImageBoxes(
            np.vstack([BOXES[:2], [[0.0, 0.6, 0.2, 0.8]]]),
            np.array([0, 1, 1]),
            np.array([0.9, 0.8, 0.85]),
        )
    ]
    figures = map_figures(truth, found, CLASSES, {})
    rows = {row[0]: row for row in figures["table"]["rows"]}
    _, _, _, p, r, _, map50, _ = rows["Platelets"]
    assert (p, r, map50) == (0.0, 0.0, 0.0)
    _, _, _, p, r, _, map50, _ = rows["WBC"]
    assert r == 1.0 and p == pytest.approx(0.5)
    assert figures["per_class_mAP50"]["RBC"] == pytest.approx(1.0)


def test_the_summary_prints_the_task_table_under_its_headline():
    table = {
        "title": "at confidence 0.31, the best mean F1",
        "columns": ["class", "images", "P", "mAP50"],
        "rows": [["all classes", 72, 0.81234, 0.881], ["WBC", 72, 1.0, None]],
    }
    figures = {"mAP50": 0.881, "per_class_mAP50": {"WBC": 0.97}}
    results = RunResults(
        run_id="run-1",
        headline="mAP50",
        accuracy=0.9,
        eval_examples=87,
        per_class_accuracy={"WBC": 0.95},
        slices=(),
        confusion={},
        blessed=True,
        tflite={
            "int8_bytes": 2048,
            "float32_bytes": 4096,
            "int8_mAP50": 0.88,
            "float32_mAP50": 0.9,
        },
        anomalies={},
        findings=None,
        artifacts={"model": "m", "evaluation": "e", "tflite": "t"},
        test={
            "examples": 72,
            "keras": {**figures, "table": table},
            "int8": figures,
        },
    )
    summary = format_summary(
        results,
        metrics_file="metrics.json",
        report_file="r.html",
        issues_file=None,
    )
    assert "Eval mAP50 0.900 on 87 images; blessed." in summary
    assert "TFLite int8: 2 KiB, mAP50 0.880 (float32: 4 KiB, 0.900)" in summary
    assert "Test mAP50 0.881 on 72 images" in summary
    lines = summary.splitlines()
    start = lines.index(
        "  test per class, at confidence 0.31, the best mean F1:"
    )
    assert lines[start + 1].split() == ["class", "images", "P", "mAP50"]
    assert lines[start + 2].split() == [
        "all",
        "classes",
        "72",
        "0.812",
        "0.881",
    ]
    assert lines[start + 3].split() == ["WBC", "72", "1.000", "-"]
    assert "data quality" not in summary and "issues to review" not in summary


def test_map50_by_box_size_counts_the_boxes_of_each_size():
    small = [0.1, 0.1, 0.15, 0.15]  # 0.0025 of the image: under 16² px
    medium = [0.5, 0.5, 0.6, 0.6]  # 0.01
    large = [0.2, 0.5, 0.6, 0.9]  # 0.16: over 48² px
    truth = [ImageBoxes(np.array([small, medium, large]), np.array([0, 0, 1]))]
    # The large and medium boxes found; the small one missed.
    found = [
        ImageBoxes(
            np.array([medium, large]), np.array([0, 1]), np.array([0.9, 0.8])
        )
    ]
    by_size = map_figures(truth, found, CLASSES, {})["by_box_size"]
    assert by_size == {
        "small": {"mAP50": 0.0, "boxes": 1},
        "medium": {"mAP50": pytest.approx(1.0), "boxes": 1},
        "large": {"mAP50": pytest.approx(1.0), "boxes": 1},
    }
