"""The HTML data-quality report and issues.csv, on real digit images."""

import base64
import dataclasses
import hashlib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from PIL import Image

from components.quality_report import report_data as rd
from components.quality_report.html_report import render_report
from core.findings import finding as fd
from core.findings import types as ft
from core.findings.issues_csv import (
    read_issues_csv,
    write_issues_csv,
)
from core.pages.charts import charts_script
from core.pages.files import static_file

EVIL = "<script>alert(1)</script>&\"'"
EVIL_PATH = f"train/7/{EVIL}.png"
SECTION_IDS = (
    "summary",
    "label-issues",
    "duplicates",
    "outliers",
    "balance",
    "errors",
    "population",
)
CONFUSION = {
    ("1", "1"): 173,
    ("1", "7"): 29,
    ("7", "1"): 11,
    ("7", "7"): 158,
    (EVIL, EVIL): 41,
    (EVIL, "1"): 3,
}


class Page(HTMLParser):
    """What the tests look at in a page: section ids, images, and the
    text of every table cell by table id."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.section_ids: list[str] = []
        self.images: list[dict[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.table_attributes: dict[str, dict[str, str]] = {}
        self.row_classes: dict[str, list[str]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_body = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "section":
            self.section_ids.append(attributes["id"])
        elif tag == "img":
            self.images.append(attributes)
        elif tag == "table":
            self._table = attributes["id"]
            self.tables[self._table] = []
            self.table_attributes[self._table] = attributes
            self.row_classes[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table:
            self.tables[self._table].append([])
            self.row_classes[self._table].append(attributes.get("class", ""))
        elif tag in ("td", "th") and self._in_body:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def column(self, table_id: str, index: int) -> list[str]:
        return [row[index] for row in self.tables[table_id]]


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_data_url(src: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :])))
    assert image.format == "PNG"
    return np.asarray(image)


def finding(path: str, issue: str, score: float, **fields) -> fd.Finding:
    fields.setdefault("given_label", path.split("/")[1])
    return fd.Finding(
        path=path,
        sha256=hashlib.sha256(path.encode()).hexdigest(),
        split=path.split("/")[0],
        issue=issue,
        score=score,
        **fields,
    )


def make_findings() -> list[fd.Finding]:
    """At least one finding of every issue type, some without pictures."""
    return [
        finding(
            "train/1/0003.png",
            ft.LABEL_ISSUE,
            0.61,
            suggested_label="7",
            suggested_action=fd.REMOVE,
            confidence=0.8,
        ),
        finding(
            EVIL_PATH,
            ft.LABEL_ISSUE,
            0.93,
            suggested_label=EVIL,
            suggested_action=fd.RELABEL,
            confidence=0.97,
        ),
        finding("train/7/0012.png", ft.LABEL_ISSUE, 0.0712),
        finding(
            "val/1/0044.png",
            ft.EXACT_DUPLICATE,
            1.0,
            detail="same bytes as train/7/0012.png (labels differ: 1 vs 7)",
        ),
        finding(
            "test/7/0045.png",
            ft.NEAR_DUPLICATE,
            0.88,
            detail="shifted copy of train/7/0012.png",
        ),
        finding(
            "train/1/0099.png",
            ft.BROKEN_FILE,
            1.0,
            detail="truncated PNG: image file is truncated",
        ),
        finding("train/7/0100.png", ft.BLANK, 1.0, detail="one gray level"),
        finding("train/7/0101.png", ft.DARK, 0.8),
        finding("train/1/0102.png", ft.LIGHT, 0.7),
        finding("val/7/0103.png", ft.BLURRY, 0.6),
        finding("val/1/0104.png", ft.ODD_SIZE, 0.5, detail="32x7 pixels"),
        finding("test/1/0105.png", ft.GRAYSCALE, 0.4),
        finding("test/7/0106.png", ft.OUTLIER, 0.3),
    ]


def make_report(
    digit_images: list[np.ndarray], findings: list[fd.Finding]
) -> rd.ReportData:
    misclassified = [
        rd.Misclassified("test/1/0200.png", "1", "7", 0.97),
        rd.Misclassified("test/7/0201.png", "7", "1", 0.64),
    ]
    # The broken file and the outlier have no thumbnail.
    no_picture = {"train/1/0099.png", "test/7/0106.png"}
    shown = [f.path for f in findings if f.path not in no_picture]
    shown += [m.path for m in misclassified]
    pixels = dict(zip(shown, digit_images, strict=False))
    return rd.ReportData(
        title=f"digits {EVIL}",
        class_names=["1", "7", EVIL],
        findings=findings,
        counts={
            "train": {"1": 900, "7": 300, EVIL: 250},
            "val": {"1": 400, "7": 117, EVIL: 100},
            "test": {"1": 90, "7": 80, EVIL: 30},
        },
        budget=10_000,
        accuracy=0.8312,
        per_class_accuracy={"1": 0.856, "7": 0.935, EVIL: 0.932},
        confusion=CONFUSION,
        slices=[
            rd.SliceRow("brightness_bucket", 3, 0.412, 100),
            rd.SliceRow("brightness_bucket", 0, 0.733, 9),
            rd.SliceRow("blur_bucket", 2, 0.801, 10),
        ],
        misclassified=misclassified,
        thumbnails={path: png(image) for path, image in pixels.items()},
        notes=[f"label issues by confident learning on {EVIL}"],
        property_histograms=[
            rd.PropertyHistogram(
                "brightness",
                [0.0, 0.25, 0.5, 0.75, 1.0],
                {"train": [10, 60, 25, 5], "test": [2, 5, 9, 4]},
            ),
            rd.PropertyHistogram(
                EVIL, [0.0, 1.0, 2.0], {"train": [3, 1], "val": [1, 1]}
            ),
        ],
    )


@pytest.fixture
def report(digit_images) -> rd.ReportData:
    return make_report(digit_images, make_findings())


@pytest.fixture
def page(report) -> str:
    return render_report(report)


@pytest.fixture
def parsed(page) -> Page:
    return Page(page)


def test_user_strings_are_escaped(page):
    assert "<script>alert(1)</script>" not in page
    assert escape(EVIL) in page
    # The only scripts that run are the kit's sorter and charts; the
    # others are the charts' JSON data, which run nothing.
    assert re.findall(r"<script>(.*?)</script>", page, re.DOTALL) == [
        static_file("sort_tables.js"),
        charts_script(),
    ]
    specs = re.findall(
        r'<script type="application/json" class="chart-spec"', page
    )
    assert page.count("<script") == 2 + len(specs)


def test_every_section_is_present(parsed):
    assert parsed.section_ids == list(SECTION_IDS)


def test_page_needs_no_network(page, parsed):
    for scheme in ("http:", "https:", "//"):
        assert f'src="{scheme}' not in page
        assert f'href="{scheme}' not in page
    assert "<link" not in page
    assert all(i["src"].startswith("data:image/png") for i in parsed.images)


def test_thumbnails_decode_to_the_same_pixels(report, parsed):
    assert parsed.images
    originals = {
        path: np.asarray(Image.open(io.BytesIO(data)))
        for path, data in report.thumbnails.items()
    }
    for image in parsed.images:
        # alt holds the path, unescaped by the parser.
        np.testing.assert_array_equal(
            decode_data_url(image["src"]), originals[image["alt"]]
        )
    assert EVIL_PATH in {image["alt"] for image in parsed.images}


def test_label_issues_sorted_by_score_with_escaped_labels(parsed):
    rows = parsed.tables["label-issues-table"]
    assert [row[1] for row in rows] == [
        EVIL_PATH,
        "train/1/0003.png",
        "train/7/0012.png",
    ]
    assert [row[6] for row in rows] == ["0.9300", "0.6100", "0.0712"]
    # the suggested action, with the new label escaped, and its confidence
    assert [row[4:6] for row in rows] == [
        [f"relabel to {EVIL}", "0.970"],
        ["remove", "0.800"],
        ["", ""],
    ]


def test_the_summary_counts_the_suggested_actions(page):
    assert "Suggested actions, by finding: relabel 1, remove 1." in page


def test_the_summary_counts_the_findings_in_test(report, page):
    assert "3 findings on 3 images of test." in page
    without_test = [f for f in report.findings if f.split != "test"]
    assert "images of test" not in render_report(
        dataclasses.replace(report, findings=without_test)
    )


def test_conflicting_duplicates_are_highlighted(parsed):
    rows = parsed.tables["duplicates-table"]
    classes = parsed.row_classes["duplicates-table"]
    by_path = {row[1]: css for row, css in zip(rows, classes, strict=True)}
    assert by_path == {"val/1/0044.png": "conflict", "test/7/0045.png": ""}


def test_broken_file_shows_its_detail_and_missing_thumbnail_a_placeholder(
    parsed,
):
    rows = {row[1]: row for row in parsed.tables["outliers-table"]}
    assert rows["train/1/0099.png"][0] == (
        "truncated PNG: image file is truncated"
    )
    assert rows["test/7/0106.png"][0] == "no preview"
    shown = {image["alt"] for image in parsed.images}
    assert "train/1/0099.png" not in shown
    assert "train/7/0100.png" in shown
    assert [row[3] for row in parsed.tables["outliers-table"]] == [
        "broken file",
        "blank",
        "dark",
        "light",
        "blurry",
        "odd size",
        "grayscale",
        "outlier",
    ]


def test_thumbnail_that_is_not_a_png_is_a_placeholder(digit_images):
    report = make_report(digit_images, make_findings())
    thumbnails = dict(report.thumbnails)
    thumbnails["train/7/0012.png"] = b"GIF89a not a png"
    parsed = Page(
        render_report(dataclasses.replace(report, thumbnails=thumbnails))
    )
    rows = {row[1]: row for row in parsed.tables["label-issues-table"]}
    assert rows["train/7/0012.png"][0] == "no preview"
    assert "train/7/0012.png" not in {i["alt"] for i in parsed.images}


def test_summary_counts_findings_per_issue_type(parsed):
    counts = dict(parsed.tables["issue-counts"])
    assert counts["label issue"] == "3"
    for issue in ft.ISSUE_TYPES[1:]:
        assert counts[issue.replace("_", " ")] == "1"


def test_summary_shows_title_accuracy_and_notes(page):
    assert f"<h1>digits {escape(EVIL)}</h1>" in page
    assert "Accuracy on the evaluation images: 83.1%" in page
    assert f"confident learning on {escape(EVIL)}</li>" in page


def test_balance_totals_ratio_and_budget(parsed, page):
    rows = {row[0]: row[1:] for row in parsed.tables["balance-table"]}
    assert rows["1"] == ["900", "400", "90", "1,390"]
    assert rows[EVIL] == ["250", "100", "30", "380"]
    # largest / smallest train class: 900 / 250
    assert "3.60 (1: 900, " in page
    assert "2,067 of 10,000 images (21%)" in page
    assert 'style="width: 20.7%"' in page


def test_confusion_matrix_has_actual_rows_and_predicted_columns(parsed):
    labels = ["1", "7", EVIL]
    rows = parsed.tables["confusion"]
    assert [row[0] for row in rows] == labels
    matrix = [
        [int(cell.replace(",", "")) for cell in row[1:4]] for row in rows
    ]
    expected = [
        [CONFUSION.get((actual, predicted), 0) for predicted in labels]
        for actual in labels
    ]
    assert matrix == expected
    assert [row[4] for row in rows] == ["202", "169", "44"]


def test_confusion_diagonal_is_highlighted(page):
    for n in (173, 158, 41):
        assert f'<td class="num diagonal" data-value="{n}">{n}</td>' in page
    assert 'class="num diagonal" data-value="29"' not in page


def test_error_analysis_tables(parsed):
    assert parsed.tables["per-class-accuracy"] == [
        ["1", "85.6%"],
        ["7", "93.5%"],
        [EVIL, "93.2%"],
    ]
    assert parsed.column("slices", 3) == ["100", "9", "10"]
    assert parsed.tables["misclassified"][0][1:] == [
        "test/1/0200.png",
        "1",
        "7",
        "0.970",
    ]


def test_the_test_split_is_shown_only_when_measured(report):
    assert "The test split" not in render_report(report)
    with_test = dataclasses.replace(
        report,
        test=rd.TestFigures(
            examples=200,
            accuracy=0.8,
            int8_accuracy=0.795,
            per_class_accuracy={"1": 0.9, EVIL: 0.6},
            slices=[rd.SliceRow("blur_bucket", 1, 0.5, 40)],
        ),
    )
    page = render_report(with_test)
    assert (
        "Accuracy on the 200 test images: 80.0%, as TFLite int8 79.5%." in page
    )
    parsed = Page(page)
    assert parsed.tables["test-per-class-accuracy"] == [
        ["1", "90.0%"],
        [EVIL, "60.0%"],
    ]
    assert parsed.tables["test-slices"] == [
        ["blur_bucket", "1", "50.0%", "40"]
    ]
    # Eval's tables are unchanged beside it.
    assert parsed.column("slices", 3) == ["100", "9", "10"]


def test_tables_are_sortable(parsed):
    assert parsed.tables
    for attributes in parsed.table_attributes.values():
        assert attributes["class"] == "sortable"


def test_thumbnails_are_pixelated(page):
    assert "image-rendering: pixelated" in page


def test_empty_report_says_so_in_words():
    empty = rd.ReportData(
        title="empty",
        class_names=[],
        findings=[],
        counts={},
        budget=0,
        accuracy=None,
        per_class_accuracy={},
        confusion={},
        slices=[],
        misclassified=[],
        thumbnails={},
    )
    page = render_report(empty)
    for message in (
        "No label issues found.",
        "No duplicates found.",
        "No outliers or broken files found.",
        "No images were counted.",
        "No evaluation ran, so there is no error analysis.",
    ):
        assert message in page
    assert Page(page).section_ids == list(SECTION_IDS)


def test_issues_csv_round_trip(tmp_path: Path):
    findings = [
        *make_findings(),
        finding(
            "val/7/0300.png",
            ft.EXACT_DUPLICATE,
            0.123456,
            detail='copy of "a, b"\nsecond line',
        ),
    ]
    path = str(tmp_path / "issues.csv")
    write_issues_csv(list(reversed(findings)), path)

    header = Path(path).read_text().splitlines()[0]
    assert header == ",".join(fd.ISSUE_COLUMNS)
    rows = read_issues_csv(path)
    assert len(rows) == len(findings)
    assert all(list(row) == list(fd.ISSUE_COLUMNS) for row in rows)
    assert all(row["action"] == "" for row in rows)
    issues = [row["issue"] for row in rows]
    assert issues == sorted(issues, key=ft.ISSUE_TYPES.index)
    assert [row["path"] for row in rows[:3]] == [
        EVIL_PATH,
        "train/1/0003.png",
        "train/7/0012.png",
    ]
    by_path = {row["path"]: row for row in rows}
    assert by_path["val/7/0300.png"]["score"] == "0.1235"
    assert by_path["val/7/0300.png"]["detail"] == 'copy of "a, b"\nsecond line'
    assert by_path[EVIL_PATH]["suggested_label"] == EVIL
    assert by_path["train/7/0012.png"]["score"] == "0.0712"


def test_issues_csv_keeps_columns_a_reviewer_added(tmp_path: Path):
    path = tmp_path / "issues.csv"
    write_issues_csv(make_findings()[:1], str(path))
    lines = path.read_text().splitlines()
    path.write_text(f"{lines[0]},comment\n{lines[1]}remove,dup\n")
    (row,) = read_issues_csv(str(path))
    assert row["action"] == "remove"
    assert row["comment"] == "dup"


def test_issues_csv_with_a_wrong_header_names_file_and_columns(
    tmp_path: Path,
):
    path = tmp_path / "issues.csv"
    path.write_text("path,sha256,split,issue,score,label\na,b,c,d,0.1,e\n")
    with pytest.raises(ValueError, match="missing columns") as error:
        read_issues_csv(str(path))
    message = str(error.value)
    assert str(path) in message
    for column in ("given_label", "suggested_label", "detail", "action"):
        assert column in message
    assert "sha256" not in message


def test_issues_csv_rejects_unknown_issue_types(tmp_path: Path):
    with pytest.raises(ValueError, match="mislabelled"):
        write_issues_csv(
            [finding("train/1/a.png", "mislabelled", 0.5)],
            str(tmp_path / "issues.csv"),
        )
