"""The fixed detector: its targets, decoding, loss and mAP line up, on
coloured squares pasted on crops of a real photograph."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from core.tflite import convert, predict_tflite
from models import centernet, features
from tasks.detection.mean_average_precision import (
    ImageBoxes,
    mean_average_precision,
)
from tasks.detection.training import (
    detection_dataset,
    evaluate,
    train_detector,
)

CLASSES = ("red", "green", "blue")
COLOURS = np.array([[230, 30, 30], [30, 200, 30], [30, 30, 230]], np.uint8)
# Small images keep the overfit within a minute on 2 CPU cores.
HEIGHT, WIDTH = 96, 128
# The overfit: no zoom or colour jitter, flips only, many steps (each
# epoch shows the images REPEATS times).
REPEATS = 4
OVERFIT = dataclasses.replace(
    centernet.SETTINGS,
    epochs=24,
    batch_size=8,
    warmup_epochs=2,
    zoom_range=(1.0, 1.0),
    translate=0.0,
    brightness=0.0,
    contrast=0.0,
    saturation=0.0,
    hue=0.0,
)


def squares(
    photo: np.ndarray, count: int, seed: int
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Crops of the photo, each with 1 to 3 non-overlapping squares of
    the classes' colours: images [count, HEIGHT, WIDTH, 3] uint8, boxes
    and classes per image."""
    rng = np.random.default_rng(seed)
    images, boxes, classes = [], [], []
    for _ in range(count):
        top = rng.integers(0, photo.shape[0] - HEIGHT)
        left = rng.integers(0, photo.shape[1] - WIDTH)
        image = photo[top : top + HEIGHT, left : left + WIDTH].copy()
        placed: list[np.ndarray] = []
        labels = []
        while len(placed) < rng.integers(1, 4):
            side = int(rng.integers(14, 36))
            y = int(rng.integers(0, HEIGHT - side))
            x = int(rng.integers(0, WIDTH - side))
            box = np.array(
                [
                    y / HEIGHT,
                    x / WIDTH,
                    (y + side) / HEIGHT,
                    (x + side) / WIDTH,
                ]
            )
            if any(_overlap(box, other) for other in placed):
                continue
            label = int(rng.integers(0, len(CLASSES)))
            image[y : y + side, x : x + side] = COLOURS[label]
            placed.append(box)
            labels.append(label)
        images.append(image)
        boxes.append(np.array(placed, np.float32))
        classes.append(np.array(labels, np.int32))
    return np.stack(images), boxes, classes


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(
        a[0] < b[2] + 0.05
        and b[0] < a[2] + 0.05
        and a[1] < b[3] + 0.05
        and b[1] < a[3] + 0.05
    )


@pytest.fixture(scope="module")
def scenes(photo):
    return squares(photo, 16, seed=7)


@pytest.fixture(scope="module")
def overfit(scenes):
    images, boxes, classes = scenes
    dataset = detection_dataset(images, boxes, classes)
    model, result = train_detector(
        dataset.repeat(REPEATS), dataset, CLASSES, settings=OVERFIT
    )
    return model, result, dataset


