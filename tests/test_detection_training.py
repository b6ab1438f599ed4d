"""The detector inside TFX: the detection Transform and Trainer run as
real components (LocalDagRunner) on the ETL's output of embedded scenes;
the serving model reads raw examples and returns detections, and TFMA's
COCO metrics on them agree with pycocotools."""

import contextlib
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
from tfx.utils import path_utils

from dcp import cli
from models import centernet, features
from tasks.detection.embedded_scenes import SceneDefects, write_scenes
from tasks.detection.evaluation import MAP50, MAP50_95, eval_config
from tasks.detection.mean_average_precision import (
    ImageBoxes,
    mean_average_precision,
)
from tasks.detection.trainer import (
    DETECTION_CLASS,
    DETECTION_CORNERS,
    DETECTION_SCORE,
    NUM_DETECTIONS,
    SERVING_SIGNATURE,
    read_boxes,
)
from tests.conftest import IN_PROCESS_BEAM
from tests.test_config import edited_params
from tests.test_detection_etl import boxes_of, etl
from tests.test_etl import read_examples

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trained(tmp_path_factory, scenes) -> dict[str, Any]:
    """`dcp run --data` on the scenes with task: detection: the ETL and
    the whole pipeline, the detector trained for 8 epochs."""
    root = tmp_path_factory.mktemp("detection_run")

    def edit(params: dict[str, Any]) -> None:
        params["task"] = "detection"
        params["etl"]["output"] = str(root / "data" / "tfrecords")
        params["trainer"]["epochs"] = 8
        params["evaluator"]["min_accuracy"] = 0.0
        params["pipeline"].update(
            root=str(root / "tfx"),
            metadata=str(root / "metadata.sqlite"),
            serving_dir=str(root / "serving"),
            metrics=str(root / "metrics.json"),
            plots=str(root / "plots"),
            beam_args=list(IN_PROCESS_BEAM),
        )
        params["quality"]["report"] = str(root / "report")

    params = edited_params(root, edit)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = cli.main(
            ["--params", str(params), "run", "--data", str(scenes)]
        )
    assert status == 0, output.getvalue()
    tfx_root = root / "tfx"
    [model] = (tfx_root / "Trainer" / "model").glob("*")
    [graph] = (tfx_root / "Transform" / "transform_graph").glob("*")
    [transformed] = (tfx_root / "Transform" / "transformed_examples").glob("*")
    return {
        "data": root / "data" / "external" / scenes.name / "tfrecords",
        "model": model,
        "graph": graph,
        "transformed": transformed,
        "summary": output.getvalue(),
        "metrics": json.loads((root / "metrics.json").read_text()),
        "tfx": tfx_root,
        "root": root,
    }


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scenes") / "data"
    write_scenes(
        root,
        seed=5,
        train_images=16,
        val_images=6,
        test_images=2,
        defects=SceneDefects(
            leaked_duplicates=0, train_duplicates=0, blank_images=1
        ),
    )
    return root


def test_the_trainer_reads_each_image_with_its_boxes(trained):
    """The Transform's output, as the Trainer reads it, holds the ETL's
    boxes of each image, padded with class -1."""
    output = tft.TFTransformOutput(str(trained["graph"]))
    transformed = read_boxes(
        [str(trained["transformed"] / "Split-eval" / "*")],
        output.transformed_feature_spec(),
    )
    examples = read_examples(trained["data"], "val")
    expected = [
        [
            (label, ymin, xmin, ymax, xmax)
            for _, label, xmin, ymin, xmax, ymax in boxes_of(e)
        ]
        for e in examples.values()
    ]
    got = []
    for image, boxes, classes in transformed:
        assert image.shape == (
            centernet.INPUT_HEIGHT,
            centernet.INPUT_WIDTH,
            3,
        )
        assert float(tf.reduce_min(image)) >= 0
        assert float(tf.reduce_max(image)) <= 1
        valid = classes.numpy() >= 0
        assert list(valid) == sorted(valid, reverse=True)  # boxes first
        got.append(
            [
                (int(label), *map(float, box))
                for box, label in zip(
                    boxes.numpy()[valid], classes.numpy()[valid], strict=True
                )
            ]
        )
    assert len(got) == len(expected)
    for image_got, image_expected in zip(
        sorted(map(sorted, got)), sorted(map(sorted, expected)), strict=True
    ):
        np.testing.assert_allclose(
            np.reshape(image_got, (-1, 5)),
            np.reshape(image_expected, (-1, 5)),
            atol=1e-6,
        )


