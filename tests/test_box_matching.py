"""Precision, recall and F1 against confidence, the best-F1 table and
the confusion matrix of detections, on hand-made cases and against
pycocotools' matching; and their charts."""

import contextlib
import io
from collections.abc import Sequence

import numpy as np
import pytest
import vl_convert
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from core.pages.charts import VEGA_LITE_VERSION
from tasks.detection.box_matching import (
    ALL_CLASSES,
    BACKGROUND,
    CONFIDENCE_THRESHOLDS,
    best_f1,
    box_iou,
    confusion_matrix,
    precision_recall_curves,
)
from tasks.detection.detection_charts import (
    confusion_matrix_chart,
    f1_confidence_chart,
    precision_recall_chart,
)
from tasks.detection.mean_average_precision import ImageBoxes

NAMES = ("a", "b", "c")
A, B, C = range(3)
BG = len(NAMES)  # the background row and column
SQUARE = [0, 0, 10, 10]  # [ymin, xmin, ymax, xmax]
NOTHING = ImageBoxes(np.zeros((0, 4)), [], [])


def at(confidence: float) -> int:
    """The index of a confidence threshold."""
    (index,) = np.flatnonzero(np.isclose(CONFIDENCE_THRESHOLDS, confidence))
    return int(index)


def test_iou_of_known_boxes():
    iou = box_iou(
        [SQUARE, [0, 20, 10, 30]],
        [SQUARE, [0, 5, 10, 15], [5, 5, 15, 15], [3, 3, 3, 3]],
    )
    assert iou.shape == (2, 4)
    # Identical; half shifted: 50 / 150; a quarter: 25 / 175; empty.
    assert iou[0] == pytest.approx([1, 1 / 3, 1 / 7, 0])
    assert iou[1] == pytest.approx([0, 0, 0, 0])
    assert box_iou(np.zeros((0, 4)), [SQUARE]).shape == (0, 1)


def test_a_perfect_detector_scores_one():
    truth = [
        ImageBoxes([SQUARE, [20, 20, 40, 50]], [A, B]),
        ImageBoxes(np.zeros((0, 4)), []),  # an image of background only
        ImageBoxes([[5, 5, 25, 30], [50, 50, 60, 60]], [B, C]),
    ]
    scores = [[0.9, 0.75], [], [0.6, 0.8]]
    detections = [
        ImageBoxes(t.boxes, t.classes, s)
        for t, s in zip(truth, scores, strict=True)
    ]
    curves = precision_recall_curves(truth, detections, NAMES)
    best = best_f1(curves)
    # Every threshold up to the lowest score keeps every box; of those
    # ties, the highest.
    assert best.confidence == 0.6
    for row in (*best.per_class, best.all_classes):
        assert (row.precision, row.recall, row.f1) == (1, 1, 1)
    assert [(r.name, r.images, r.instances) for r in best.per_class] == [
        ("a", 1, 1),
        ("b", 2, 2),
        ("c", 1, 1),
    ]
    assert (best.all_classes.name, best.all_classes.images) == (
        ALL_CLASSES,
        3,
    )
    assert best.all_classes.instances == 4
    matrix = confusion_matrix(truth, detections, NAMES, confidence=0.5)
    assert matrix.labels == (*NAMES, BACKGROUND)
    np.testing.assert_array_equal(matrix.counts, np.diag([1, 2, 1, 0]))


def test_a_box_shifted_below_the_iou_is_a_false_positive_and_a_miss():
    truth = [ImageBoxes([SQUARE], [A])]
    # IoU 60 / 140 = 0.43.
    shifted = [ImageBoxes([[0, 4, 10, 14]], [A], [0.9])]
    (curves,) = precision_recall_curves(truth, shifted, NAMES).per_class
    assert curves.recall.max() == 0
    assert curves.precision[at(0.9)] == 0  # the detection, kept, is wrong
    assert curves.precision[at(0.91)] == 1  # nothing kept, nothing wrong
    matrix = confusion_matrix(truth, shifted, NAMES, confidence=0.5).counts
    assert matrix[A, BG] == 1  # a detection of nothing
    assert matrix[BG, A] == 1  # a missed box
    assert matrix.sum() == 2
    # At a lower IoU threshold it matches.
    (looser,) = precision_recall_curves(
        truth, shifted, NAMES, iou=0.4
    ).per_class
    assert looser.recall[at(0.9)] == 1
    matrix = confusion_matrix(
        truth, shifted, NAMES, iou=0.4, confidence=0.5
    ).counts
    assert matrix[A, A] == 1 and matrix.sum() == 1


