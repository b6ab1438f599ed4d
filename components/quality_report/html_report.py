"""The data-quality report as one self-contained HTML file.

The page works offline: CSS, a small table sorter and the thumbnails
(as data: URLs) are inline, and a Content-Security-Policy forbids
loading anything else. File names, labels and every other string of the
dataset come from users, so all of them go through `esc`.

Every table is sortable by clicking a header. A link ending in
`#sort=<table id>:<column>:<asc|desc>` opens the page with that table
sorted, e.g. `report.html#sort=label-issues-table:path:asc`.
"""

import base64
import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from components.quality_report.report_data import (
    BROKEN_FILE,
    EXACT_DUPLICATE,
    ISSUE_TYPES,
    LABEL_ISSUE,
    NEAR_DUPLICATE,
    RELABEL,
    Finding,
    ReportData,
    SliceRow,
)

THUMBNAIL_PX = 48
DUPLICATE_ISSUES = (EXACT_DUPLICATE, NEAR_DUPLICATE)
OUTLIER_ISSUES = tuple(
    issue
    for issue in ISSUE_TYPES
    if issue not in (LABEL_ISSUE, *DUPLICATE_ISSUES)
)
_SPLIT_ORDER = ("train", "val", "test")
_TEST = "test"  # the split that measures the loop
_TEST_SLICES = 5  # the worst test slices shown
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CSS = f"""
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0 2em 4em;
  color: #222; }}
header nav a {{ margin-right: 1em; }}
section {{ margin-top: 2em; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left;
  vertical-align: middle; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
thead th {{ background: #f0f0f0; }}
table.sortable thead th[data-key] {{ cursor: pointer; }}
th[aria-sort=ascending]::after {{ content: " \\25B2"; }}
th[aria-sort=descending]::after {{ content: " \\25BC"; }}
tfoot td, tfoot th {{ font-weight: bold; }}
tr.conflict td {{ background: #fde2e2; }}
td.diagonal {{ background: #dff3df; font-weight: bold; }}
.thumb {{ width: {THUMBNAIL_PX}px; height: {THUMBNAIL_PX}px;
  object-fit: contain; image-rendering: pixelated;
  background: #000; display: block; }}
.no-thumb {{ display: inline-block; min-width: {THUMBNAIL_PX}px;
  color: #888; font-size: 12px; }}
.broken {{ display: inline-block; max-width: 14em; color: #a33;
  font-size: 12px; }}
.bar {{ width: 24em; height: 1em; background: #eee;
  border: 1px solid #bbb; }}
.bar span {{ display: block; height: 100%; background: #5a9; }}
.bar.over span {{ background: #d55; }}
.empty {{ color: #666; font-style: italic; }}
"""

# Numbers (cells carry their raw value in data-value) sort as numbers,
# all else as text with digit runs compared by value ("img9" < "img10").
SCRIPT = """
(function () {
  "use strict";
  var text = new Intl.Collator(undefined, {numeric: true});
  function value(row, index) {
    var cell = row.cells[index];
    return cell.hasAttribute("data-value") ?
      cell.getAttribute("data-value") : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return text.compare(a, b);
  }
  function sortTable(table, key, descending) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = headers.findIndex(function (th) {
      return th.getAttribute("data-key") === key;
    });
    if (index < 0) { return; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var order = compare(value(a, index), value(b, index));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
    headers[index].setAttribute(
      "aria-sort", descending ? "descending" : "ascending");
    table.setAttribute(
      "data-sorted", key + ":" + (descending ? "desc" : "asc"));
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th[data-key]").forEach(function (th) {
      function toggle() {
        var descending = th.getAttribute("aria-sort") === "ascending";
        sortTable(table, th.getAttribute("data-key"), descending);
      }
      th.tabIndex = 0;
      th.addEventListener("click", toggle);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle();
        }
      });
    });
  });
  var match = /^#sort=([^:]+):([^:]+):(asc|desc)$/.exec(
    decodeURIComponent(location.hash));
  var table = match && document.getElementById(match[1]);
  if (table && table.classList.contains("sortable")) {
    sortTable(table, match[2], match[3] === "desc");
  }
})();
"""

