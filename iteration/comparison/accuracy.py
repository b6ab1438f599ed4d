"""The headline figure of two runs side by side (accuracy, mAP50: the
task's `headline`): overall, per class, per slice of image properties,
and of the TFLite models."""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from components.quality_report.evaluation_results import EvaluationSummary

OVERALL = "overall"
CLASS = "class"
ACCURACY = "accuracy"  # classification's headline
NOT_COMPARABLE = (
    "test accuracy is not comparable: the runs' test images differ"
)


def tflite_figures(headline: str = ACCURACY) -> tuple[str, ...]:
    """The TFLite export's figures, in the order shown; others follow
    sorted."""
    return (
        "float32_bytes",
        "int8_bytes",
        f"keras_{headline}",
        f"float32_{headline}",
        f"int8_{headline}",
        "int8_keras_agreement",
        "eval_examples",
    )


@dataclasses.dataclass(frozen=True)
class AccuracyDelta:
    group: str  # OVERALL, CLASS or the slice's feature, e.g. blur_bucket
    name: str  # "" overall, else the class or the bucket
    a: float | None  # None where the run has no such class or slice
    b: float | None
    # Images; None where not known (a detector's images per class).
    examples_a: int | None
    examples_b: int | None

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
    of B may cover different ranges. The summaries' figure is the task's
    headline; the images per class come from the confusion matrix, none
    where the task has none (detection)."""
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
            support_a.get(name, 0) if support_a is not None else None,
            support_b.get(name, 0) if support_b is not None else None,
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
    a: Mapping[str, Any] | None,
    b: Mapping[str, Any] | None,
    headline: str = ACCURACY,
) -> HeldOutDeltas:
    """Two runs' TestAccuracy figures of the task's `headline` side by
    side, only where both measured the same files (paths and SHA-256).
    Images per class where the figures count them (classification's
    per_class_examples; a detector's figures count boxes, not images)."""
    if a is None or b is None:
        missing = " and ".join(
            name for name, run in (("A", a), ("B", b)) if run is None
        )
        return HeldOutDeltas(
            [],
            None,
            f"test {headline} is not comparable: {missing} has no test split",
        )
    if a["images_sha256"] != b["images_sha256"]:
        return HeldOutDeltas([], None, _not_comparable(headline))
    keras_a, keras_b = a["keras"], b["keras"]
    per_class = f"per_class_{headline}"
    rows = [
        AccuracyDelta(
            OVERALL,
            "",
            keras_a[headline],
            keras_b[headline],
            a["examples"],
            b["examples"],
        )
    ]
    support_a = keras_a.get("per_class_examples")
    support_b = keras_b.get("per_class_examples")
    rows += [
        AccuracyDelta(
            CLASS,
            name,
            value,
            keras_b[per_class].get(name),
            support_a[name] if support_a is not None else None,
            support_b.get(name, 0) if support_b is not None else None,
        )
        for name, value in keras_a[per_class].items()
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
                s[headline],
                in_b[headline] if in_b else None,
                s["examples"],
                in_b["examples"] if in_b else 0,
            )
        )
    int8 = FigureDelta(
        f"int8_{headline}", a["int8"][headline], b["int8"][headline]
    )
    return HeldOutDeltas(rows, int8, "")


def _not_comparable(headline: str) -> str:
    return NOT_COMPARABLE.replace("test accuracy", f"test {headline}", 1)


def figure_deltas(
    a: Mapping[str, Any], b: Mapping[str, Any], headline: str = ACCURACY
) -> list[FigureDelta]:
    """The numeric figures of two TFLite metrics files of a task whose
    headline is `headline`."""
    shown_first = tflite_figures(headline)
    names = [*shown_first]
    names += sorted(({*a, *b}) - set(shown_first))
    return [
        FigureDelta(name, _number(a.get(name)), _number(b.get(name)))
        for name in names
        if _number(a.get(name)) is not None or _number(b.get(name)) is not None
    ]


def _class_support(summary: EvaluationSummary) -> dict[str, int] | None:
    """Eval images per actual class, from the confusion matrix; None
    without one (a detector's)."""
    if not summary.confusion:
        return None
    support: dict[str, int] = {}
    for (actual, _), count in summary.confusion.items():
        support[actual] = support.get(actual, 0) + count
    return support


def _number(value: Any) -> float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else None
