"""The data-quality report as one self-contained page of the page kit
(core/pages): what report.html shows, as tables and figures. File
names, labels and every other string of the dataset come from users; the
kit escapes them."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from components.quality_report import population_charts, report_charts
from components.quality_report.report_data import (
    Misclassified,
    ReportData,
    SliceRow,
)
from core.findings.finding import RELABEL, Finding
from core.findings.issue_types import (
    DUPLICATES_SECTION,
    LABEL_ISSUES_SECTION,
    OUTLIERS_SECTION,
    in_section,
    issue_types,
    title_of,
)
from core.pages.render import data_url, render_page
from core.pages.table import (
    Cell,
    Column,
    Table,
    Thumbnail,
    image,
    num,
    number,
    pictures,
    table,
)
from core.population.points import Cluster

# Each findings section lists the issue types registered for it
# (core/findings/issue_types.py), read when a report is rendered.
_SPLIT_ORDER = ("train", "val", "test")
_TEST = "test"  # the split that measures the loop
_TEST_SLICES = 5  # the worst test slices shown

SECTIONS = (
    ("summary", "Summary"),
    (LABEL_ISSUES_SECTION, "Label issues"),
    (DUPLICATES_SECTION, "Duplicates"),
    (OUTLIERS_SECTION, "Outliers and broken files"),
    ("balance", "Class balance and budget"),
    ("errors", "Error analysis"),
    ("population", "Embedding map and insights"),
)


def render_report(data: ReportData) -> str:
    """The whole report as one HTML5 document."""
    splits = _ordered_splits(data.counts)
    classes = _labels(
        data.class_names,
        (name for per_class in data.counts.values() for name in per_class),
    )
    in_test = [f for f in data.findings if f.split == _TEST]
    charts = report_charts.charts(data, splits, classes)
    if data.population:
        charts.append(
            population_charts.map_chart(
                data.population,
                data.findings,
                {
                    path: data_url(Thumbnail(png, path))
                    for path, png in data.map_thumbnails.items()
                },
            )
        )
    return render_page(
        "report.html",
        title=data.title,
        nav=SECTIONS,
        charts=charts,
        map_id=population_charts.MAP_ID,
        data=data,
        flagged=len({f.path for f in data.findings}),
        suggested=_suggested_counts(data.findings),
        test_findings=len(in_test),
        test_images=len({f.path for f in in_test}),
        issue_counts=_issue_counts(data.findings),
        label_issues=_findings_table(
            "label-issues-table",
            _ordered(data.findings, in_section(LABEL_ISSUES_SECTION)),
            data.thumbnails,
            sorted_by=("score", "descending"),
        ),
        duplicates=_findings_table(
            "duplicates-table",
            _ordered(data.findings, in_section(DUPLICATES_SECTION)),
            data.thumbnails,
        ),
        outliers=_findings_table(
            "outliers-table",
            _ordered(data.findings, in_section(OUTLIERS_SECTION)),
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
        **_test_tables(data),
        **_population_tables(data),
    )


def _population_tables(data: ReportData) -> dict[str, Table | None]:
    """The clusters by loss, with examples; the properties by their
    correlation with loss."""
    if data.population is None:
        return {"clusters": None, "correlations": None, "map_images": None}

    def examples(c: Cluster) -> Cell:
        return Cell(
            thumbnails=[
                Thumbnail(data.thumbnails.get(path), path)
                for path in c.examples
            ]
        )

    clusters = table(
        "clusters-table",
        [
            Column(
                "cluster", "Cluster", lambda c: num(c.cluster, str(c.cluster))
            ),
            number(
                "loss", "Mean loss / average", lambda c: c.loss_ratio, ".2f"
            ),
            number("errors", "Error rate", lambda c: c.error_rate, ".1%"),
            Column(
                "sizes",
                "Images per split",
                lambda c: _counts(
                    {s: c.sizes[s] for s in _ordered_splits(c.sizes)}
                ),
            ),
            Column(
                "labels",
                "Most frequent labels",
                lambda c: _counts(dict(c.labels)),
            ),
            Column("differs", "Differs most in (Cohen's d)", _effects),
            Column(
                "under",
                "Under-represented in train",
                lambda c: "yes" if c.under_represented else "",
            ),
            pictures("examples", "Highest-loss images", examples),
        ],
        data.population.clusters,
        sorted_by=("loss", "descending"),
        row_css=lambda c: "flagged" if c.under_represented else "",
    )
    correlations = table(
        "loss-correlations-table",
        [
            Column("property", "Image property", lambda c: c.property),
            number("rho", "Spearman's rho with loss", lambda c: c.rho, "+.2f"),
            number("p", "p-value", lambda c: c.p_value, ".1g"),
        ],
        data.population.correlations,
        sorted_by=None,
    )
    return {
        "clusters": clusters,
        "correlations": correlations,
        "map_images": _map_images_table(data),
    }


def _map_images_table(data: ReportData) -> Table:
    """A row per image on the map, which a click on its point reaches."""
    assert data.population is not None
    points = data.population.points
    finding_of = population_charts.first_finding(data.findings)
    shown = population_charts.shown_points(data.population)
    return table(
        "map-images-table",
        [
            Column("path", "Image", lambda i: points[i].path),
            Column("split", "Split", lambda i: points[i].split),
            Column("given", "Given label", lambda i: points[i].given_label),
            Column(
                "predicted",
                "Predicted label",
                lambda i: points[i].predicted_label,
            ),
            number("loss", "Loss", lambda i: points[i].loss, ".3f"),
            Column(
                "finding",
                "Finding",
                lambda i: finding_of.get(points[i].path, ""),
            ),
            Column(
                "cluster",
                "Cluster",
                lambda i: num(points[i].cluster, str(points[i].cluster)),
            ),
            number(
                "uniqueness",
                "Uniqueness",
                lambda i: points[i].uniqueness,
                ".2f",
            ),
            number(
                "representativeness",
                "Representativeness",
                lambda i: points[i].representativeness,
                ".2f",
            ),
        ],
        shown,
        row_css=lambda i: "" if points[i].correct else "wrong",
        row_id=population_charts.row_id,
    )


def _ordered_splits(splits: Iterable[str]) -> list[str]:
    """train, val, test first, then any other split by name."""
    found = set(splits)
    return [s for s in _SPLIT_ORDER if s in found] + sorted(
        found - set(_SPLIT_ORDER)
    )


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counts.items())


def _effects(c: Cluster) -> str:
    return ", ".join(f"{name} ({d:+.2f})" for name, d in c.effects)


def _test_tables(data: ReportData) -> dict[str, Table | None]:
    """The test split's accuracy per class and worst slices, if any."""
    if data.test is None:
        return {"test_per_class": None, "test_slices": None}
    return {
        "test_per_class": _per_class_table(
            data.class_names,
            data.test.per_class_accuracy,
            "test-per-class-accuracy",
        ),
        "test_slices": _slices_table(
            data.test.slices[:_TEST_SLICES], "test-slices"
        ),
    }