# Only inline styles, inline scripts and data: images may load.
CSP = (
    "default-src 'none'; img-src data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'"
)

_SECTIONS = (
    ("summary", "Summary"),
    ("label-issues", "Label issues"),
    ("duplicates", "Duplicates"),
    ("outliers", "Outliers and broken files"),
    ("balance", "Class balance and budget"),
    ("errors", "Error analysis"),
)


class Column(NamedTuple):
    key: str  # the name a #sort= link uses
    label: str  # escaped HTML
    sortable: bool = True


def render_report(data: ReportData) -> str:
    """The whole report as one HTML5 document."""
    bodies = (
        _summary(data),
        _label_issues(data),
        _duplicates(data),
        _outliers(data),
        _balance(data),
        _errors(data),
    )
    sections = "\n".join(
        section(section_id, heading, body)
        for (section_id, heading), body in zip(_SECTIONS, bodies, strict=True)
    )
    nav = " ".join(
        f'<a href="#{section_id}">{heading}</a>'
        for section_id, heading in _SECTIONS
    )
    title = esc(data.title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{CSS}</style>
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


# Building blocks. Helpers taking `content` expect escaped HTML.


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def section(section_id: str, heading: str, body: str) -> str:
    return (
        f'<section id="{section_id}">\n<h2>{heading}</h2>\n{body}\n</section>'
    )


def empty(message: str) -> str:
    return f'<p class="empty">{message}</p>'


def td(content: str, sort_value: object = None, css_class: str = "") -> str:
    attributes = f' class="{css_class}"' if css_class else ""
    if sort_value is not None:
        attributes += f' data-value="{esc(sort_value)}"'
    return f"<td{attributes}>{content}</td>"


def num(value: float, shown: str) -> str:
    return td(shown, sort_value=value, css_class="num")


def tr(cells: Iterable[str], css_class: str = "") -> str:
    attributes = f' class="{css_class}"' if css_class else ""
    return f"<tr{attributes}>{''.join(cells)}</tr>"


def table(
    table_id: str,
    columns: Sequence[Column],
    rows: Sequence[str],
    sorted_by: tuple[str, str] | None = None,
    footer: str = "",
) -> str:
    """A sortable table; `sorted_by` (key, "ascending" or "descending")
    marks the order the rows already have."""
    headers = "".join(_th(column, sorted_by) for column in columns)
    body = "\n".join(rows)
    foot = f"<tfoot>{footer}</tfoot>" if footer else ""
    return (
        f'<table class="sortable" id="{table_id}">'
        f"<thead><tr>{headers}</tr></thead>"
        f"<tbody>\n{body}\n</tbody>{foot}</table>"
    )


def _th(column: Column, sorted_by: tuple[str, str] | None) -> str:
    if not column.sortable:
        return f"<th>{column.label}</th>"
    attributes = f' data-key="{column.key}"'
    if sorted_by and sorted_by[0] == column.key:
        attributes += f' aria-sort="{sorted_by[1]}"'
    return f"<th{attributes}>{column.label}</th>"


def _thumbnail(path: str, thumbnails: Mapping[str, bytes]) -> str:
    png = thumbnails.get(path)
    if png is None or not png.startswith(PNG_SIGNATURE):
        return '<span class="no-thumb">no preview</span>'
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<img class="thumb" src="data:image/png;base64,{encoded}" '
        f'alt="{esc(path)}" title="{esc(path)}">'
    )


def _percent(fraction: float) -> str:
    return f"{fraction:.1%}"


def _issue_name(issue: str) -> str:
    return issue.replace("_", " ")


def _ordered(
    findings: Iterable[Finding], issues: Sequence[str]
) -> list[Finding]:
    """The findings of `issues`, by issue in that order, then most
    certain first."""
    chosen = [f for f in findings if f.issue in issues]
    return sorted(
        chosen, key=lambda f: (issues.index(f.issue), -f.score, f.path)
    )


def _labels(first: Sequence[str], others: Iterable[str]) -> list[str]:
    """`first` in order, then labels only `others` mention, sorted."""
    extra = sorted(set(others) - set(first))
    return [*first, *extra]


# Sections.


