"""Accuracy of two runs side by side: overall, per class, per slice of
image properties, and of the TFLite models."""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from components.quality_report.evaluation_results import EvaluationSummary

OVERALL = "overall"
CLASS = "class"
NOT_COMPARABLE = (
    "test accuracy is not comparable: the runs' test images differ"
)
# The TFLite export's figures, in the order shown; others follow sorted.
TFLITE_FIGURES = (
    "float32_bytes",
    "int8_bytes",
    "keras_accuracy",
    "float32_accuracy",
    "int8_accuracy",
    "int8_keras_agreement",
    "eval_examples",
)


@dataclasses.dataclass(frozen=True)
class AccuracyDelta:
    group: str  # OVERALL, CLASS or the slice's feature, e.g. blur_bucket
    name: str  # "" overall, else the class or the bucket
    a: float | None  # None where the run has no such class or slice
    b: float | None
    examples_a: int
    examples_b: int

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclasses.dataclass(frozen=True)
class FigureDelta:
    name: str
    a: float | None
    b: float | None

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


def accuracy_deltas(
    a: EvaluationSummary, b: EvaluationSummary
) -> list[AccuracyDelta]:
    """Overall, then per class in A's order (classes only B has after),
    then per slice by feature and bucket. The buckets are each run's
    own quantiles of the property, so a bucket of A and the same bucket
    of B may cover different ranges."""
    rows = [
        AccuracyDelta(
            OVERALL, "", a.accuracy, b.accuracy, a.examples, b.examples
        )
    ]
    support_a, support_b = _class_support(a), _class_support(b)
    classes = [*a.per_class_accuracy]
    classes += [name for name in b.per_class_accuracy if name not in classes]
    rows += [
        AccuracyDelta(
            CLASS,
            name,
            a.per_class_accuracy.get(name),
            b.per_class_accuracy.get(name),
            support_a.get(name, 0),
            support_b.get(name, 0),
        )
        for name in classes
    ]
    slices_a = {(s.feature, s.value): s for s in a.slices}
    slices_b = {(s.feature, s.value): s for s in b.slices}
    for feature, value in sorted(slices_a.keys() | slices_b.keys()):
        in_a = slices_a.get((feature, value))
        in_b = slices_b.get((feature, value))
        rows.append(
            AccuracyDelta(
                feature,
                str(value),
                in_a.accuracy if in_a else None,
                in_b.accuracy if in_b else None,
                in_a.examples if in_a else 0,
                in_b.examples if in_b else 0,
            )
        )
    return rows


@dataclasses.dataclass(frozen=True)
class HeldOutDeltas:
    """The runs on their test split: the Keras model overall, per class
    and per slice, and the int8 model; or, when the runs measured
    different test images (or one has none), why not."""

    accuracy: Sequence[AccuracyDelta]
    int8: FigureDelta | None
    note: str  # "" when comparable

    @property
    def overall(self) -> AccuracyDelta | None:
        return next((r for r in self.accuracy if r.group == OVERALL), None)


def held_out_deltas(
    a: Mapping[str, Any] | None, b: Mapping[str, Any] | None
) -> HeldOutDeltas:
    """Two runs' TestAccuracy figures side by side, only where both
    measured the same files (paths and SHA-256)."""
    if a is None or b is None:
        missing = " and ".join(
            name for name, run in (("A", a), ("B", b)) if run is None
        )
        return HeldOutDeltas(
            [],
            None,
            f"test accuracy is not comparable: {missing} has no test split",
        )
    if a["images_sha256"] != b["images_sha256"]:
        return HeldOutDeltas([], None, NOT_COMPARABLE)
    keras_a, keras_b = a["keras"], b["keras"]
    rows = [
        AccuracyDelta(
            OVERALL,
            "",
            keras_a["accuracy"],
            keras_b["accuracy"],
            a["examples"],
            b["examples"],
        )
    ]
    rows += [
        AccuracyDelta(
            CLASS,
            name,
            accuracy,
            keras_b["per_class_accuracy"].get(name),
            keras_a["per_class_examples"][name],
            keras_b["per_class_examples"].get(name, 0),
        )
        for name, accuracy in keras_a["per_class_accuracy"].items()
    ]
    slices_b = {(s["feature"], s["value"]): s for s in keras_b["slices"]}
    for s in sorted(
        keras_a["slices"], key=lambda s: (s["feature"], s["value"])
    ):
        in_b = slices_b.get((s["feature"], s["value"]))
        rows.append(
            AccuracyDelta(
                s["feature"],
                str(s["value"]),
                s["accuracy"],
                in_b["accuracy"] if in_b else None,
                s["examples"],
                in_b["examples"] if in_b else 0,
            )
        )
    int8 = FigureDelta(
        "int8_accuracy", a["int8"]["accuracy"], b["int8"]["accuracy"]
    )
    return HeldOutDeltas(rows, int8, "")


def figure_deltas(
    a: Mapping[str, Any], b: Mapping[str, Any]
) -> list[FigureDelta]:
    """The numeric figures of two TFLite metrics files."""
    names = [*TFLITE_FIGURES]
    names += sorted(({*a, *b}) - set(TFLITE_FIGURES))
    return [
        FigureDelta(name, _number(a.get(name)), _number(b.get(name)))
        for name in names
        if _number(a.get(name)) is not None or _number(b.get(name)) is not None
    ]


def _class_support(summary: EvaluationSummary) -> dict[str, int]:
    """Eval images per actual class, from the confusion matrix."""
    support: dict[str, int] = {}
    for (actual, _), count in summary.confusion.items():
        support[actual] = support.get(actual, 0) + count
    return support


def _number(value: Any) -> float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else None