def test_a_box_at_exactly_the_iou_matches():
    truth = [ImageBoxes([SQUARE], [A])]
    half = [ImageBoxes([[0, 0, 10, 5]], [A], [0.9])]  # IoU 50 / 100
    (curves,) = precision_recall_curves(truth, half, NAMES).per_class
    assert curves.recall[0] == 1
    matrix = confusion_matrix(truth, half, NAMES, confidence=0.5).counts
    assert matrix[A, A] == 1 and matrix.sum() == 1


def test_a_wrong_class_on_the_right_box_is_off_the_diagonal():
    truth = [ImageBoxes([SQUARE], [A])]
    wrong = [ImageBoxes([SQUARE], [B], [0.9])]
    matrix = confusion_matrix(truth, wrong, NAMES, confidence=0.5).counts
    assert matrix[B, A] == 1  # rows predicted, columns true
    assert matrix.sum() == 1
    # For precision and recall it is a miss of a, and b, without ground
    # truth, has no curve.
    curves = precision_recall_curves(truth, wrong, NAMES)
    assert [c.name for c in curves.per_class] == ["a"]
    assert curves.per_class[0].recall.max() == 0
    # Never detected: precision 0, as ultralytics reports it.
    assert curves.per_class[0].precision.max() == 0


def test_a_low_scored_spurious_box_lowers_precision_where_it_is_kept():
    truth = [ImageBoxes([SQUARE, [20, 20, 30, 30]], [A, A])]
    detections = [
        ImageBoxes(
            [SQUARE, [20, 20, 30, 30], [50, 50, 60, 60]],
            [A, A, A],
            [0.9, 0.8, 0.3],
        )
    ]
    (curves,) = precision_recall_curves(truth, detections, NAMES).per_class
    kept = CONFIDENCE_THRESHOLDS <= 0.3  # a detection counts up to its score
    assert curves.precision[kept] == pytest.approx(2 / 3)
    assert curves.precision[~kept] == pytest.approx(1)
    assert curves.recall[CONFIDENCE_THRESHOLDS <= 0.8] == pytest.approx(1)
    assert curves.recall[at(0.81)] == pytest.approx(0.5)
    assert curves.f1[at(0.3)] == pytest.approx(0.8)  # 2 * 2/3 / (5/3)
    best = best_f1(precision_recall_curves(truth, detections, NAMES))
    assert best.confidence == 0.8
    assert best.all_classes.f1 == 1


def test_a_box_matches_one_detection_only():
    truth = [ImageBoxes([SQUARE], [A])]
    twice = [ImageBoxes([SQUARE, [0, 0, 10, 9]], [A, A], [0.7, 0.9])]
    (curves,) = precision_recall_curves(truth, twice, NAMES).per_class
    assert curves.recall[0] == 1
    assert curves.precision[0] == 0.5
    # The better scored one matched: alone above 0.7, it is right.
    assert curves.precision[at(0.8)] == 1 and curves.recall[at(0.8)] == 1
    matrix = confusion_matrix(truth, twice, NAMES, confidence=0).counts
    assert matrix[A, A] == 1 and matrix[A, BG] == 1 and matrix.sum() == 2


def test_detections_match_by_score_not_by_iou():
    # The first detection overlaps both boxes (IoU 0.54 and 0.82) and
    # takes the second; the second detection, on the second box (IoU 1),
    # then finds only the first, at IoU 0.43: a false positive.
    truth = [ImageBoxes([[0, 0, 10, 10], [0, 4, 10, 14]], [A, A])]
    found = [ImageBoxes([[0, 3, 10, 13], [0, 4, 10, 14]], [A, A], [0.9, 0.8])]
    (curves,) = precision_recall_curves(truth, found, NAMES).per_class
    assert curves.recall[0] == 0.5
    assert curves.precision[0] == 0.5


def test_the_confusion_matrix_pairs_by_iou_whatever_the_class():
    truth = [ImageBoxes([SQUARE], [A])]
    found = [
        ImageBoxes(
            [[0, 0, 10, 6], [0, 0, 10, 9]],  # IoU 0.6, a; IoU 0.9, b
            [A, B],
            [0.9, 0.5],
        )
    ]
    matrix = confusion_matrix(truth, found, NAMES, confidence=0.5).counts
    assert matrix[B, A] == 1  # the better overlap pairs
    assert matrix[A, BG] == 1
    assert matrix.sum() == 2


def test_the_confusion_matrix_ignores_detections_below_its_confidence():
    truth = [ImageBoxes([SQUARE], [A]), ImageBoxes(np.zeros((0, 4)), [])]
    found = [
        ImageBoxes([SQUARE], [A], [0.2]),
        ImageBoxes([SQUARE], [B], [0.5]),  # in an image of background
    ]
    low = confusion_matrix(truth, found, NAMES, confidence=0.5).counts
    assert low[BG, A] == 1 and low[B, BG] == 1 and low.sum() == 2
    assert (
        confusion_matrix(truth, found, NAMES, confidence=0.2).counts[A, A] == 1
    )