def _summary(data: ReportData) -> str:
    if data.accuracy is None:
        accuracy = "No evaluation ran."
    else:
        accuracy = f"Accuracy on the evaluation images: {data.accuracy:.1%}."
    flagged = len({f.path for f in data.findings})
    counts = Counter(f.issue for f in data.findings)
    rows = [
        tr([td(_issue_name(issue)), num(counts[issue], str(counts[issue]))])
        for issue in ISSUE_TYPES
    ]
    counts_table = table(
        "issue-counts",
        [Column("issue", "Issue"), Column("findings", "Findings")],
        rows,
    )
    notes = "".join(f"<li>{esc(note)}</li>" for note in data.notes)
    notes_html = f"<ul>{notes}</ul>" if notes else empty("No notes.")
    return (
        f"<p>{accuracy}</p>\n"
        f"<p>{len(data.findings):,} findings on {flagged:,} images.</p>\n"
        f"{_suggested_counts(data.findings)}"
        f"{_test_counts(data.findings)}"
        f"{counts_table}\n<h3>How the analyses ran</h3>\n{notes_html}"
    )


def _suggested_counts(findings: Sequence[Finding]) -> str:
    """How many findings the report suggests to relabel, remove, review."""
    counts = Counter(f.suggested_action for f in findings)
    del counts[""]
    if not counts:
        return ""
    listed = ", ".join(f"{esc(a)} {n:,}" for a, n in sorted(counts.items()))
    return f"<p>Suggested actions, by finding: {listed}.</p>\n"


def _test_counts(findings: Sequence[Finding]) -> str:
    """How many findings are in test, which no fix changes by itself."""
    in_test = [f for f in findings if f.split == _TEST]
    if not in_test:
        return ""
    images = len({f.path for f in in_test})
    return (
        f"<p>{len(in_test):,} findings on {images:,} images of test. dcp"
        " fix never changes test unless --splits names it, and an error"
        " there distorts every comparison: review these by hand.</p>\n"
    )


def _label_issues(data: ReportData) -> str:
    findings = _ordered(data.findings, (LABEL_ISSUE,))
    if not findings:
        return empty("No label issues found.")
    columns = [
        Column("thumbnail", "Image", sortable=False),
        Column("path", "Path"),
        Column("split", "Split"),
        Column("given", "Given label"),
        Column("suggested", "Suggested action"),
        Column("confidence", "Confidence"),
        Column("score", "Score"),
        Column("detail", "Evidence"),
    ]
    rows = [
        tr(
            [
                td(_thumbnail(f.path, data.thumbnails)),
                td(esc(f.path)),
                td(esc(f.split)),
                td(esc(f.given_label)),
                *_suggestion_cells(f),
                num(f.score, f"{f.score:.4f}"),
                td(esc(f.detail)),
            ]
        )
        for f in findings
    ]
    return table("label-issues-table", columns, rows, ("score", "descending"))


def _duplicates(data: ReportData) -> str:
    findings = _ordered(data.findings, DUPLICATE_ISSUES)
    if not findings:
        return empty("No duplicates found.")
    rows = [
        tr(
            _finding_cells(f, _thumbnail(f.path, data.thumbnails)),
            # The worst kind: the same image under two labels.
            "conflict" if "labels differ" in f.detail.lower() else "",
        )
        for f in findings
    ]
    return (
        "<p>Rows highlighted in red are copies whose labels differ.</p>\n"
        + table("duplicates-table", _FINDING_COLUMNS, rows)
    )


def _outliers(data: ReportData) -> str:
    findings = _ordered(data.findings, OUTLIER_ISSUES)
    if not findings:
        return empty("No outliers or broken files found.")
    rows = [
        tr(
            _finding_cells(
                f,
                # A broken file has no picture; say what is wrong instead.
                f'<span class="broken">{esc(f.detail)}</span>'
                if f.issue == BROKEN_FILE
                else _thumbnail(f.path, data.thumbnails),
            )
        )
        for f in findings
    ]
    return table("outliers-table", _FINDING_COLUMNS, rows)


_FINDING_COLUMNS = (
    Column("thumbnail", "Image", sortable=False),
    Column("path", "Path"),
    Column("split", "Split"),
    Column("issue", "Issue"),
    Column("given", "Given label"),
    Column("suggested", "Suggested action"),
    Column("confidence", "Confidence"),
    Column("score", "Score"),
    Column("detail", "Detail"),
)