def _issue_name(issue: str) -> str:
    return title_of(issue)


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
    columns: list[Column[str]] = [
        Column("issue", "Issue", _issue_name),
        number("findings", "Findings", lambda issue: counts[issue]),
    ]
    return table("issue-counts", columns, [t.name for t in issue_types()])


def _has_image(issue: str) -> bool:
    return all(t.has_image for t in issue_types() if t.name == issue)


def _preview(thumbnails: Mapping[str, bytes]) -> Column[Finding]:
    def cell(f: Finding) -> Cell:
        # A broken file has no picture; say what is wrong instead.
        if not _has_image(f.issue):
            return Cell(f.detail, css="broken")
        return image(thumbnails.get(f.path), f.path)

    return pictures("thumbnail", "Image", cell)


def _suggested_action(f: Finding) -> str:
    """ "relabel to x", "remove", "review" or nothing."""
    if f.suggested_action == RELABEL:
        return f"relabel to {f.suggested_label}"
    return f.suggested_action


_PATH: Column[Finding] = Column("path", "Path", lambda f: f.path)
_SPLIT: Column[Finding] = Column("split", "Split", lambda f: f.split)
_FINDING_TAIL: list[Column[Finding]] = [
    Column("given", "Given label", lambda f: f.given_label),
    Column(
        "suggested",
        "Suggested action",
        lambda f: Cell(
            _suggested_action(f), css=f"action-{f.suggested_action}"
        ),
    ),
    number(
        "confidence",
        "Confidence",
        lambda f: f.confidence if f.suggested_action else None,
        ".3f",  # as issues.csv gives it to `dcp fix`
    ),
    number("score", "Score", lambda f: f.score, ".4f"),
]


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
    issue: list[Column[Finding]] = []
    if table_id == "label-issues-table":
        detail: Column[Finding] = Column(
            "detail", "Evidence", lambda f: f.detail
        )
    else:
        issue = [Column("issue", "Issue", lambda f: _issue_name(f.issue))]
        detail = Column("detail", "Detail", lambda f: f.detail)
    columns = [
        _preview(thumbnails),
        _PATH,
        _SPLIT,
        *issue,
        *_FINDING_TAIL,
        detail,
    ]

    def conflict(f: Finding) -> str:
        """The worst duplicates: the same image under two labels."""
        differ = "labels differ" in f.detail.lower()
        duplicate = f.issue in in_section(DUPLICATES_SECTION)
        return "conflict" if duplicate and differ else ""

    return table(
        table_id, columns, findings, sorted_by=sorted_by, row_css=conflict
    )


