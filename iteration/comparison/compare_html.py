"""A comparison as one self-contained page of the page kit
(core/pages), in the data-quality report's look and with its table
sorter: what compare.html shows, as tables and figures."""

import os
from collections.abc import Callable, Sequence

from core.pages.render import render_page
from core.pages.table import (
    Cell,
    Column,
    Table,
    image,
    num,
    number,
    pictures,
    table,
)
from iteration.comparison.accuracy import (
    CLASS,
    OVERALL,
    AccuracyDelta,
    FigureDelta,
)
from iteration.comparison.comparison import (
    LISTED,
    Comparison,
    changes_of,
)
from iteration.comparison.data_diff import CHANGE_KINDS, CountRow, FileChange
from iteration.comparison.drift import FeatureDrift
from iteration.comparison.flips import Flip
from iteration.comparison.runs import RunRef

SECTIONS = (
    ("summary", "Summary"),
    ("accuracy", "Accuracy"),
    ("flips", "Flipped eval images"),
    ("data", "Data"),
    ("drift", "Statistics drift"),
    ("tflite", "TFLite models"),
    ("dvc", "DVC"),
)


def _sections(comparison: Comparison) -> list[tuple[str, str]]:
    """SECTIONS, the headline's named by the task's figure (Accuracy,
    mAP50); without flips where the task has none."""
    return [
        (key, _title(comparison.headline) if key == "accuracy" else title)
        for key, title in SECTIONS
        if key != "flips" or comparison.flips is not None
    ]


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
        nav=_sections(comparison),
        c=comparison,
        headline=comparison.headline,
        headline_title=_title(comparison.headline),
        listed=LISTED,
        runs=_runs(comparison),
        change_counts=[
            (len(changes_of(comparison, kind)), kind) for kind in CHANGE_KINDS
        ],
        drifted=sum(d.drifted for d in comparison.drift),
        accuracy=_accuracy_tables(comparison.accuracy),
        test_accuracy=_test_accuracy(comparison),
        flips_tables=_flips_tables(comparison),
        counts=_counts(comparison),
        changes=_changes(comparison, listed),
        changes_listed=len(listed),
        drift=_drift(comparison.drift),
        tflite=_tflite(comparison),
        dvc_metrics=_dvc_metrics(comparison),
        plots_href=os.path.relpath(plots, html_dir) if plots else "",
    )


def _title(headline: str) -> str:
    """A headline as a heading: Accuracy, but mAP50 as it is."""
    return headline.capitalize() if headline.islower() else headline


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
    columns: list[Column[tuple[str, RunRef]]] = [
        Column("side", "Side", lambda run: run[0]),
        Column("name", "Asked for", lambda run: run[1].name),
        Column("run", "Pipeline run", lambda run: run[1].run_id),
        Column(
            "revision", "Git revision", lambda run: run[1].revision or "none"
        ),
    ]
    sides = [("A", comparison.a), ("B", comparison.b)]
    return table("runs", columns, sides)


def _change_cell(delta: AccuracyDelta) -> Cell:
    change = delta.change
    shown = "" if change is None else f"{change:+.1%}"
    return _delta(change, shown, better=1)


_ACCURACY_COLUMNS: list[Column[AccuracyDelta]] = [
    number("a", "A", lambda d: d.a, ".1%", missing="—"),
    number("b", "B", lambda d: d.b, ".1%", missing="—"),
    Column("change", "Change", _change_cell),
    number("examples-a", "Images A", lambda d: d.examples_a, ",", missing="—"),
    number("examples-b", "Images B", lambda d: d.examples_b, ",", missing="—"),
]


def _is_class(delta: AccuracyDelta) -> bool:
    return delta.group in (OVERALL, CLASS)


def _accuracy_tables(
    deltas: Sequence[AccuracyDelta],
) -> tuple[Table, Table | None]:
    """Overall and per class; per slice, None without slices."""
    by_class = [d for d in deltas if _is_class(d)]
    slices = [d for d in deltas if not _is_class(d)]
    class_columns: list[Column[AccuracyDelta]] = [
        Column("class", "Class", lambda d: d.name or "all"),
        *_ACCURACY_COLUMNS,
    ]
    slice_columns: list[Column[AccuracyDelta]] = [
        Column("feature", "Feature", lambda d: d.group),
        Column("bucket", "Bucket", lambda d: d.name),
        *_ACCURACY_COLUMNS,
    ]
    return (
        table("accuracy-table", class_columns, by_class),
        table("slices-table", slice_columns, slices) if slices else None,
    )


def _test_accuracy(comparison: Comparison) -> Table | None:
    deltas = comparison.test.accuracy
    if not deltas:
        return None
    columns: list[Column[AccuracyDelta]] = [
        Column("slice", "Slice", lambda d: "" if _is_class(d) else d.group),
        Column("class", "Class or bucket", lambda d: d.name or "all"),
        *_ACCURACY_COLUMNS,
    ]
    return table("test-accuracy-table", columns, deltas)


def _flips_tables(
    comparison: Comparison,
) -> list[tuple[str, int, Table | None]]:
    """Right to wrong and wrong to right: (heading, flips, table)."""
    flips = comparison.flips
    if flips is None:
        return []
    return [
        (heading, len(rows), _flips_table(table_id, rows, comparison))
        for heading, table_id, rows in (
            ("Right in A, wrong in B", "right-to-wrong", flips.right_to_wrong),
            ("Wrong in A, right in B", "wrong-to-right", flips.wrong_to_right),
        )
    ]