def test_wrong_inputs_are_refused():
    truth = [ImageBoxes([SQUARE], [A])]
    with pytest.raises(ValueError, match="1 images of ground truth but 2"):
        precision_recall_curves(truth, [NOTHING, NOTHING], NAMES)
    with pytest.raises(ValueError, match="scores"):
        confusion_matrix(truth, truth, NAMES, confidence=0.5)
    with pytest.raises(ValueError, match="IoU"):
        precision_recall_curves(truth, [NOTHING], NAMES, iou=0)


def test_no_ground_truth_gives_zeros():
    curves = precision_recall_curves([NOTHING], [NOTHING], NAMES)
    assert curves.per_class == ()
    best = best_f1(curves)
    assert best.per_class == ()
    assert (best.all_classes.precision, best.all_classes.f1) == (0, 0)


def random_scenes(
    seed: int, images: int = 40
) -> tuple[list[ImageBoxes], list[ImageBoxes]]:
    """Boxes in 100-pixel images and detections of them: most found,
    nudged, some of the wrong class, some twice, and boxes of nothing."""
    rng = np.random.default_rng(seed)
    truth, found = [], []
    for _ in range(images):
        n = int(rng.integers(0, 5))
        corner = rng.uniform(0, 70, (n, 2))
        boxes = np.hstack([corner, corner + rng.uniform(8, 30, (n, 2))])
        classes = rng.integers(0, len(NAMES), n)
        detected, labels = [], []
        for box, label in zip(boxes, classes, strict=True):
            # Missed, found or found twice.
            for _ in range(rng.choice([0, 1, 1, 1, 2])):
                start = box[:2] + rng.normal(0, 2.5, 2)
                size = (box[2:] - box[:2]) * rng.uniform(0.7, 1.3, 2)
                detected.append(np.concatenate([start, start + size]))
                wrong = rng.random() < 0.15
                labels.append(rng.integers(0, len(NAMES)) if wrong else label)
        for _ in range(rng.integers(0, 3)):
            start = rng.uniform(0, 85, 2)
            detected.append(np.concatenate([start, start + 15]))
            labels.append(rng.integers(0, len(NAMES)))
        truth.append(ImageBoxes(boxes, classes))
        found.append(
            ImageBoxes(
                np.reshape(detected, (-1, 4)), labels, rng.random(len(labels))
            )
        )
    return truth, found


