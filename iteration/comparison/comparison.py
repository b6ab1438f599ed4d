"""A comparison of two runs as plain data, its JSON and its terminal
summary."""

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from iteration.comparison.accuracy import (
    ACCURACY,
    CLASS,
    OVERALL,
    AccuracyDelta,
    FigureDelta,
    HeldOutDeltas,
)
from iteration.comparison.data_diff import (
    CHANGE_KINDS,
    CountRow,
    FileChange,
)
from iteration.comparison.drift import FeatureDrift
from iteration.comparison.dvc_diff import DvcDiff
from iteration.comparison.flips import Flips
from iteration.comparison.runs import RunRef

# Rows of a list shown in the HTML and the summary; compare.json has all.
LISTED = 200
_SUMMARY_ITEMS = 8


@dataclasses.dataclass(frozen=True)
class Comparison:
    pipeline: str
    a: RunRef
    b: RunRef
    counts: Sequence[CountRow]
    changes: Sequence[FileChange]
    drift: Sequence[FeatureDrift]  # per split, the most drifted first
    accuracy: Sequence[AccuracyDelta]
    tflite: Sequence[FigureDelta]
    # None for a task whose model gives no single class per image
    # (detection).
    flips: Flips | None
    dvc: DvcDiff
    thumbnails: Mapping[str, bytes]  # sha256 → PNG of the listed images
    test: HeldOutDeltas  # the headline figure when comparable
    # The task's headline figure, which `accuracy` and `test` hold
    # (core.task: accuracy, mAP50).
    headline: str = ACCURACY
    # What `counts` counts per split and class: images, or a detector's
    # boxes (from the ETL's summary).
    counted: str = "images"

    @property
    def overall(self) -> AccuracyDelta:
        return next(row for row in self.accuracy if row.group == OVERALL)


def listed_hashes(comparison: Comparison) -> set[str]:
    """The images the HTML shows: the first LISTED of each list."""
    flips = comparison.flips
    hashes = {
        flip.sha256
        for rows in (
            (flips.right_to_wrong, flips.wrong_to_right) if flips else ()
        )
        for flip in rows[:LISTED]
    }
    for kind in CHANGE_KINDS:
        for change in changes_of(comparison, kind)[:LISTED]:
            hashes.update(h for h in (change.sha256_a, change.sha256_b) if h)
    return hashes


def changes_of(comparison: Comparison, kind: str) -> list[FileChange]:
    return [change for change in comparison.changes if change.kind == kind]


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """Everything but the thumbnails, with every change worked out; a
    task whose headline is not accuracy names it and what its counts
    count (its figures are under the same keys), and has null flips
    where it has none."""
    flips = comparison.flips
    headline = comparison.headline
    return {
        "pipeline": comparison.pipeline,
        **(
            {}
            if headline == ACCURACY
            else {"headline": headline, "counted": comparison.counted}
        ),
        "a": dataclasses.asdict(comparison.a),
        "b": dataclasses.asdict(comparison.b),
        "accuracy": [
            _with(row, change=row.change) for row in comparison.accuracy
        ],
        "tflite": [_with(row, change=row.change) for row in comparison.tflite],
        "test": {
            "note": comparison.test.note,
            "accuracy": [
                _with(row, change=row.change)
                for row in comparison.test.accuracy
            ],
            "int8": (
                _with(comparison.test.int8, change=comparison.test.int8.change)
                if comparison.test.int8
                else None
            ),
        },
        "counts": [_with(row, change=row.change) for row in comparison.counts],
        "changes": {
            **Counter(change.kind for change in comparison.changes),
            "files": [dataclasses.asdict(c) for c in comparison.changes],
        },
        "drift": [_with(d, drifted=d.drifted) for d in comparison.drift],
        "flips": dataclasses.asdict(flips) if flips else None,
        "dvc": dataclasses.asdict(comparison.dvc),
    }


def format_summary(
    comparison: Comparison, *, html_file: str, json_file: str
) -> str:
    a, b, overall = comparison.a, comparison.b, comparison.overall
    flips, headline = comparison.flips, comparison.headline
    lines = [
        f"{comparison.pipeline}: A {_ref(a)} → B {_ref(b)}",
        f"  {_test(comparison.test, headline)}",
        f"  eval {headline} {_change(overall)} on {overall.examples_a} →"
        f" {overall.examples_b} eval images",
        f"  per class: {_class_changes(comparison.accuracy)}",
        *(
            [
                f"  flips: {len(flips.right_to_wrong)} right → wrong,"
                f" {len(flips.wrong_to_right)} wrong → right of the"
                f" {flips.matched} eval images both have"
            ]
            if flips
            else []
        ),
        f"  data: {_file_changes(comparison.changes)};"
        f" {_count_changes(comparison.counts, comparison.counted)}",
        f"  drift: {_drift(comparison.drift)}",
        f"  TFLite: {_tflite(comparison.tflite, headline)}",
        f"  dvc: {_dvc(comparison.dvc)}",
        f"  compare.html: {html_file}",
        f"  compare.json: {json_file}",
    ]
    return "\n".join(lines)