def _finding_cells(f: Finding, preview: str) -> list[str]:
    return [
        td(preview),
        td(esc(f.path)),
        td(esc(f.split)),
        td(_issue_name(f.issue)),
        td(esc(f.given_label)),
        *_suggestion_cells(f),
        num(f.score, f"{f.score:.4f}"),
        td(esc(f.detail)),
    ]


def _suggestion_cells(f: Finding) -> list[str]:
    """The suggested action ("relabel to x", "remove", "review") and its
    confidence."""
    action = f.suggested_action
    if action == RELABEL:
        action = f"relabel to {f.suggested_label}"
    return [
        td(esc(action), css_class=f"action-{f.suggested_action}"),
        num(f.confidence, f"{f.confidence:.2f}" if action else ""),
    ]


def _balance(data: ReportData) -> str:
    splits = [s for s in _SPLIT_ORDER if s in data.counts]
    splits += sorted(set(data.counts) - set(_SPLIT_ORDER))
    if not splits:
        return empty("No images were counted.")
    classes = _labels(
        data.class_names,
        (name for per_class in data.counts.values() for name in per_class),
    )
    return "\n".join(
        (
            _balance_table(data.counts, splits, classes),
            _imbalance(data.counts.get("train", {}), classes),
            _budget(data),
        )
    )


def _balance_table(
    counts: Mapping[str, Mapping[str, int]],
    splits: Sequence[str],
    classes: Sequence[str],
) -> str:
    def count(split: str, name: str) -> int:
        return counts[split].get(name, 0)

    rows = []
    for name in classes:
        per_split = [count(split, name) for split in splits]
        cells = [num(n, f"{n:,}") for n in [*per_split, sum(per_split)]]
        rows.append(tr([td(esc(name)), *cells]))
    totals = [sum(count(split, name) for name in classes) for split in splits]
    footer = tr(
        [
            "<th>Total</th>",
            *(num(n, f"{n:,}") for n in [*totals, sum(totals)]),
        ]
    )
    columns = [
        Column("class", "Class"),
        *(Column(f"split-{esc(s)}", esc(s)) for s in splits),
        Column("total", "Total"),
    ]
    return table("balance-table", columns, rows, footer=footer)


def _imbalance(train: Mapping[str, int], classes: Sequence[str]) -> str:
    sizes = {name: train.get(name, 0) for name in classes}
    if not sizes or not any(sizes.values()):
        return empty("No train images, so no imbalance ratio.")
    largest = max(sizes, key=lambda name: sizes[name])
    smallest = min(sizes, key=lambda name: sizes[name])
    if sizes[smallest] == 0:
        missing = ", ".join(esc(n) for n in classes if sizes[n] == 0)
        return (
            f"<p>Imbalance ratio: infinite (no train images of {missing}).</p>"
        )
    ratio = sizes[largest] / sizes[smallest]
    return (
        f"<p>Imbalance ratio (largest / smallest class in train): "
        f"{ratio:.2f} ({esc(largest)}: {sizes[largest]:,}, "
        f"{esc(smallest)}: {sizes[smallest]:,}).</p>"
    )


def _budget(data: ReportData) -> str:
    """Train + val images against the cap, in words and as a bar."""
    used = sum(
        sum(data.counts.get(split, {}).values()) for split in ("train", "val")
    )
    if data.budget <= 0:
        return f"<p>Budget: {used:,} train and val images, no cap set.</p>"
    share = used / data.budget
    over = share > 1
    width = min(share, 1.0) * 100
    return (
        f'<p>Budget: <span id="budget-used">{used:,} of {data.budget:,} '
        f"images ({share:.0%})</span>{', over budget' if over else ''}.</p>\n"
        f'<div class="bar{" over" if over else ""}">'
        f'<span style="width: {width:.1f}%"></span></div>'
    )


