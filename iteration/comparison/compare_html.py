"""A comparison as one self-contained HTML page, in the data-quality
report's style and with its table sorter: thumbnails inline, a
Content-Security-Policy that loads nothing else, every string from the
data escaped, every table sortable (`#sort=<table id>:<column>:<asc|desc>`
works here too)."""

import base64
import os
from collections.abc import Sequence

# The data-quality report's building blocks: one look, one sorter, one
# policy for both pages.
from components.quality_report.html_report import (
    CSP,
    CSS,
    PNG_SIGNATURE,
    SCRIPT,
    Column,
    empty,
    esc,
    num,
    section,
    table,
    td,
    tr,
)
from iteration.comparison.accuracy import (
    CLASS,
    OVERALL,
    AccuracyDelta,
    HeldOutDeltas,
)
from iteration.comparison.comparison import (
    LISTED,
    Comparison,
    changes_of,
)
from iteration.comparison.data_diff import CHANGE_KINDS
from iteration.comparison.drift import FeatureDrift
from iteration.comparison.flips import Flip
from iteration.comparison.runs import RunRef

_EXTRA_CSS = """
td.num.better { color: #161; font-weight: bold; }
td.num.worse { color: #b11; font-weight: bold; }
tr.drifted td, tr.changed td { background: #fff3cd; }
"""
_SECTIONS = (
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
    bodies = (
        _summary(comparison),
        _accuracy(comparison.accuracy) + _test_accuracy(comparison.test),
        _flips(comparison),
        _data(comparison),
        _drift(comparison.drift),
        _tflite(comparison),
        _dvc(comparison, html_dir),
    )
    sections = "\n".join(
        section(section_id, heading, body)
        for (section_id, heading), body in zip(_SECTIONS, bodies, strict=True)
    )
    nav = " ".join(
        f'<a href="#{section_id}">{heading}</a>'
        for section_id, heading in _SECTIONS
    )
    title = esc(
        f"{comparison.pipeline}: {comparison.a.name} vs {comparison.b.name}"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{CSS}{_EXTRA_CSS}</style>
</head>
<body>
<header><h1>{title}</h1><nav>{nav}</nav></header>
<main>
{sections}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _image(png: bytes | None, title: str) -> str:
    if png is None or not png.startswith(PNG_SIGNATURE):
        return '<span class="no-thumb">no preview</span>'
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<img class="thumb" src="data:image/png;base64,{encoded}" '
        f'alt="{esc(title)}" title="{esc(title)}">'
    )


def _value(value: float | None, shown: str) -> str:
    if value is None:
        return td("—", "", "num")
    return num(value, shown)


def _delta(change: float | None, shown: str, *, better: int) -> str:
    """A change, green where it is better, red where worse; `better` is
    1 where higher is better, -1 where lower is, 0 where neither."""
    if change is None:
        return td("—", "", "num")
    direction = change * better
    if direction > 0:
        return td(shown, change, "num better")
    if direction < 0:
        return td(shown, change, "num worse")
    return td(shown, change, "num")


def _more(shown: int, total: int) -> str:
    if total <= shown:
        return ""
    return f"<p>The first {shown:,} of {total:,}; all are in compare.json.</p>"


def _run_rows(a: RunRef, b: RunRef) -> str:
    rows = [
        tr(
            [
                td(side),
                td(esc(ref.name)),
                td(esc(ref.run_id)),
                td(esc(ref.revision or "none")),
            ]
        )
        for side, ref in (("A", a), ("B", b))
    ]
    columns = [
        Column("side", "Side"),
        Column("name", "Asked for"),
        Column("run", "Pipeline run"),
        Column("revision", "Git revision"),
    ]
    return table("runs", columns, rows)


def _summary(comparison: Comparison) -> str:
    overall, flips = comparison.overall, comparison.flips
    drifted = [d for d in comparison.drift if d.drifted]
    kinds = ", ".join(
        f"{len(changes_of(comparison, kind)):,} {kind}"
        for kind in CHANGE_KINDS
    )
    change = "" if overall.change is None else f" ({overall.change:+.1%})"
    accuracy = f"{_fraction(overall.a)} → {_fraction(overall.b)}{change}"
    items = [
        _test_headline(comparison.test),
        f"Eval accuracy {accuracy}, on {overall.examples_a:,} →"
        f" {overall.examples_b:,} images.",
        f"{len(flips.right_to_wrong):,} eval images went from right to"
        f" wrong, {len(flips.wrong_to_right):,} from wrong to right, of the"
        f" {flips.matched:,} both runs have.",
        f"Image files of B against A: {kinds}.",
        f"{len(drifted)} of {len(comparison.drift)} feature statistics"
        " drifted beyond their thresholds.",
    ]
    bullets = "".join(f"<li>{item}</li>" for item in items)
    return f"{_run_rows(comparison.a, comparison.b)}\n<ul>{bullets}</ul>"


def _fraction(value: float | None) -> str:
    return "none" if value is None else f"{value:.1%}"


def _test_headline(test: HeldOutDeltas) -> str:
    overall = test.overall
    if overall is None:
        return (
            f"<strong>{esc(test.note[:1].upper() + test.note[1:])}</strong>;"
            " compare them on eval below."
        )
    change = "" if overall.change is None else f" ({overall.change:+.1%})"
    int8 = (
        ""
        if test.int8 is None
        else f"; TFLite int8 {_fraction(test.int8.a)} →"
        f" {_fraction(test.int8.b)}"
    )
    return (
        f"<strong>Test accuracy {_fraction(overall.a)} →"
        f" {_fraction(overall.b)}{change}</strong> on the same"
        f" {overall.examples_a:,} test images{int8}. The loop holds them"
        " fixed, so unlike eval this cannot rise because eval got easier."
    )


def _test_accuracy(test: HeldOutDeltas) -> str:
    if not test.accuracy:
        return f"\n<h3>The test split</h3>\n{empty(esc(test.note))}"
    rows = [
        tr(
            [
                td(esc(r.group if r.group not in (OVERALL, CLASS) else "")),
                td(esc(r.name or "all")),
                *_accuracy_cells(r),
            ]
        )
        for r in test.accuracy
    ]
    columns = [
        Column("slice", "Slice"),
        Column("class", "Class or bucket"),
        *_accuracy_columns(),
    ]
    return "\n".join(
        (
            "",
            "<h3>The test split</h3>",
            table("test-accuracy-table", columns, rows),
        )
    )


def _accuracy(rows: Sequence[AccuracyDelta]) -> str:
    by_class = [r for r in rows if r.group in (OVERALL, CLASS)]
    slices = [r for r in rows if r.group not in (OVERALL, CLASS)]
    class_columns = [
        Column("class", "Class"),
        *_accuracy_columns(),
    ]
    class_rows = [
        tr([td(esc(r.name or "all")), *_accuracy_cells(r)]) for r in by_class
    ]
    slice_columns = [
        Column("feature", "Feature"),
        Column("bucket", "Bucket"),
        *_accuracy_columns(),
    ]
    slice_rows = [
        tr([td(esc(r.group)), td(esc(r.name)), *_accuracy_cells(r)])
        for r in slices
    ]
    return "\n".join(
        (
            "<h3>Overall and per class</h3>",
            table("accuracy-table", class_columns, class_rows),
            "<h3>Per slice of image properties</h3>",
            "<p>A bucket is a quantile of the property in its own run, so"
            " a bucket may cover other values in A than in B.</p>",
            table("slices-table", slice_columns, slice_rows)
            if slice_rows
            else empty("No slices were evaluated."),
        )
    )


def _accuracy_columns() -> list[Column]:
    return [
        Column("a", "A"),
        Column("b", "B"),
        Column("change", "Change"),
        Column("examples-a", "Images A"),
        Column("examples-b", "Images B"),
    ]


def _accuracy_cells(row: AccuracyDelta) -> list[str]:
    change = row.change
    return [
        _value(row.a, _fraction(row.a)),
        _value(row.b, _fraction(row.b)),
        _delta(
            change,
            "" if change is None else f"{change:+.1%}",
            better=1,
        ),
        num(row.examples_a, f"{row.examples_a:,}"),
        num(row.examples_b, f"{row.examples_b:,}"),
    ]


def _flips(comparison: Comparison) -> str:
    flips = comparison.flips
    notes = (
        f"<p>Each run's model predicted its own eval split; images are"
        f" matched by their bytes. Of {flips.matched:,} images in both,"
        f" A got {flips.right_a:,} right and B {flips.right_b:,}; A alone"
        f" had {flips.only_a:,}, B alone {flips.only_b:,}.</p>"
    )
    parts = [notes]
    for heading, table_id, rows in (
        ("Right in A, wrong in B", "right-to-wrong", flips.right_to_wrong),
        ("Wrong in A, right in B", "wrong-to-right", flips.wrong_to_right),
    ):
        parts.append(f"<h3>{heading} ({len(rows):,})</h3>")
        if not rows:
            parts.append(empty("None."))
            continue
        parts.append(
            table(
                table_id,
                _FLIP_COLUMNS,
                [_flip_row(f, comparison) for f in rows[:LISTED]],
                ("confidence-b", "descending"),
            )
        )
        parts.append(_more(LISTED, len(rows)))
    return "\n".join(parts)


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


def _flip_row(flip: Flip, comparison: Comparison) -> str:
    path = (
        flip.path_b
        if flip.path_b == flip.path_a
        else (f"{flip.path_b} (A: {flip.path_a})")
    )
    return tr(
        [
            td(_image(comparison.thumbnails.get(flip.sha256), flip.path_b)),
            td(esc(path)),
            td(esc(flip.label_a)),
            td(esc(flip.predicted_a)),
            num(flip.confidence_a, f"{flip.confidence_a:.3f}"),
            td(esc(flip.label_b)),
            td(esc(flip.predicted_b)),
            num(flip.confidence_b, f"{flip.confidence_b:.3f}"),
        ]
    )


def _data(comparison: Comparison) -> str:
    count_rows = [
        tr(
            [
                td(esc(row.split)),
                td(esc(row.label)),
                num(row.a, f"{row.a:,}"),
                num(row.b, f"{row.b:,}"),
                num(row.change, f"{row.change:+,}"),
            ],
            "changed" if row.change else "",
        )
        for row in comparison.counts
    ]
    count_columns = [
        Column("split", "Split"),
        Column("class", "Class"),
        Column("a", "A"),
        Column("b", "B"),
        Column("change", "Change"),
    ]
    parts = [
        "<h3>Images per split and class</h3>",
        table("counts-table", count_columns, count_rows),
        "<h3>Image files of B against A</h3>",
        "<p>Changed: the same path with other bytes. Moved: the same bytes"
        " at another path, i.e. relabelled or moved to another split.</p>",
    ]
    if not comparison.changes:
        return "\n".join([*parts, empty("The same files in both runs.")])
    listed = [
        change
        for kind in CHANGE_KINDS
        for change in changes_of(comparison, kind)[:LISTED]
    ]
    rows = [
        tr(
            [
                td(esc(change.kind)),
                td(_picture(comparison, change.sha256_a, change.path_a)),
                td(esc(change.path_a)),
                td(_picture(comparison, change.sha256_b, change.path_b)),
                td(esc(change.path_b)),
            ]
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
    return "\n".join(
        [
            *parts,
            table("changes-table", columns, rows),
            _more(len(listed), len(comparison.changes)),
        ]
    )


def _picture(comparison: Comparison, sha256: str, path: str) -> str:
    return _image(comparison.thumbnails.get(sha256), path) if sha256 else ""


def _drift(drift: Sequence[FeatureDrift]) -> str:
    if not drift:
        return empty("No feature statistics to compare.")
    rows = [
        tr(
            [
                td(esc(d.split)),
                td(esc(d.feature)),
                td(esc(d.measure)),
                num(d.value, f"{d.value:.4f}"),
                num(d.threshold, f"{d.threshold:g}"),
                td("yes" if d.drifted else "no"),
            ],
            "drifted" if d.drifted else "",
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
    return (
        "<p>TFDV's measure between the two runs' statistics of each split"
        " (StatisticsGen), with drift comparators on B's schema.</p>\n"
        + table("drift-table", columns, rows)
    )


def _tflite(comparison: Comparison) -> str:
    if not comparison.tflite:
        return empty("No TFLite figures.")
    rows = [
        tr(
            [
                td(esc(figure.name)),
                _value(figure.a, _figure(figure.name, figure.a)),
                _value(figure.b, _figure(figure.name, figure.b)),
                _delta(
                    figure.change,
                    _figure(figure.name, figure.change, sign="+"),
                    better=_better(figure.name),
                ),
            ]
        )
        for figure in comparison.tflite
    ]
    columns = [
        Column("figure", "Figure"),
        Column("a", "A"),
        Column("b", "B"),
        Column("change", "Change"),
    ]
    return table("tflite-table", columns, rows)


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


def _dvc(comparison: Comparison, html_dir: str) -> str:
    diff = comparison.dvc
    parts = [f"<p>{esc(diff.note)}</p>"] if diff.note else []
    rows = [
        tr(
            [
                td(esc(file)),
                td(esc(metric)),
                td(esc(values.get("old", "—"))),
                td(esc(values.get("new", "—"))),
                td(esc(values.get("diff", "—"))),
            ]
        )
        for file, metrics in diff.metrics.items()
        for metric, values in metrics.items()
    ]
    if rows:
        columns = [
            Column("file", "File"),
            Column("metric", "Metric"),
            Column("a", esc(comparison.a.revision)),
            Column("b", esc(comparison.b.revision)),
            Column("change", "Change"),
        ]
        parts += [
            "<h3>dvc metrics diff</h3>",
            table("dvc-metrics", columns, rows),
        ]
    if diff.plots:
        href = os.path.relpath(diff.plots, html_dir)
        parts.append(
            f'<p><a href="{esc(href)}">dvc plots diff</a> (its page loads'
            " Vega from the web).</p>"
        )
    return "\n".join(parts) or empty("DVC compared nothing.")