def test_serving_reads_raw_examples_and_returns_detections(trained):
    """serving_default = the Transform's image, the network, and
    centernet.detect, in one graph."""
    serving_dir = path_utils.serving_model_path(str(trained["model"]))
    loaded = tf.saved_model.load(serving_dir)
    examples = read_examples(trained["data"], "val")
    serialized = tf.constant(
        [e.SerializeToString() for e in examples.values()]
    )
    served = loaded.signatures[SERVING_SIGNATURE](serialized)

    keras_model = tf.keras.models.load_model(serving_dir, compile=False)
    images = loaded.signatures["transform_features"](serialized)[
        features.TRANSFORMED_IMAGE
    ]
    expected = centernet.detect(keras_model(images, training=False))
    count = len(examples)
    served_boxes = np.stack(
        [served[name] for name in DETECTION_CORNERS], axis=-1
    )[..., [1, 0, 3, 2]]  # TensorFlow's order, as detect gives them
    assert served_boxes.shape == (count, centernet.SETTINGS.max_detections, 4)
    # Graph and eager sums differ in the last digits, which may reorder
    # near-ties and move a peak across the score floor: compare the best.
    np.testing.assert_allclose(
        served[NUM_DETECTIONS], expected.num_detections, atol=2
    )
    np.testing.assert_allclose(
        served[DETECTION_SCORE][:, :5], expected.scores[:, :5], atol=1e-4
    )
    for image in range(count):
        for box in served_boxes[image, :5]:
            distances = np.abs(expected.boxes[image].numpy() - box).max(-1)
            assert distances.min() < 1e-4


def served_detections(serving_dir: str, examples) -> list[ImageBoxes]:
    served = tf.saved_model.load(serving_dir).signatures[SERVING_SIGNATURE](
        tf.constant([e.SerializeToString() for e in examples])
    )
    found = []
    for image in range(len(examples)):
        count = int(served[NUM_DETECTIONS][image])
        xmin, ymin, xmax, ymax = (
            served[name][image, :count].numpy() for name in DETECTION_CORNERS
        )
        found.append(
            ImageBoxes(
                np.stack([ymin, xmin, ymax, xmax], -1),
                served[DETECTION_CLASS][image, :count].numpy(),
                served[DETECTION_SCORE][image, :count].numpy(),
            )
        )
    return found


def test_the_evaluator_coco_metrics_agree_with_pycocotools(trained):
    classes = ["zero", "one", "seven"]
    examples = list(read_examples(trained["data"], "val").values())
    serving_dir = path_utils.serving_model_path(str(trained["model"]))
    [evaluation] = (trained["tfx"] / "Evaluator" / "evaluation").glob("*")
    result = tfma.load_eval_result(str(evaluation))
    overall = dict(result.slicing_metrics)[()][""][""]
    truth = [
        ImageBoxes(
            np.array(
                [
                    [ymin, xmin, ymax, xmax]
                    for _, _, xmin, ymin, xmax, ymax in b
                ]
            ).reshape(-1, 4),
            np.array([label for _, label, *_ in b], int),
        )
        for b in map(boxes_of, examples)
    ]
    reference = mean_average_precision(
        truth, served_detections(serving_dir, examples), classes
    )
    tfma_map50 = overall[MAP50]["doubleValue"]
    assert tfma_map50 == pytest.approx(reference.map50, abs=0.01)
    assert overall[MAP50_95]["doubleValue"] == pytest.approx(
        reference.map50_95, abs=0.01
    )
    for per_class in reference.per_class:
        if per_class.ap50 is None or math.isnan(per_class.ap50):
            continue
        assert overall[f"AP50/{per_class.name}"]["doubleValue"] == (
            pytest.approx(per_class.ap50, abs=0.01)
        )
    # Sliced by the Transform's buckets of image properties and boxes.
    slices = {key for key, _ in result.slicing_metrics if key}
    assert ((features.bucket_key(features.BOX_COUNT), 0),) in slices