def _balance_table(
    counts: Mapping[str, Mapping[str, int]],
    splits: Sequence[str],
    classes: Sequence[str],
) -> Table | None:
    """A row per class, images per split and in all, totals below."""
    if not splits:
        return None
    rows = [
        (name, [counts[split].get(name, 0) for split in splits])
        for name in classes
    ]
    totals = [
        sum(counts[split].get(name, 0) for name in classes) for split in splits
    ]

    def count(index: int) -> Column[tuple[str, list[int]]]:
        split = splits[index]
        return number(f"split-{split}", split, lambda r: r[1][index], ",")

    columns = [
        Column("class", "Class", lambda r: r[0]),
        *(count(i) for i in range(len(splits))),
        number("total", "Total", lambda r: sum(r[1]), ","),
    ]
    return table("balance-table", columns, rows, footer=("Total", totals))


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

    columns: list[Column[str]] = [
        Column("class", "Class", lambda name: name),
        number("accuracy", "Accuracy", per_class_accuracy.__getitem__, ".1%"),
    ]
    return table(table_id, columns, classes)


def _confusion(data: ReportData) -> Table | None:
    """A row per actual class, a column per predicted one."""
    if not data.confusion:
        return None
    labels = _labels(
        data.class_names, (label for pair in data.confusion for label in pair)
    )

    def predicted(index: int) -> Column[str]:
        def cell(actual: str) -> Cell:
            n = data.confusion.get((actual, labels[index]), 0)
            diagonal = labels[index] == actual
            return Cell(f"{n:,}", n, "num diagonal" if diagonal else "num")

        return Column(f"predicted-{index}", labels[index], cell)

    def total(actual: str) -> int:
        return sum(data.confusion.get((actual, p), 0) for p in labels)

    columns: list[Column[str]] = [
        Column("actual", "Actual \\ predicted", lambda actual: actual),
        *(predicted(i) for i in range(len(labels))),
        number("total", "Total", total, ","),
    ]
    return table("confusion", columns, labels)


_SLICE_COLUMNS: list[Column[SliceRow]] = [
    Column("feature", "Feature", lambda s: s.feature),
    number("value", "Bucket", lambda s: s.value),
    number("accuracy", "Accuracy", lambda s: s.accuracy, ".1%"),
    number("examples", "Examples", lambda s: s.examples, ","),
]


def _slices_table(slices: Sequence[SliceRow], table_id: str) -> Table | None:
    return table(table_id, _SLICE_COLUMNS, slices) if slices else None


def _misclassified(data: ReportData) -> Table | None:
    if not data.misclassified:
        return None
    columns: list[Column[Misclassified]] = [
        pictures(
            "thumbnail",
            "Image",
            lambda m: image(data.thumbnails.get(m.path), m.path),
        ),
        Column("path", "Path", lambda m: m.path),
        Column("given", "Given label", lambda m: m.given_label),
        Column("predicted", "Predicted label", lambda m: m.predicted_label),
        number("confidence", "Confidence", lambda m: m.confidence, ".3f"),
    ]
    return table("misclassified", columns, data.misclassified)