def _errors(data: ReportData) -> str:
    if data.accuracy is None and not data.confusion:
        return empty("No evaluation ran, so there is no error analysis.")
    accuracy = "unknown" if data.accuracy is None else _percent(data.accuracy)
    return "\n".join(
        (
            f"<p>Overall accuracy: {accuracy}.</p>",
            "<h3>Accuracy per class</h3>",
            _per_class_accuracy(data),
            "<h3>Confusion matrix</h3>",
            _confusion(data),
            "<h3>Worst slices</h3>",
            _slices(data),
            "<h3>Misclassified evaluation images</h3>",
            _misclassified(data),
            *_test_split(data),
        )
    )


def _test_split(data: ReportData) -> tuple[str, ...]:
    test = data.test
    if test is None:
        return ()
    return (
        "<h3>The test split</h3>",
        f"<p>Accuracy on the {test.examples:,} test images:"
        f" {_percent(test.accuracy)}, as TFLite int8"
        f" {_percent(test.int8_accuracy)}. The loop never changes them, so"
        " unlike eval accuracy this figure cannot rise because the"
        " evaluation images got easier; the blessing is on eval.</p>",
        _per_class_table(
            data.class_names,
            test.per_class_accuracy,
            "test-per-class-accuracy",
        ),
        _slices_table(test.slices[:_TEST_SLICES], "test-slices"),
    )


def _per_class_accuracy(data: ReportData) -> str:
    return _per_class_table(
        data.class_names, data.per_class_accuracy, "per-class-accuracy"
    )


def _per_class_table(
    class_names: Sequence[str],
    per_class_accuracy: Mapping[str, float],
    table_id: str,
) -> str:
    if not per_class_accuracy:
        return empty("No per-class accuracy.")
    classes = _labels(
        [n for n in class_names if n in per_class_accuracy],
        per_class_accuracy,
    )
    rows = []
    for name in classes:
        accuracy = per_class_accuracy[name]
        rows.append(tr([td(esc(name)), num(accuracy, _percent(accuracy))]))
    columns = [Column("class", "Class"), Column("accuracy", "Accuracy")]
    return table(table_id, columns, rows)


def _confusion(data: ReportData) -> str:
    if not data.confusion:
        return empty("No confusion matrix.")
    labels = _labels(
        data.class_names, (label for pair in data.confusion for label in pair)
    )
    rows = []
    for actual in labels:
        counts = [data.confusion.get((actual, p), 0) for p in labels]
        cells = [
            td(f"{n:,}", n, "num diagonal" if p == actual else "num")
            for p, n in zip(labels, counts, strict=True)
        ]
        total = sum(counts)
        rows.append(tr([td(esc(actual)), *cells, num(total, f"{total:,}")]))
    columns = [
        Column("actual", "Actual \\ predicted"),
        *(
            Column(f"predicted-{i}", esc(label))
            for i, label in enumerate(labels)
        ),
        Column("total", "Total"),
    ]
    return table("confusion", columns, rows)


def _slices(data: ReportData) -> str:
    return _slices_table(data.slices, "slices")


def _slices_table(slices: Sequence[SliceRow], table_id: str) -> str:
    if not slices:
        return empty("No slices were analysed.")
    rows = [
        tr(
            [
                td(esc(s.feature)),
                num(s.value, str(s.value)),
                num(s.accuracy, _percent(s.accuracy)),
                num(s.examples, f"{s.examples:,}"),
            ]
        )
        for s in slices
    ]
    columns = [
        Column("feature", "Feature"),
        Column("value", "Bucket"),
        Column("accuracy", "Accuracy"),
        Column("examples", "Examples"),
    ]
    return table(table_id, columns, rows)


def _misclassified(data: ReportData) -> str:
    if not data.misclassified:
        return empty("No misclassified evaluation images.")
    rows = [
        tr(
            [
                td(_thumbnail(m.path, data.thumbnails)),
                td(esc(m.path)),
                td(esc(m.given_label)),
                td(esc(m.predicted_label)),
                num(m.confidence, f"{m.confidence:.3f}"),
            ]
        )
        for m in data.misclassified
    ]
    columns = [
        Column("thumbnail", "Image", sortable=False),
        Column("path", "Path"),
        Column("given", "Given label"),
        Column("predicted", "Predicted label"),
        Column("confidence", "Confidence"),
    ]
    return table("misclassified", columns, rows)