class Oracle(tf.Module):
    """A model that detects exactly the example's own boxes, moved by
    `shift` of their width, with score 1: TFMA's figures on it are known."""

    def __init__(self, shift: float):
        super().__init__()
        self.shift = shift

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(self, examples: tf.Tensor) -> dict[str, tf.Tensor]:
        spec = {
            key: tf.io.VarLenFeature(
                tf.int64 if key == features.OBJECT_LABEL else tf.float32
            )
            for key in (*features.BBOX_CORNERS, features.OBJECT_LABEL)
        }
        parsed = tf.io.parse_example(examples, spec)
        dense = {
            key: tf.sparse.to_dense(value) for key, value in parsed.items()
        }
        xmin, ymin, xmax, ymax = (dense[k] for k in features.BBOX_CORNERS)
        moved = self.shift * (xmax - xmin)
        valid = tf.cast(
            tf.sparse.to_dense(
                tf.sparse.map_values(
                    tf.ones_like, parsed[features.OBJECT_LABEL]
                )
            ),
            tf.float32,
        )
        return {
            DETECTION_CORNERS[0]: xmin + moved,
            DETECTION_CORNERS[1]: ymin,
            DETECTION_CORNERS[2]: xmax + moved,
            DETECTION_CORNERS[3]: ymax,
            DETECTION_CLASS: dense[features.OBJECT_LABEL],
            DETECTION_SCORE: valid,
            NUM_DETECTIONS: tf.cast(tf.reduce_sum(valid, -1), tf.int32),
        }


@pytest.mark.parametrize(("shift", "expected"), [(0.0, 1.0), (0.6, 0.0)])
def test_the_evaluator_scores_known_detections(
    scenes, tmp_path, shift, expected
):
    """TFMA, configured as the Evaluator is, gives an oracle's exact
    boxes mAP 1 and boxes moved by 60% of their width (IoU 0.25) mAP 0:
    labels and detections are stacked in the same order and units."""
    data = tmp_path / "tfrecords"
    etl(scenes, data)
    oracle = Oracle(shift)
    model_dir = str(tmp_path / "oracle")
    tf.saved_model.save(
        oracle, model_dir, signatures={SERVING_SIGNATURE: oracle.serve}
    )
    classes = json.loads((data / "classes.json").read_text())
    config = eval_config(classes, min_map=0.0, max_map_drop=1.0)
    del config.slicing_specs[1:]  # the oracle has no Transform
    del config.model_specs[0].preprocessing_function_names[:]
    for metric in config.metrics_specs[0].metrics:
        del metric.per_slice_thresholds[:]
    result = tfma.run_model_analysis(
        eval_shared_model=tfma.default_eval_shared_model(
            model_dir, eval_config=config
        ),
        eval_config=config,
        data_location=str(next((data / "val").glob("*.gz"))),
        output_path=str(tmp_path / "evaluation"),
    )
    overall = dict(result.slicing_metrics)[()][""][""]
    assert overall[MAP50]["doubleValue"] == pytest.approx(expected)
    for name in classes:
        assert overall[f"AP50/{name}"]["doubleValue"] == pytest.approx(
            expected
        )


def test_dcp_run_summarises_map_on_eval_and_test(trained):
    summary, metrics = trained["summary"], trained["metrics"]
    [evaluation] = (trained["tfx"] / "Evaluator" / "evaluation").glob("*")
    overall = dict(tfma.load_eval_result(str(evaluation)).slicing_metrics)[()][
        ""
    ][""]
    assert metrics["mAP50"] == pytest.approx(overall[MAP50]["doubleValue"])
    assert f"Eval mAP50 {metrics['mAP50']:.3f} on 6 images; blessed." in (
        summary
    )
    # The TFLite export measures the Keras network itself, outside TFMA:
    # the same model on the same images.
    tflite = metrics["tflite"]
    assert tflite["keras_mAP50"] == pytest.approx(metrics["mAP50"], abs=0.01)
    assert 0 <= tflite["int8_mAP50"] <= 1
    assert tflite["int8_bytes"] < tflite["float32_bytes"]
    assert f"mAP50 {tflite['int8_mAP50']:.3f} (float32:" in summary
    test = metrics["test"]
    assert test["examples"] == 2
    assert f"Test mAP50 {test['mAP50']:.3f} on 2 images" in summary
    assert set(test["per_class_mAP50"]) <= {"zero", "one", "seven"}
    # Ultralytics' per-class table, all classes first: 2 test images
    # with 8 boxes.
    lines = summary.splitlines()
    [start] = [
        i for i, line in enumerate(lines) if "test per class, at" in line
    ]
    assert lines[start + 1].split() == [
        "class",
        "images",
        "instances",
        "P",
        "R",
        "F1",
        "mAP50",
        "mAP50-95",
    ]
    assert lines[start + 2].split()[:4] == ["all", "classes", "2", "8"]
    # The evaluation report, published; no data-quality analyses yet,
    # and none is claimed.
    report = trained["root"] / "report" / "report.html"
    assert f"  report: {report}" in summary
    assert all(name in report.read_text() for name in ("zero", "seven"))
    assert "data quality" not in summary and "issues to review" not in summary
    assert metrics["blessed"] is True