def _flips_table(
    table_id: str, flips: Sequence[Flip], comparison: Comparison
) -> Table | None:
    if not flips:
        return None

    def path(flip: Flip) -> str:
        if flip.path_b == flip.path_a:
            return flip.path_b
        return f"{flip.path_b} (A: {flip.path_a})"

    columns: list[Column[Flip]] = [
        pictures(
            "thumbnail",
            "Image",
            lambda f: image(comparison.thumbnails.get(f.sha256), f.path_b),
        ),
        Column("path", "Path in B", path),
        Column("label-a", "Label A", lambda f: f.label_a),
        Column("predicted-a", "Predicted A", lambda f: f.predicted_a),
        number(
            "confidence-a", "Confidence A", lambda f: f.confidence_a, ".3f"
        ),
        Column("label-b", "Label B", lambda f: f.label_b),
        Column("predicted-b", "Predicted B", lambda f: f.predicted_b),
        number(
            "confidence-b", "Confidence B", lambda f: f.confidence_b, ".3f"
        ),
    ]
    return table(
        table_id,
        columns,
        flips[:LISTED],
        sorted_by=("confidence-b", "descending"),
    )


def _counts(comparison: Comparison) -> Table | None:
    columns: list[Column[CountRow]] = [
        Column("split", "Split", lambda r: r.split),
        Column("class", "Class", lambda r: r.label),
        number("a", "A", lambda r: r.a, ","),
        number("b", "B", lambda r: r.b, ","),
        number("change", "Change", lambda r: r.change, "+,"),
    ]
    if not comparison.counts:
        return None
    return table(
        "counts-table",
        columns,
        comparison.counts,
        row_css=lambda r: "changed" if r.change else "",
    )


def _changes(
    comparison: Comparison, listed: Sequence[FileChange]
) -> Table | None:
    if not comparison.changes:
        return None

    def picture(sha256: str, path: str) -> Cell:
        if not sha256:
            return Cell()
        return image(comparison.thumbnails.get(sha256), path)

    columns: list[Column[FileChange]] = [
        Column("kind", "Change", lambda c: c.kind),
        pictures("thumbnail-a", "A", lambda c: picture(c.sha256_a, c.path_a)),
        Column("path-a", "Path in A", lambda c: c.path_a),
        pictures("thumbnail-b", "B", lambda c: picture(c.sha256_b, c.path_b)),
        Column("path-b", "Path in B", lambda c: c.path_b),
    ]
    return table("changes-table", columns, listed)


def _drift(drift: Sequence[FeatureDrift]) -> Table | None:
    if not drift:
        return None
    columns: list[Column[FeatureDrift]] = [
        Column("split", "Split", lambda d: d.split),
        Column("feature", "Feature", lambda d: d.feature),
        Column("measure", "Measure", lambda d: d.measure),
        number("value", "Value", lambda d: d.value, ".4f"),
        number("threshold", "Threshold", lambda d: d.threshold, "g"),
        Column("drifted", "Drifted", lambda d: "yes" if d.drifted else "no"),
    ]
    return table("drift-table", columns, drift, row_css=_drifted_row)


def _drifted_row(drift: FeatureDrift) -> str:
    return "drifted" if drift.drifted else ""


def _tflite(comparison: Comparison) -> Table | None:
    if not comparison.tflite:
        return None
    columns: list[Column[FigureDelta]] = [
        Column("figure", "Figure", lambda f: f.name),
        Column("a", "A", lambda f: _value(f.a, _figure(f.name, f.a))),
        Column("b", "B", lambda f: _value(f.b, _figure(f.name, f.b))),
        Column(
            "change",
            "Change",
            lambda f: _delta(
                f.change,
                _figure(f.name, f.change, sign="+"),
                better=_better(f.name, comparison.headline),
            ),
        ),
    ]
    return table("tflite-table", columns, comparison.tflite)


def _better(figure: str, headline: str) -> int:
    """Smaller files are better, a higher headline figure (accuracy,
    mAP50 and mAP50_95) and agreement too."""
    if figure.endswith("_bytes"):
        return -1
    higher = ("accuracy", headline, "agreement")
    return 1 if any(word in figure for word in higher) else 0


def _figure(figure: str, value: float | None, *, sign: str = "") -> str:
    """Bytes and counts as whole numbers, fractions to 3 places."""
    if value is None:
        return ""
    if figure.endswith(("_bytes", "_examples")):
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3f}"


def _dvc_metrics(comparison: Comparison) -> Table | None:
    """`dvc metrics diff`: a row per file and metric."""
    found = [
        (file, metric, values)
        for file, metrics in comparison.dvc.metrics.items()
        for metric, values in metrics.items()
    ]
    if not found:
        return None

    def value(key: str) -> Callable[[tuple[str, str, dict]], str]:
        return lambda found: str(found[2].get(key, "—"))

    columns: list[Column[tuple[str, str, dict]]] = [
        Column("file", "File", lambda found: found[0]),
        Column("metric", "Metric", lambda found: found[1]),
        Column("a", str(comparison.a.revision), value("old")),
        Column("b", str(comparison.b.revision), value("new")),
        Column("change", "Change", value("diff")),
    ]
    return table("dvc-metrics", columns, found)
