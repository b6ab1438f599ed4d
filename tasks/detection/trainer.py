"""The Trainer's `run_fn` for detection: the fixed detector trained on
the Transform's output, exported with a serving signature that reads raw
tf.Examples and returns boxes after non-maximum suppression.

custom_config keys (set in create_pipeline):
  class_names: the class of each box label, in label order.
  epochs: None for the detector's own number; a smaller one only for
    smoke tests.
"""

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx

from models import centernet, features
from tasks.detection.preprocessing import BOX_FEATURES
from tasks.detection.training import train_detector

SERVING_SIGNATURE = "serving_default"
TRANSFORM_SIGNATURE = "transform_features"
# Boxes an example may hold: COCO evaluation's detection limit.
MAX_BOXES = centernet.SETTINGS.max_detections
# The serving signature's outputs.
DETECTION_CORNERS = (
    "detection_xmin",
    "detection_ymin",
    "detection_xmax",
    "detection_ymax",
)
DETECTION_CLASS = "detection_class"
DETECTION_SCORE = "detection_score"
NUM_DETECTIONS = "num_detections"
# The corners as the detector takes them: TensorFlow's box order.
TF_ORDER = (
    features.BBOX_YMIN,
    features.BBOX_XMIN,
    features.BBOX_YMAX,
    features.BBOX_XMAX,
)


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    config: dict[str, Any] = fn_args.custom_config or {}
    settings = centernet.SETTINGS
    if config.get("epochs"):
        settings = dataclasses.replace(settings, epochs=config["epochs"])
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    spec = tft_output.transformed_feature_spec()
    model, result = train_detector(
        read_boxes(fn_args.train_files, spec),
        read_boxes(fn_args.eval_files, spec),
        config["class_names"],
        settings=settings,
    )
    logging.info(
        "Trainer: detector trained in %.0f s, best epoch %d",
        result.seconds,
        result.best_epoch,
    )
    export_serving_model(model, tft_output, fn_args.serving_model_dir)


def read_boxes(
    file_patterns: Sequence[str], spec: dict[str, Any]
) -> tf.data.Dataset:
    """(image, boxes [MAX_BOXES, 4] as [ymin, xmin, ymax, xmax], classes
    [MAX_BOXES]) of transformed examples, padded with class -1, as
    train_detector takes them."""
    files = sorted(
        path for pattern in file_patterns for path in tf.io.gfile.glob(pattern)
    )
    wanted = {
        key: spec[key] for key in (features.TRANSFORMED_IMAGE, *BOX_FEATURES)
    }

    def parse(record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        example = tf.io.parse_single_example(record, wanted)
        corners = [tf.sparse.to_dense(example[key]) for key in TF_ORDER]
        classes = tf.cast(
            tf.sparse.to_dense(example[features.OBJECT_LABEL]), tf.int32
        )
        count = tf.shape(classes)[0]
        tf.debugging.assert_less_equal(
            count,
            MAX_BOXES,
            message=f"an image has more than {MAX_BOXES} boxes",
        )
        padding = [[0, MAX_BOXES - count]]
        return (
            example[features.TRANSFORMED_IMAGE],
            tf.pad(tf.stack(corners, -1), [*padding, [0, 0]]),
            tf.pad(classes, padding, constant_values=-1),
        )

    return tf.data.TFRecordDataset(files, compression_type="GZIP").map(parse)


def export_serving_model(
    model: tf.keras.Model, tft_output: tft.TFTransformOutput, path: str
) -> None:
    """Save a SavedModel whose `serving_default` takes serialized raw
    tf.Examples and returns each image's detections, best first, a
    column each (normalised corners, class, score; [batch,
    max_detections]), with how many are valid: the layout TFMA's COCO
    metrics stack; and whose
    `transform_features` lets TFMA slice on the Transform's features.
    Loaded with tf.keras, it is the bare network over transformed images,
    which the TFLite export converts."""
    model.tft_layer = tft_output.transform_features_layer()
    serving_spec = {
        name: spec
        for name, spec in tft_output.raw_feature_spec().items()
        if name not in BOX_FEATURES and name != features.OBJECT_TEXT
    }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(examples, serving_spec)
        images = model.tft_layer(raw)[features.TRANSFORMED_IMAGE]
        found = centernet.detect(model(images, training=False))
        ymin, xmin, ymax, xmax = tf.unstack(found.boxes, axis=-1)
        return {
            **dict(
                zip(DETECTION_CORNERS, (xmin, ymin, xmax, ymax), strict=True)
            ),
            DETECTION_CLASS: found.classes,
            DETECTION_SCORE: found.scores,
            NUM_DETECTIONS: found.num_detections,
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def transform(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(examples, tft_output.raw_feature_spec())
        return model.tft_layer(raw)

    model.save(
        path,
        save_format="tf",
        signatures={SERVING_SIGNATURE: serve, TRANSFORM_SIGNATURE: transform},
    )
    logging.info("Trainer: serving model saved to %s", path)
