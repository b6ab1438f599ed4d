"""The Evaluator's configuration: what TFMA measures, how it slices, and
what blesses a model."""

from collections.abc import Sequence

import tensorflow_model_analysis as tfma

from models import features
from models.trainer import SERVING_SIGNATURE, TRANSFORM_SIGNATURE

# Image properties to slice by, as quantile buckets made by the Transform.
SLICE_PROPERTIES = (
    features.BRIGHTNESS,
    features.CONTRAST,
    features.STD_RED,
    features.BLUR,
)


def eval_config(
    num_classes: int,
    *,
    min_accuracy: float,
    max_accuracy_drop: float,
) -> tfma.EvalConfig:
    """Accuracy, per-class precision and recall and the confusion matrix,
    overall, by label and by bucketed image property.

    A model is blessed when its accuracy is at least `min_accuracy` and,
    once a blessed model exists, at most `max_accuracy_drop` below it.
    """
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=SERVING_SIGNATURE,
                label_key=features.LABEL,
                preprocessing_function_names=[TRANSFORM_SIGNATURE],
            )
        ],
        slicing_specs=_slicing_specs(SLICE_PROPERTIES),
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(
                        class_name="SparseCategoricalAccuracy",
                        # On the overall slice only: a weak class or
                        # slice is for the report, not a reason to refuse
                        # the model.
                        per_slice_thresholds=[
                            tfma.PerSliceMetricThreshold(
                                slicing_specs=[tfma.SlicingSpec()],
                                threshold=_blessing_threshold(
                                    min_accuracy, max_accuracy_drop
                                ),
                            )
                        ],
                    ),
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="MultiClassConfusionMatrixPlot"
                    ),
                ]
            ),
            tfma.MetricsSpec(
                binarize=tfma.BinarizationOptions(
                    class_ids={"values": list(range(num_classes))}
                ),
                metrics=[
                    tfma.MetricConfig(class_name="Precision"),
                    tfma.MetricConfig(class_name="Recall"),
                ],
            ),
        ],
    )


def _blessing_threshold(
    min_accuracy: float, max_accuracy_drop: float
) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(
            lower_bound={"value": min_accuracy}
        ),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -max_accuracy_drop},
        ),
    )


def _slicing_specs(properties: Sequence[str]) -> list[tfma.SlicingSpec]:
    return [
        tfma.SlicingSpec(),
        tfma.SlicingSpec(feature_keys=[features.LABEL]),
        *(
            tfma.SlicingSpec(feature_keys=[features.bucket_key(name)])
            for name in properties
        ),
    ]
