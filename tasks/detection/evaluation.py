"""The Evaluator's configuration for detection: TFMA's COCO metrics, mAP
overall, per class and per box size, sliced by image property; a model
is blessed on mAP50.

Labels are the ETL's boxes (normalised corners and class) and
predictions the serving signature's columns: TFMA stacks both into COCO
rows, so their units match.
"""

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow_model_analysis as tfma

from models import centernet, features
from tasks.detection.trainer import (
    DETECTION_CLASS,
    DETECTION_CORNERS,
    DETECTION_SCORE,
    NUM_DETECTIONS,
    SERVING_SIGNATURE,
    TRANSFORM_SIGNATURE,
)

# Image properties to slice by, as the Transform's quantile buckets.
SLICE_PROPERTIES = (
    features.BRIGHTNESS,
    features.CONTRAST,
    features.BLUR,
    features.BOX_COUNT,
)
MAP50 = "mAP50"
MAP50_95 = "mAP50-95"
IOU_50_95 = [round(float(t), 2) for t in np.linspace(0.5, 0.95, 10)]
# COCO's small, medium and large boxes (under 32² and 96² pixels of a
# 640-pixel-wide image), scaled to the detector's input, as shares of the
# image's area, the unit of normalised boxes.
_INPUT_AREA = centernet.INPUT_HEIGHT * centernet.INPUT_WIDTH
_SCALE = centernet.INPUT_WIDTH / 640
BOX_SIZES = {
    "small": (0.0, (32 * _SCALE) ** 2 / _INPUT_AREA),
    "medium": (
        (32 * _SCALE) ** 2 / _INPUT_AREA,
        (96 * _SCALE) ** 2 / _INPUT_AREA,
    ),
    "large": ((96 * _SCALE) ** 2 / _INPUT_AREA, 1.0),
}
# Score thresholds of the precision-recall curves TFMA draws: its
# default, 10,000, takes minutes per slice on a few images.
SCORE_THRESHOLDS = 100
_STACKING = {
    "labels_to_stack": [*features.BBOX_CORNERS, features.OBJECT_LABEL],
    "predictions_to_stack": [
        *DETECTION_CORNERS,
        DETECTION_CLASS,
        DETECTION_SCORE,
    ],
    "num_detections_key": NUM_DETECTIONS,
    "max_num_detections": centernet.SETTINGS.max_detections,
}


def eval_config(
    class_names: Sequence[str],
    *,
    min_map: float,
    max_map_drop: float,
) -> tfma.EvalConfig:
    """mAP50 and mAP50-95 overall, per class and per box size, and mean
    average recall, overall and by bucketed image property.

    A model is blessed when its mAP50 is at least `min_map` and, once a
    blessed model exists, at most `max_map_drop` below it.
    """
    classes = list(range(len(class_names)))
    metrics = [
        _metric(
            "COCOMeanAveragePrecision",
            MAP50,
            num_thresholds=SCORE_THRESHOLDS,
            iou_thresholds=[0.5],
            class_ids=classes,
            threshold=_blessing_threshold(min_map, max_map_drop),
        ),
        _metric(
            "COCOMeanAveragePrecision",
            MAP50_95,
            num_thresholds=SCORE_THRESHOLDS,
            iou_thresholds=IOU_50_95,
            class_ids=classes,
        ),
        _metric(
            "COCOMeanAverageRecall",
            "mAR50-95",
            iou_thresholds=IOU_50_95,
            class_ids=classes,
        ),
    ]
    for index, name in enumerate(class_names):
        metrics += [
            _metric(
                "COCOAveragePrecision",
                f"AP50/{name}",
                num_thresholds=SCORE_THRESHOLDS,
                iou_threshold=0.5,
                class_id=index,
            ),
            _metric(
                "COCOMeanAveragePrecision",
                f"AP50-95/{name}",
                num_thresholds=SCORE_THRESHOLDS,
                iou_thresholds=IOU_50_95,
                class_ids=[index],
            ),
        ]
    for size, area_range in BOX_SIZES.items():
        metrics.append(
            _metric(
                "COCOMeanAveragePrecision",
                f"mAP50/{size}",
                num_thresholds=SCORE_THRESHOLDS,
                iou_thresholds=[0.5],
                class_ids=classes,
                area_range=list(area_range),
            )
        )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=SERVING_SIGNATURE,
                preprocessing_function_names=[TRANSFORM_SIGNATURE],
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            *(
                tfma.SlicingSpec(feature_keys=[features.bucket_key(name)])
                for name in SLICE_PROPERTIES
            ),
        ],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    *metrics,
                ]
            )
        ],
    )


def _metric(
    class_name: str,
    name: str,
    *,
    threshold: tfma.MetricThreshold | None = None,
    **config: Any,
) -> tfma.MetricConfig:
    metric = tfma.MetricConfig(
        class_name=class_name,
        config=json.dumps({"name": name, **config, **_STACKING}),
    )
    if threshold is not None:
        # On the overall slice only: a weak slice is for the report, not
        # a reason to refuse the model.
        metric.per_slice_thresholds.append(
            tfma.PerSliceMetricThreshold(
                slicing_specs=[tfma.SlicingSpec()], threshold=threshold
            )
        )
    return metric


def _blessing_threshold(
    min_map: float, max_map_drop: float
) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(
            lower_bound={"value": min_map}
        ),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -max_map_drop},
        ),
    )