def _test(test: HeldOutDeltas, headline: str) -> str:
    """The headline: the test figure where both runs share their test
    images, else why not."""
    overall = test.overall
    if overall is None:
        return f"{test.note}; the eval figures below are what there is"
    int8 = "" if test.int8 is None else f"; int8 {_figure_change(test.int8)}"
    return (
        f"test {headline} {_change(overall)} on the same"
        f" {overall.examples_a} test images{int8}"
    )


def _figure_change(figure: FigureDelta) -> str:
    change = "" if figure.change is None else f" ({figure.change:+.3f})"
    return f"{_fraction(figure.a)} → {_fraction(figure.b)}{change}"


def _with(row: Any, **derived: Any) -> dict[str, Any]:
    return {**dataclasses.asdict(row), **derived}


def _ref(ref: RunRef) -> str:
    return ref.name if ref.name == ref.run_id else f"{ref.name} ({ref.run_id})"


def _change(row: AccuracyDelta) -> str:
    def shown(value: float | None) -> str:
        return "none" if value is None else f"{value:.3f}"

    change = "" if row.change is None else f" ({row.change:+.3f})"
    return f"{shown(row.a)} → {shown(row.b)}{change}"


def _class_changes(rows: Sequence[AccuracyDelta]) -> str:
    classes = [row for row in rows if row.group == CLASS]
    changed = [row for row in classes if row.change != 0]
    if not changed:
        return f"all {len(classes)} classes as before"
    return ", ".join(f"{row.name} {_change(row)}" for row in changed)


def _file_changes(changes: Sequence[FileChange]) -> str:
    counts = Counter(change.kind for change in changes)
    return ", ".join(f"{counts[kind]} {kind}" for kind in CHANGE_KINDS)


def _count_changes(rows: Sequence[CountRow], counted: str) -> str:
    if not rows:
        return f"{counted} per class and split not known"
    changed = [row for row in rows if row.change]
    if not changed:
        return f"{counted} per class and split as before"
    shown = ", ".join(
        f"{row.split}/{row.label} {row.a} → {row.b}"
        for row in changed[:_SUMMARY_ITEMS]
    )
    more = len(changed) - _SUMMARY_ITEMS
    return f"{counted} " + shown + (f" and {more} more" if more > 0 else "")


def _drift(drift: Sequence[FeatureDrift]) -> str:
    drifted = sorted((d for d in drift if d.drifted), key=lambda d: -d.value)
    if not drifted:
        largest = max(drift, key=lambda d: d.value, default=None)
        if largest is None:
            return "no features to compare"
        return (
            "no feature beyond its threshold (largest:"
            f" {largest.split} {largest.feature} {largest.value:.3f})"
        )
    shown = ", ".join(
        f"{d.split} {d.feature} {d.value:.3f}"
        for d in drifted[:_SUMMARY_ITEMS]
    )
    more = len(drifted) - _SUMMARY_ITEMS
    return f"{len(drifted)} drifted: {shown}" + (
        f" and {more} more" if more > 0 else ""
    )


def _tflite(figures: Sequence[FigureDelta], headline: str) -> str:
    by_name = {figure.name: figure for figure in figures}
    parts = []
    for kind in ("int8", "float32"):
        size = by_name.get(f"{kind}_bytes")
        figure = by_name.get(f"{kind}_{headline}")
        if size is None or figure is None:
            continue
        parts.append(
            f"{kind} {_kib(size.a)} → {_kib(size.b)} KiB, {headline}"
            f" {_fraction(figure.a)} → {_fraction(figure.b)}"
        )
    return "; ".join(parts) or "no TFLite figures"


def _kib(size: float | None) -> str:
    return "none" if size is None else f"{size / 1024:.0f}"


def _fraction(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


def _dvc(diff: DvcDiff) -> str:
    if diff.note:
        return diff.note
    changed = sum(
        bool(values.get("diff"))
        for metrics in diff.metrics.values()
        for values in metrics.values()
    )
    return (
        f"metrics diff ({changed} changed) in compare.html and"
        f" compare.json, plots diff at {diff.plots}"
    )
