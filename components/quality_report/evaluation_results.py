"""The Evaluator's results read back from its artifact: the task's
headline figure (accuracy, mAP50) overall, by class and by
image-property slice, and the confusion matrix."""

import dataclasses
from typing import Any

import tensorflow_model_analysis as tfma

from components.quality_report.report_data import SliceRow
from models import features

# The Keras metric TFMA computes for the fixed model.
ACCURACY = "sparse_categorical_accuracy"


@dataclasses.dataclass(frozen=True)
class EvaluationSummary:
    accuracy: float
    examples: int
    per_class_accuracy: dict[str, float]
    slices: tuple[SliceRow, ...]  # by image property, worst first
    confusion: dict[tuple[str, str], int]  # (actual, predicted) → count


def read_evaluation(
    uri: str,
    class_names: list[str],
    *,
    metric: str = ACCURACY,
    class_metric: str = "",
) -> EvaluationSummary:
    """What the Evaluator wrote into the ModelEvaluation at `uri`: the
    figures of `metric`, overall, per class and per slice; per class from
    the label's slices, or from `class_metric` ("{}" the class's name)
    where one is given."""
    result = tfma.load_eval_result(uri)
    by_slice = {
        slice_key: _value_and_count(metrics, metric)
        for slice_key, metrics in result.slicing_metrics
    }
    accuracy, examples = by_slice[()]
    if class_metric:
        overall = dict(result.slicing_metrics)[()][""][""]
        per_class = {
            name: float(overall[class_metric.format(name)]["doubleValue"])
            for name in class_names
        }
    else:
        per_class = {
            class_names[key[0][1]]: value[0]
            for key, value in sorted(by_slice.items())
            if key and key[0][0] == features.LABEL
        }
    slices = sorted(
        (
            SliceRow(key[0][0], int(key[0][1]), *value)
            for key, value in by_slice.items()
            if key and key[0][0] != features.LABEL
        ),
        key=lambda s: s.accuracy,
    )
    return EvaluationSummary(
        accuracy=accuracy,
        examples=examples,
        per_class_accuracy=per_class,
        slices=tuple(slices),
        confusion=_confusion(uri, class_names),
    )


def _value_and_count(
    metrics: dict[str, Any], metric: str
) -> tuple[float, int]:
    overall = metrics[""][""]
    return (
        float(overall[metric]["doubleValue"]),
        int(overall["example_count"]["doubleValue"]),
    )


def _confusion(uri: str, class_names: list[str]) -> dict[tuple[str, str], int]:
    for plots in tfma.load_plots(uri):
        if plots.slice_key.single_slice_keys:
            continue  # only the overall slice
        for entry in plots.plot_keys_and_values:
            matrices = entry.value.multi_class_confusion_matrix_at_thresholds
            for matrix in matrices.matrices:
                return {
                    (
                        class_names[cell.actual_class_id],
                        class_names[cell.predicted_class_id],
                    ): int(cell.num_weighted_examples)
                    for cell in matrix.entries
                }
    return {}