def test_targets_decode_to_their_boxes():
    boxes = np.array(
        [
            [0.10, 0.10, 0.30, 0.25],  # small
            [0.50, 0.60, 0.95, 0.97],  # large, elongated
            [0.02, 0.70, 0.08, 0.74],  # tiny
            [0.40, 0.05, 0.60, 0.35],  # another of class 0
        ],
        np.float32,
    )
    classes = np.array([0, 2, 1, 0])
    padding = (np.zeros((1, 4), np.float32), np.array([-1]))
    target = centernet.encode_targets(
        np.concatenate([boxes, padding[0]]),
        np.concatenate([classes, padding[1]]),
        num_classes=3,
    ).numpy()
    assert target.shape == (
        centernet.OUTPUT_HEIGHT,
        centernet.OUTPUT_WIDTH,
        3 + centernet.REGRESSION_CHANNELS + 1,
    )
    assert target[..., :3].max() == 1.0
    assert target[..., -1].sum() == len(boxes)  # one centre per box
    # The target, without its mask, read as if the network output it.
    detections = centernet.detect(target[np.newaxis, ..., :-1])
    found = int(detections.num_detections[0])
    assert found == len(boxes)
    order = np.argsort(detections.boxes[0, :found, 0].numpy())
    expected = np.argsort(boxes[:, 0])
    pixels = np.array([centernet.INPUT_HEIGHT, centernet.INPUT_WIDTH] * 2)
    np.testing.assert_allclose(
        detections.boxes[0, :found].numpy()[order] * pixels,
        boxes[expected] * pixels,
        atol=1.0,
    )
    np.testing.assert_array_equal(
        detections.classes[0, :found].numpy()[order], classes[expected]
    )
    np.testing.assert_allclose(detections.scores[0, :found], 1.0)


def test_the_model_has_the_expected_outputs_and_size():
    model = centernet.build(3)
    assert model.input_shape == (
        None,
        centernet.INPUT_HEIGHT,
        centernet.INPUT_WIDTH,
        3,
    )
    assert model.input_names == [features.TRANSFORMED_IMAGE]
    assert model.output_shape == (None, 60, 80, 3 + 4)
    assert 1_000_000 <= model.count_params() <= 1_500_000
    outputs = model(np.zeros((1, 240, 320, 3), np.float32)).numpy()
    assert outputs.min() >= 0.0 and outputs.max() <= 1.0  # sigmoids
    # The heatmaps start near CenterNet's prior of 0.1.
    assert 0.02 < outputs[..., :3].mean() < 0.3


def test_map_is_one_for_perfect_detections():
    images = [
        (np.array([[10, 10, 50, 40], [60, 70, 90, 120]]), np.array([0, 1])),
        (np.zeros((0, 4)), np.zeros(0, int)),  # an image without boxes
        (np.array([[5, 5, 25, 30]]), np.array([1])),
    ]
    truth = [ImageBoxes(boxes, classes) for boxes, classes in images]
    detections = [
        ImageBoxes(boxes, classes, np.full(len(classes), 0.9))
        for boxes, classes in images
    ]
    result = mean_average_precision(truth, detections, ("a", "b", "c"))
    assert result.map50 == pytest.approx(1.0)
    assert result.map50_95 == pytest.approx(1.0)
    assert [c.boxes for c in result.per_class] == [1, 2, 0]
    assert result.per_class[2].ap50 is None  # no ground truth


def test_map_per_class_on_a_known_case():
    truth = [
        ImageBoxes(
            np.array([[0, 0, 10, 10], [50, 50, 60, 60], [0, 0, 100, 100]]),
            [0, 0, 1],
        ),
        ImageBoxes(np.zeros((0, 4)), []),
    ]
    detections = [
        ImageBoxes(
            np.array(
                [
                    [0, 0, 10, 10],  # class 0: the first box found
                    [80, 0, 90, 10],  # class 0: a false positive
                    [0, 0, 100, 62],  # class 1: IoU 0.62
                    [20, 20, 30, 30],  # class 2, which has no box
                ]
            ),
            [0, 0, 1, 2],
            [0.9, 0.8, 0.7, 0.5],
        ),
        ImageBoxes(np.zeros((0, 4)), [], []),
    ]
    result = mean_average_precision(truth, detections, ("a", "b", "c"))
    first, second, third = result.per_class
    # Class 0: recall 0.5 at precision 1, so 51 of COCO's 101 recall
    # points (0, 0.01, ..., 0.5) at precision 1, at every IoU threshold.
    assert first.ap50 == pytest.approx(51 / 101)
    assert first.ap50_95 == pytest.approx(51 / 101)
    # Class 1: a match at IoU thresholds 0.50, 0.55, 0.60 of ten.
    assert second.ap50 == pytest.approx(1.0)
    assert second.ap50_95 == pytest.approx(0.3)
    assert third.ap50 is None and third.ap50_95 is None
    assert result.map50 == pytest.approx((51 / 101 + 1.0) / 2)
    assert result.map50_95 == pytest.approx((51 / 101 + 0.3) / 2)