def coco_matches(
    truth: Sequence[ImageBoxes], found: Sequence[ImageBoxes], iou: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per detection, pycocotools' verdict at `iou`: its class, score and
    whether it matched; and the ground-truth boxes it matched."""
    evaluation = COCOeval(_coco(truth), _coco(found), iouType="bbox")
    evaluation.params.iouThrs = np.array([iou])
    evaluation.params.maxDets = [1000]
    evaluation.params.areaRng = [[0.0, np.inf]]
    evaluation.params.areaRngLbl = ["all"]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation.evaluate()
    images = [e for e in evaluation.evalImgs if e]
    classes = np.concatenate(
        [np.full(len(e["dtIds"]), e["category_id"] - 1) for e in images]
    )
    scores = np.concatenate([e["dtScores"] for e in images])
    matched = np.concatenate([e["dtMatches"][0] > 0 for e in images])
    boxes_matched = sum(int((e["gtMatches"][0] > 0).sum()) for e in images)
    return classes, scores, matched, boxes_matched


def _coco(images: Sequence[ImageBoxes]) -> COCO:
    annotations = []
    for image_id, image in enumerate(images, start=1):
        scores = (
            np.ones(len(image.classes))
            if image.scores is None
            else image.scores
        )
        for (ymin, xmin, ymax, xmax), label, score in zip(
            np.asarray(image.boxes).reshape(-1, 4),
            image.classes,
            scores,
            strict=True,
        ):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(label) + 1,
                    "bbox": [xmin, ymin, xmax - xmin, ymax - ymin],
                    "area": (xmax - xmin) * (ymax - ymin),
                    "iscrowd": 0,
                    "score": float(score),
                }
            )
    coco = COCO()
    coco.dataset = {
        "images": [{"id": i + 1} for i in range(len(images))],
        "categories": [{"id": i + 1} for i in range(len(NAMES))],
        "annotations": annotations,
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("iou", [0.5, 0.75])
def test_curves_agree_with_pycocotools_matching(seed, iou):
    truth, found = random_scenes(seed)
    curves = precision_recall_curves(truth, found, NAMES, iou=iou)
    classes, scores, matched, boxes_matched = coco_matches(truth, found, iou)
    instances = sum(len(t.classes) for t in truth)
    # At confidence 0, every detection counts: the recall over all boxes
    # is the share pycocotools matched.
    assert sum(c.recall[0] * c.instances for c in curves.per_class) == (
        pytest.approx(boxes_matched)
    )
    assert 0 < boxes_matched < instances  # neither trivial case
    for c in curves.per_class:
        index = NAMES.index(c.name)
        assert c.instances == sum(
            int((np.asarray(t.classes) == index).sum()) for t in truth
        )
        for threshold, precision, recall in zip(
            CONFIDENCE_THRESHOLDS, c.precision, c.recall, strict=True
        ):
            kept = (classes == index) & (scores >= threshold)
            hits = (kept & matched).sum()
            assert recall == pytest.approx(hits / c.instances)
            if kept.any():
                assert precision == pytest.approx(hits / kept.sum())
        assert np.all(np.diff(c.recall) <= 0)  # fewer kept, fewer found
    assert curves.all_classes.f1 == pytest.approx(
        np.mean([c.f1 for c in curves.per_class], axis=0)
    )


def test_best_f1_reads_the_curves_where_the_mean_f1_peaks():
    curves = precision_recall_curves(*random_scenes(3), NAMES)
    best = best_f1(curves)
    index = at(best.confidence)
    mean = curves.all_classes.f1
    assert mean[index] == mean.max()
    assert np.all(mean[index + 1 :] < mean.max())  # the highest of ties
    for row, c in zip(best.per_class, curves.per_class, strict=True):
        assert (row.precision, row.recall, row.f1) == (
            c.precision[index],
            c.recall[index],
            c.f1[index],
        )
        expected = 2 * row.precision * row.recall
        assert row.f1 == pytest.approx(expected / (row.precision + row.recall))
    assert best.all_classes.recall == pytest.approx(
        np.mean([row.recall for row in best.per_class])
    )


def test_the_confusion_matrix_accounts_for_every_box():
    truth, found = random_scenes(4)
    matrix = confusion_matrix(truth, found, NAMES, confidence=0.3).counts
    true_boxes = np.bincount(
        np.concatenate([t.classes for t in truth]), minlength=len(NAMES)
    )
    kept = np.concatenate(
        [
            np.asarray(f.classes, int)[np.asarray(f.scores) >= 0.3]
            for f in found
        ]
    )
    # Each true box is in its column once; each kept detection in its row.
    np.testing.assert_array_equal(matrix.sum(axis=0)[:BG], true_boxes)
    np.testing.assert_array_equal(
        matrix.sum(axis=1)[:BG], np.bincount(kept, minlength=len(NAMES))
    )
    assert matrix[BG, BG] == 0


def values(chart) -> list[dict]:
    svg = vl_convert.vegalite_to_svg(chart.spec, vl_version=VEGA_LITE_VERSION)
    assert svg.startswith("<svg")
    return chart.spec["data"]["values"]


def test_the_curve_charts_draw_every_class_and_the_mean():
    truth, found = random_scenes(5)
    curves = precision_recall_curves(truth, found, NAMES)
    for chart in (precision_recall_chart(curves), f1_confidence_chart(curves)):
        rows = values(chart)
        assert {r["class"] for r in rows} == {*NAMES, ALL_CLASSES}
        b = [r for r in rows if r["class"] == "b"]
        assert [r["confidence"] for r in b] == list(CONFIDENCE_THRESHOLDS)
        assert [r["recall"] for r in b] == pytest.approx(
            curves.per_class[1].recall, abs=1e-4
        )
    best = best_f1(curves)
    (rule,) = f1_confidence_chart(curves).spec["layer"][1]["data"]["values"]
    assert rule["confidence"] == best.confidence


def test_the_confusion_chart_holds_the_matrix():
    truth, found = random_scenes(6)
    matrix = confusion_matrix(truth, found, NAMES, confidence=0.3)
    cells = values(confusion_matrix_chart(matrix))
    labels = matrix.labels
    assert {
        (labels.index(c["predicted"]), labels.index(c["true"])): c["boxes"]
        for c in cells
    } == {
        (int(p), int(t)): int(matrix.counts[p, t])
        for p, t in zip(*np.nonzero(matrix.counts), strict=True)
    }
    for true in labels[:-1]:
        shares = [c["share"] for c in cells if c["true"] == true]
        assert sum(shares) == pytest.approx(1, abs=0.01)
