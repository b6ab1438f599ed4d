"""A comparison as one self-contained page of the page kit
(components/pages), in the data-quality report's look and with its table
sorter: what compare.html shows, as tables and figures."""

import os
from collections.abc import Sequence

from components.pages.render import render_page
from components.pages.table import (
    Cell,
    Column,
    Row,
    Table,
    image,
    num,
    row,
)
from iteration.comparison.accuracy import (
    CLASS,
    OVERALL,
    AccuracyDelta,
)
from iteration.comparison.comparison import (
    LISTED,
    Comparison,
    changes_of,
)
from iteration.comparison.data_diff import CHANGE_KINDS
from iteration.comparison.drift import FeatureDrift
from iteration.comparison.flips import Flip

SECTIONS = (
    ("summary", "Summary"),
    ("accuracy", "Accuracy"),
    ("flips", "Flipped eval images"),
    ("data", "Data"),
    ("drift", "Statistics drift"),
    ("tflite", "TFLite models"),
    ("dvc", "DVC"),
)


def render_comparison(comparison: Comparison, *, html_dir: str) -> str:
    """The page, to be written into `html_dir` (links to DVC's plots
    are relative to it)."""
    listed = [
        change
        for kind in CHANGE_KINDS
        for change in changes_of(comparison, kind)[:LISTED]
    ]
    plots = comparison.dvc.plots
    return render_page(
        "compare.html",
        title=(
            f"{comparison.pipeline}: {comparison.a.name}"
            f" vs {comparison.b.name}"
        ),
        nav=SECTIONS,
        c=comparison,
        listed=LISTED,
        runs=_runs(comparison),
        change_counts=[
            (len(changes_of(comparison, kind)), kind) for kind in CHANGE_KINDS
        ],
        drifted=sum(d.drifted for d in comparison.drift),
        accuracy=_accuracy_tables(comparison.accuracy),
        test_accuracy=_test_accuracy(comparison),
        flips_tables=[
            (heading, len(rows), _flips_table(table_id, rows, comparison))
            for heading, table_id, rows in (
                (
                    "Right in A, wrong in B",
                    "right-to-wrong",
                    comparison.flips.right_to_wrong,
                ),
                (
                    "Wrong in A, right in B",
                    "wrong-to-right",
                    comparison.flips.wrong_to_right,
                ),
            )
        ],
        counts=_counts(comparison),
        changes=_changes(comparison, listed),
        changes_listed=len(listed),
        drift=_drift(comparison.drift),
        tflite=_tflite(comparison),
        dvc_metrics=_dvc_metrics(comparison),
        plots_href=os.path.relpath(plots, html_dir) if plots else "",
    )


def _fraction(value: float | None) -> str:
    return "none" if value is None else f"{value:.1%}"


def _value(value: float | None, shown: str) -> Cell:
    return Cell("—", "", "num") if value is None else num(value, shown)


def _delta(change: float | None, shown: str, *, better: int) -> Cell:
    """A change, green where it is better, red where worse; `better` is
    1 where higher is better, -1 where lower is, 0 where neither."""
    if change is None:
        return Cell("—", "", "num")
    direction = change * better
    return num(
        change,
        shown,
        "better" if direction > 0 else "worse" if direction < 0 else "",
    )


def _runs(comparison: Comparison) -> Table:
    rows = [
        row(side, ref.name, ref.run_id, ref.revision or "none")
        for side, ref in (("A", comparison.a), ("B", comparison.b))
    ]
    columns = [
        Column("side", "Side"),
        Column("name", "Asked for"),
        Column("run", "Pipeline run"),
        Column("revision", "Git revision"),
    ]
    return Table("runs", columns, rows)


def _accuracy_columns() -> list[Column]:
    return [
        Column("a", "A"),
        Column("b", "B"),
        Column("change", "Change"),
        Column("examples-a", "Images A"),
        Column("examples-b", "Images B"),
    ]


def _accuracy_cells(delta: AccuracyDelta) -> list[Cell]:
    change = delta.change
    return [
        _value(delta.a, _fraction(delta.a)),
        _value(delta.b, _fraction(delta.b)),
        _delta(change, "" if change is None else f"{change:+.1%}", better=1),
        num(delta.examples_a, f"{delta.examples_a:,}"),
        num(delta.examples_b, f"{delta.examples_b:,}"),
    ]


def _accuracy_tables(
    deltas: Sequence[AccuracyDelta],
) -> tuple[Table, Table | None]:
    """Overall and per class; per slice, None without slices."""
    by_class = [
        row(d.name or "all", *_accuracy_cells(d))
        for d in deltas
        if d.group in (OVERALL, CLASS)
    ]
    slices = [
        row(d.group, d.name, *_accuracy_cells(d))
        for d in deltas
        if d.group not in (OVERALL, CLASS)
    ]
    class_columns = [Column("class", "Class"), *_accuracy_columns()]
    slice_columns = [
        Column("feature", "Feature"),
        Column("bucket", "Bucket"),
        *_accuracy_columns(),
    ]
    return (
        Table("accuracy-table", class_columns, by_class),
        Table("slices-table", slice_columns, slices) if slices else None,
    )