def test_map_without_detections_is_zero():
    truth = [ImageBoxes(np.array([[0, 0, 10, 10]]), [1])]
    nothing = [ImageBoxes(np.zeros((0, 4)), [], [])]
    result = mean_average_precision(truth, nothing, ("a", "b"))
    assert result.map50 == 0.0
    assert result.per_class[0].ap50 is None
    assert result.per_class[1].ap50 == 0.0


def test_the_detector_overfits_a_few_images(overfit):
    model, result, dataset = overfit
    assert len(result.epochs) == OVERFIT.epochs
    assert result.epochs[-1].loss < result.epochs[0].loss / 5
    evaluation = evaluate(model, dataset, CLASSES, settings=OVERFIT)
    assert evaluation.map.map50 is not None
    assert evaluation.map.map50 > 0.95
    assert evaluation.map.map50_95 is not None
    assert evaluation.map.map50_95 > 0.3
    best = result.epochs[result.best_epoch - 1]
    assert best.val_map50 == pytest.approx(evaluation.map.map50)


def test_int8_tflite_detects_what_keras_does(overfit, scenes):
    model = overfit[0]
    images = scenes[0].astype(np.float32) / 255.0
    _, int8_model = convert(model, images)
    int8_outputs = predict_tflite(int8_model, images)
    keras_outputs = model(images, training=False).numpy()
    assert int8_outputs.shape == keras_outputs.shape
    # The heatmaps agree to a few int8 steps (1/256 each).
    heatmaps = slice(0, len(CLASSES))
    assert (
        np.abs(int8_outputs[..., heatmaps] - keras_outputs[..., heatmaps])
    ).mean() < 0.02
    keras, int8 = (
        centernet.detect(outputs) for outputs in (keras_outputs, int8_outputs)
    )
    # The best int8 match (same class) of each confident Keras box: on a
    # model this briefly trained the int8 sizes are coarse (on BCCD,
    # bench/bench_detector.py, int8 matches Keras's mAP), yet the boxes
    # still match by mAP50's IoU.
    matches = []
    for image in range(len(images)):
        confident = keras.scores[image].numpy() > 0.3
        assert confident.any()
        for box, label in zip(
            keras.boxes[image].numpy()[confident],
            keras.classes[image].numpy()[confident],
            strict=True,
        ):
            same_class = int8.classes[image].numpy() == label
            matches.append(
                _iou(box, int8.boxes[image].numpy()[same_class]).max()
            )
    assert np.mean(np.array(matches) >= 0.5) >= 0.9
    assert np.median(matches) >= 0.7
    truth = [
        ImageBoxes(b, c) for b, c in zip(scenes[1], scenes[2], strict=True)
    ]
    maps = [
        mean_average_precision(
            truth,
            [
                ImageBoxes(
                    d.boxes[i, :n].numpy(),
                    d.classes[i, :n].numpy(),
                    d.scores[i, :n].numpy(),
                )
                for i, n in enumerate(d.num_detections.numpy())
            ],
            CLASSES,
        )
        for d in (keras, int8)
    ]
    # 26 boxes: one box more or less found moves mAP50 by about 0.04.
    assert maps[1].map50 == pytest.approx(maps[0].map50, abs=0.05)
    (int8_input,) = tf.lite.Interpreter(
        model_content=int8_model
    ).get_input_details()
    assert int8_input["dtype"] == np.int8


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    top_left = np.maximum(box[:2], others[:, :2])
    bottom_right = np.minimum(box[2:], others[:, 2:])
    overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    return overlap / (np.prod(box[2:] - box[:2]) + areas - overlap)
