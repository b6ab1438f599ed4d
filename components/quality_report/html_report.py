"""The data-quality report as one self-contained page of the page kit
(components/pages): what report.html shows, as tables and figures. File
names, labels and every other string of the dataset come from users; the
kit escapes them."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from components.pages.render import render_page
from components.pages.table import Cell, Column, Row, Table, image, num, row
from components.quality_report import report_charts
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

DUPLICATE_ISSUES = (EXACT_DUPLICATE, NEAR_DUPLICATE)
OUTLIER_ISSUES = tuple(
    issue
    for issue in ISSUE_TYPES
    if issue not in (LABEL_ISSUE, *DUPLICATE_ISSUES)
)
_SPLIT_ORDER = ("train", "val", "test")
_TEST = "test"  # the split that measures the loop
_TEST_SLICES = 5  # the worst test slices shown

SECTIONS = (
    ("summary", "Summary"),
    ("label-issues", "Label issues"),
    ("duplicates", "Duplicates"),
    ("outliers", "Outliers and broken files"),
    ("balance", "Class balance and budget"),
    ("errors", "Error analysis"),
)


def render_report(data: ReportData) -> str:
    """The whole report as one HTML5 document."""
    splits = [s for s in _SPLIT_ORDER if s in data.counts]
    splits += sorted(set(data.counts) - set(_SPLIT_ORDER))
    classes = _labels(
        data.class_names,
        (name for per_class in data.counts.values() for name in per_class),
    )
    in_test = [f for f in data.findings if f.split == _TEST]
    return render_page(
        "report.html",
        title=data.title,
        nav=SECTIONS,
        charts=report_charts.charts(data, splits, classes),
        data=data,
        flagged=len({f.path for f in data.findings}),
        suggested=_suggested_counts(data.findings),
        test_findings=len(in_test),
        test_images=len({f.path for f in in_test}),
        issue_counts=_issue_counts(data.findings),
        label_issues=_findings_table(
            "label-issues-table",
            _ordered(data.findings, (LABEL_ISSUE,)),
            data.thumbnails,
            sorted_by=("score", "descending"),
        ),
        duplicates=_findings_table(
            "duplicates-table",
            _ordered(data.findings, DUPLICATE_ISSUES),
            data.thumbnails,
        ),
        outliers=_findings_table(
            "outliers-table",
            _ordered(data.findings, OUTLIER_ISSUES),
            data.thumbnails,
        ),
        balance=_balance_table(data.counts, splits, classes),
        imbalance=_imbalance(data.counts.get("train", {}), classes),
        budget_used=sum(
            sum(data.counts.get(split, {}).values())
            for split in ("train", "val")
        ),
        per_class=_per_class_table(
            data.class_names, data.per_class_accuracy, "per-class-accuracy"
        ),
        confusion=_confusion(data),
        slices=_slices_table(data.slices, "slices"),
        misclassified=_misclassified(data),
        test_per_class=data.test
        and _per_class_table(
            data.class_names,
            data.test.per_class_accuracy,
            "test-per-class-accuracy",
        ),
        test_slices=data.test
        and _slices_table(data.test.slices[:_TEST_SLICES], "test-slices"),
    )


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


def _suggested_counts(findings: Sequence[Finding]) -> list[tuple[str, int]]:
    """How many findings the report suggests to relabel, remove, review."""
    counts = Counter(f.suggested_action for f in findings)
    del counts[""]
    return sorted(counts.items())


def _issue_counts(findings: Sequence[Finding]) -> Table:
    counts = Counter(f.issue for f in findings)
    return Table(
        "issue-counts",
        [Column("issue", "Issue"), Column("findings", "Findings")],
        [
            row(_issue_name(issue), num(counts[issue], str(counts[issue])))
            for issue in ISSUE_TYPES
        ],
    )


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


def _findings_table(
    table_id: str,
    findings: Sequence[Finding],
    thumbnails: Mapping[str, bytes],
    sorted_by: tuple[str, str] | None = None,
) -> Table | None:
    """Findings of one kind; label issues, all of one issue, leave out
    the issue column and call the detail evidence."""
    if not findings:
        return None
    label_issues = table_id == "label-issues-table"
    columns = list(_FINDING_COLUMNS)
    if label_issues:
        columns[3:4] = []
        columns[-1] = Column("detail", "Evidence")
    rows = []
    for f in findings:
        # A broken file has no picture; say what is wrong instead.
        preview = (
            Cell(f.detail, css="broken")
            if f.issue == BROKEN_FILE
            else image(thumbnails.get(f.path), f.path)
        )
        issue = [] if label_issues else [Cell(_issue_name(f.issue))]
        cells = [
            preview,
            Cell(f.path),
            Cell(f.split),
            *issue,
            Cell(f.given_label),
            *_suggestion_cells(f),
            num(f.score, f"{f.score:.4f}"),
            Cell(f.detail),
        ]
        # The worst duplicates: the same image under two labels.
        conflict = f.issue in DUPLICATE_ISSUES and (
            "labels differ" in f.detail.lower()
        )
        rows.append(Row(cells, "conflict" if conflict else ""))
    return Table(table_id, columns, rows, sorted_by)


def _suggestion_cells(f: Finding) -> list[Cell]:
    """The suggested action ("relabel to x", "remove", "review") and its
    confidence."""
    action = f.suggested_action
    if action == RELABEL:
        action = f"relabel to {f.suggested_label}"
    return [
        Cell(action, css=f"action-{f.suggested_action}"),
        num(f.confidence, f"{f.confidence:.2f}" if action else ""),
    ]


def _balance_table(
    counts: Mapping[str, Mapping[str, int]],
    splits: Sequence[str],
    classes: Sequence[str],
) -> Table | None:
    if not splits:
        return None

    def count(split: str, name: str) -> int:
        return counts[split].get(name, 0)

    rows = []
    for name in classes:
        per_split = [count(split, name) for split in splits]
        cells = [num(n, f"{n:,}") for n in [*per_split, sum(per_split)]]
        rows.append(row(name, *cells))
    totals = [sum(count(split, name) for name in classes) for split in splits]
    columns = [
        Column("class", "Class"),
        *(Column(f"split-{s}", s) for s in splits),
        Column("total", "Total"),
    ]
    footer = row("Total", *(num(n, f"{n:,}") for n in [*totals, sum(totals)]))
    return Table("balance-table", columns, rows, footer=footer)


def _imbalance(
    train: Mapping[str, int], classes: Sequence[str]
) -> dict[str, object] | None:
    """The largest and smallest train class, and the classes missing in
    train if any; None without train images."""
    sizes = {name: train.get(name, 0) for name in classes}
    if not any(sizes.values()):
        return None
    largest = max(sizes, key=lambda name: sizes[name])
    smallest = min(sizes, key=lambda name: sizes[name])
    return {
        "largest": (largest, sizes[largest]),
        "smallest": (smallest, sizes[smallest]),
        "missing": [name for name in classes if sizes[name] == 0],
    }


def _per_class_table(
    class_names: Sequence[str],
    per_class_accuracy: Mapping[str, float],
    table_id: str,
) -> Table | None:
    if not per_class_accuracy:
        return None
    classes = _labels(
        [n for n in class_names if n in per_class_accuracy],
        per_class_accuracy,
    )
    rows = [
        row(
            name,
            num(per_class_accuracy[name], f"{per_class_accuracy[name]:.1%}"),
        )
        for name in classes
    ]
    columns = [Column("class", "Class"), Column("accuracy", "Accuracy")]
    return Table(table_id, columns, rows)


def confusion_labels(data: ReportData) -> list[str]:
    return _labels(
        data.class_names, (label for pair in data.confusion for label in pair)
    )


def _confusion(data: ReportData) -> Table | None:
    if not data.confusion:
        return None
    labels = confusion_labels(data)
    rows = []
    for actual in labels:
        counts = [data.confusion.get((actual, p), 0) for p in labels]
        cells = [
            num(n, f"{n:,}", "diagonal" if p == actual else "")
            for p, n in zip(labels, counts, strict=True)
        ]
        total = sum(counts)
        rows.append(row(actual, *cells, num(total, f"{total:,}")))
    columns = [
        Column("actual", "Actual \\ predicted"),
        *(Column(f"predicted-{i}", label) for i, label in enumerate(labels)),
        Column("total", "Total"),
    ]
    return Table("confusion", columns, rows)


def _slices_table(slices: Sequence[SliceRow], table_id: str) -> Table | None:
    if not slices:
        return None
    rows = [
        row(
            s.feature,
            num(s.value, str(s.value)),
            num(s.accuracy, f"{s.accuracy:.1%}"),
            num(s.examples, f"{s.examples:,}"),
        )
        for s in slices
    ]
    columns = [
        Column("feature", "Feature"),
        Column("value", "Bucket"),
        Column("accuracy", "Accuracy"),
        Column("examples", "Examples"),
    ]
    return Table(table_id, columns, rows)


def _misclassified(data: ReportData) -> Table | None:
    if not data.misclassified:
        return None
    rows = [
        row(
            image(data.thumbnails.get(m.path), m.path),
            m.path,
            m.given_label,
            m.predicted_label,
            num(m.confidence, f"{m.confidence:.3f}"),
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
    return Table("misclassified", columns, rows)