def _test_accuracy(comparison: Comparison) -> Table | None:
    deltas = comparison.test.accuracy
    if not deltas:
        return None
    rows = [
        row(
            d.group if d.group not in (OVERALL, CLASS) else "",
            d.name or "all",
            *_accuracy_cells(d),
        )
        for d in deltas
    ]
    columns = [
        Column("slice", "Slice"),
        Column("class", "Class or bucket"),
        *_accuracy_columns(),
    ]
    return Table("test-accuracy-table", columns, rows)


_FLIP_COLUMNS = (
    Column("thumbnail", "Image", sortable=False),
    Column("path", "Path in B"),
    Column("label-a", "Label A"),
    Column("predicted-a", "Predicted A"),
    Column("confidence-a", "Confidence A"),
    Column("label-b", "Label B"),
    Column("predicted-b", "Predicted B"),
    Column("confidence-b", "Confidence B"),
)


def _flips_table(
    table_id: str, flips: Sequence[Flip], comparison: Comparison
) -> Table | None:
    if not flips:
        return None
    return Table(
        table_id,
        _FLIP_COLUMNS,
        [_flip_row(f, comparison) for f in flips[:LISTED]],
        ("confidence-b", "descending"),
    )


def _flip_row(flip: Flip, comparison: Comparison) -> Row:
    path = (
        flip.path_b
        if flip.path_b == flip.path_a
        else f"{flip.path_b} (A: {flip.path_a})"
    )
    return row(
        image(comparison.thumbnails.get(flip.sha256), flip.path_b),
        path,
        flip.label_a,
        flip.predicted_a,
        num(flip.confidence_a, f"{flip.confidence_a:.3f}"),
        flip.label_b,
        flip.predicted_b,
        num(flip.confidence_b, f"{flip.confidence_b:.3f}"),
    )


def _counts(comparison: Comparison) -> Table:
    rows = [
        row(
            r.split,
            r.label,
            num(r.a, f"{r.a:,}"),
            num(r.b, f"{r.b:,}"),
            num(r.change, f"{r.change:+,}"),
            css="changed" if r.change else "",
        )
        for r in comparison.counts
    ]
    columns = [
        Column("split", "Split"),
        Column("class", "Class"),
        Column("a", "A"),
        Column("b", "B"),
        Column("change", "Change"),
    ]
    return Table("counts-table", columns, rows)


def _changes(comparison: Comparison, listed: Sequence) -> Table | None:
    if not comparison.changes:
        return None

    def picture(sha256: str, path: str) -> Cell:
        if not sha256:
            return Cell()
        return image(comparison.thumbnails.get(sha256), path)

    rows = [
        row(
            change.kind,
            picture(change.sha256_a, change.path_a),
            change.path_a,
            picture(change.sha256_b, change.path_b),
            change.path_b,
        )
        for change in listed
    ]
    columns = [
        Column("kind", "Change"),
        Column("thumbnail-a", "A", sortable=False),
        Column("path-a", "Path in A"),
        Column("thumbnail-b", "B", sortable=False),
        Column("path-b", "Path in B"),
    ]
    return Table("changes-table", columns, rows)


def _drift(drift: Sequence[FeatureDrift]) -> Table | None:
    if not drift:
        return None
    rows = [
        row(
            d.split,
            d.feature,
            d.measure,
            num(d.value, f"{d.value:.4f}"),
            num(d.threshold, f"{d.threshold:g}"),
            "yes" if d.drifted else "no",
            css="drifted" if d.drifted else "",
        )
        for d in drift
    ]
    columns = [
        Column("split", "Split"),
        Column("feature", "Feature"),
        Column("measure", "Measure"),
        Column("value", "Value"),
        Column("threshold", "Threshold"),
        Column("drifted", "Drifted"),
    ]
    return Table("drift-table", columns, rows)


def _tflite(comparison: Comparison) -> Table | None:
    if not comparison.tflite:
        return None
    rows = [
        row(
            figure.name,
            _value(figure.a, _figure(figure.name, figure.a)),
            _value(figure.b, _figure(figure.name, figure.b)),
            _delta(
                figure.change,
                _figure(figure.name, figure.change, sign="+"),
                better=_better(figure.name),
            ),
        )
        for figure in comparison.tflite
    ]
    columns = [
        Column("figure", "Figure"),
        Column("a", "A"),
        Column("b", "B"),
        Column("change", "Change"),
    ]
    return Table("tflite-table", columns, rows)


def _better(figure: str) -> int:
    """Smaller files are better, higher accuracy and agreement too."""
    if figure.endswith("_bytes"):
        return -1
    return 1 if "accuracy" in figure or "agreement" in figure else 0


def _figure(figure: str, value: float | None, *, sign: str = "") -> str:
    """Bytes and counts as whole numbers, fractions to 3 places."""
    if value is None:
        return ""
    if figure.endswith(("_bytes", "_examples")):
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3f}"


def _dvc_metrics(comparison: Comparison) -> Table | None:
    rows: list[Row] = [
        row(
            file,
            metric,
            str(values.get("old", "—")),
            str(values.get("new", "—")),
            str(values.get("diff", "—")),
        )
        for file, metrics in comparison.dvc.metrics.items()
        for metric, values in metrics.items()
    ]
    if not rows:
        return None
    columns = [
        Column("file", "File"),
        Column("metric", "Metric"),
        Column("a", str(comparison.a.revision)),
        Column("b", str(comparison.b.revision)),
        Column("change", "Change"),
    ]
    return Table("dvc-metrics", columns, rows)
