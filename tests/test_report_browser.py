"""The HTML report in a real headless Chromium: it renders, its scripts
run, its charts draw and its tables sort. A screenshot of the charts is
kept in tests/artifacts/ to look at."""

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from components.quality_report.html_report import render_report
from components.quality_report.population_charts import (
    COLOUR_PARAM,
    MAP_ID,
    small_thumbnails,
)
from components.quality_report.report_data import ReportData
from core.findings.types import BROKEN_FILE
from core.pages.render import content_security_policy
from core.population.density import uniqueness_and_representativeness
from core.population.insights import (
    cluster_images,
    loss_correlations,
    rank_clusters,
)
from core.population.points import ImagePoint, Population
from core.population.projection import map_2d
from tests.test_html_report import (
    EVIL_PATH,
    SECTION_IDS,
    Page,
    make_findings,
    make_report,
    png,
)

WINDOW = (1280, 2000)
ARTIFACTS = Path(__file__).parent / "artifacts"
# Enough virtual time for Vega to draw every chart before the dump.
CHART_TIME_MS = "--virtual-time-budget=20000"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is not installed: run `make browser`", pytrace=False
        )
    return found


def run_chromium(tmp_path: Path, *arguments: str) -> str:
    """Chromium's stdout; its own profile keeps runs independent."""
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            *arguments,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def dump_dom(tmp_path: Path, *arguments: str) -> str:
    return run_chromium(tmp_path, "--dump-dom", *arguments)


def thumbnails_shown(report: ReportData) -> int:
    """Every finding and misclassified image is listed once; all with a
    thumbnail show it, except broken files."""
    paths = [f.path for f in report.findings if f.issue != BROKEN_FILE]
    paths += [m.path for m in report.misclassified]
    return sum(path in report.thumbnails for path in paths)


@pytest.fixture
def report(digit_images) -> ReportData:
    return make_report(digit_images, make_findings())


@pytest.fixture
def report_url(report, tmp_path: Path) -> str:
    path = tmp_path / "report.html"
    path.write_text(render_report(report), encoding="utf-8")
    return path.as_uri()


def test_screenshot_shows_a_rendered_page(report_url, tmp_path: Path):
    screenshot = tmp_path / "report.png"
    run_chromium(
        tmp_path,
        f"--screenshot={screenshot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        report_url,
    )
    assert screenshot.is_file()
    with Image.open(screenshot) as image:
        assert image.format == "PNG"
        assert image.size == WINDOW
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 0


def test_dom_after_scripts_has_sections_and_thumbnails(
    report, report_url, tmp_path: Path
):
    dom = dump_dom(tmp_path, report_url)
    page = Page(dom)
    assert page.section_ids == list(SECTION_IDS)
    assert len(page.images) == thumbnails_shown(report)
    assert "<script>alert(1)</script>" not in dom
    # The sorter made every sortable header reachable by keyboard ...
    assert dom.count('data-key="') == dom.count('tabindex="0"') > 0
    # ... and, with no #sort= in the URL, left the rendered order alone.
    assert not [
        table
        for table, attributes in page.table_attributes.items()
        if "data-sorted" in attributes
    ]
    assert page.column("label-issues-table", 1)[0] == EVIL_PATH


@pytest.mark.parametrize(
    ("table", "sort", "column", "expected"),
    [
        # Plain string order would be 10, 100, 9.
        ("slices", "examples:asc", 3, ["9", "10", "100"]),
        ("slices", "examples:desc", 3, ["100", "10", "9"]),
        ("label-issues-table", "score:asc", 6, ["0.0712", "0.6100", "0.9300"]),
        ("misclassified", "confidence:asc", 4, ["0.640", "0.970"]),
    ],
)
def test_sort_link_sorts_the_table_in_the_browser(
    report_url, tmp_path: Path, table, sort, column, expected
):
    page = Page(dump_dom(tmp_path, f"{report_url}#sort={table}:{sort}"))
    assert page.column(table, column) == expected
    assert page.table_attributes[table]["data-sorted"] == sort


def test_every_chart_draws_within_the_pages_policy(report_url, tmp_path: Path):
    page = Path(report_url.removeprefix("file://")).read_text()
    specs = page.count('class="chart-spec"')
    assert specs == 5
    dom = dump_dom(tmp_path, CHART_TIME_MS, report_url)
    # Vega drew an SVG into each chart's element.
    assert len(re.findall(r'<svg [^>]*class="marks"', dom)) == specs
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report-charts.png"
    run_chromium(
        tmp_path,
        CHART_TIME_MS,
        f"--screenshot={screenshot}",
        "--window-size=1280,5200",
        report_url,
    )
    with Image.open(screenshot) as image:
        assert image.size == (1280, 5200)


def with_population(report: ReportData, digit_images) -> ReportData:
    """`report` with the population of 40 real digit scans, their pixels
    as the embedding: 4 clusters, 3 splits, 2 labels."""
    embeddings = np.stack([i.reshape(-1) / 255.0 for i in digit_images])
    n = len(embeddings)
    paths = [
        f"{('train', 'val', 'test')[i % 3]}/{i % 2}/{i}.png" for i in range(n)
    ]
    split = np.array([path.split("/")[0] for path in paths])
    labels = [path.split("/")[1] for path in paths]
    # A stand-in for the model's loss: the distance to the mean scan.
    loss = np.linalg.norm(embeddings - embeddings.mean(axis=0), axis=1)
    correct = loss < np.median(loss)
    brightness = embeddings.mean(axis=1)
    assignment = cluster_images(embeddings, 4, seed=0)
    points = map_2d(embeddings, seed=0)
    unique, typical = uniqueness_and_representativeness(embeddings)
    clusters = rank_clusters(
        assignment,
        loss=loss,
        correct=correct,
        split=split,
        labels=labels,
        properties={"brightness": brightness},
        paths=paths,
    )
    population = Population(
        points=[
            ImagePoint(
                path=paths[i],
                split=str(split[i]),
                given_label=labels[i],
                predicted_label=labels[i] if correct[i] else "other",
                loss=float(loss[i]),
                correct=bool(correct[i]),
                x=float(points[i, 0]),
                y=float(points[i, 1]),
                cluster=int(assignment[i]),
                uniqueness=float(unique[i]),
                representativeness=float(typical[i]),
            )
            for i in range(n)
        ],
        clusters=clusters,
        correlations=loss_correlations(loss, {"brightness": brightness}),
        top_insight="cluster 1 (mostly 0) has 1.5 times the average loss",
        properties={"brightness": brightness.tolist()},
    )
    pngs = [png(image) for image in digit_images]
    return dataclasses.replace(
        report,
        population=population,
        map_thumbnails=small_thumbnails(paths, pngs),
        thumbnails={
            **report.thumbnails,
            **dict(zip(paths, pngs, strict=True)),
        },
    )


def map_fills(dom: str) -> list[str]:
    """The fill colour of each point the map drew."""
    start = dom.index(f'id="{MAP_ID}"')
    end = dom.index("</svg>", start)
    return re.findall(
        r'<path [^>]*aria-roledescription="circle"[^>]*fill="([^"]+)"',
        dom[start:end],
    )


def test_the_map_draws_every_image_and_switches_its_colours(
    report, digit_images, tmp_path: Path
):
    mapped = with_population(report, digit_images)
    path = tmp_path / "report.html"
    path.write_text(render_report(mapped), encoding="utf-8")
    by_split = map_fills(dump_dom(tmp_path, CHART_TIME_MS, path.as_uri()))
    assert len(by_split) == len(mapped.population.points) == 40
    assert len(set(by_split)) == 3  # train, val, test
    by_cluster = map_fills(
        dump_dom(
            tmp_path,
            CHART_TIME_MS,
            f"{path.as_uri()}#{COLOUR_PARAM}=cluster",
        )
    )
    assert len(by_cluster) == 40
    assert len(set(by_cluster)) == len(mapped.population.clusters) == 4
    assert by_cluster != by_split
    # Each cluster's highest-loss images show as thumbnails.
    page = Page(dump_dom(tmp_path, path.as_uri()))
    shown = sum(len(c.examples) for c in mapped.population.clusters)
    assert len(page.images) == thumbnails_shown(report) + shown
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report-map.png"
    run_chromium(
        tmp_path,
        CHART_TIME_MS,
        f"--screenshot={screenshot}",
        "--window-size=1280,7000",
        path.as_uri(),
    )
    with Image.open(screenshot) as image:
        assert np.asarray(image.convert("L")).std() > 0


# Clicks the map's 7th point once Vega drew it, as a person would, and
# notes in the page which image it was (Vega keeps the item on the
# element) and where the page went.
CLICK_A_POINT = (
    f"const map = {json.dumps(MAP_ID)};"
    + """
const clickWhenDrawn = () => {
  const points = document.querySelectorAll(
    `#${map} path[aria-roledescription="circle"]`);
  if (points.length < 7) return setTimeout(clickWhenDrawn, 50);
  const point = points[6];
  window.addEventListener("hashchange", () => {
    document.body.dataset.clicked = point.__data__.datum.path;
    document.body.dataset.reached = location.hash;
  });
  point.dispatchEvent(new MouseEvent("click", { bubbles: true }));
};
clickWhenDrawn();
"""
)


def with_script(page: str, script: str) -> str:
    """`page` with `script` run last and allowed by the page's policy."""
    allowed = content_security_policy([script]).split("script-src ")[1]
    page = page.replace("script-src ", f"script-src {allowed} ", 1)
    end = page.rindex("</body>")
    return f"{page[:end]}<script>{script}</script>{page[end:]}"


def test_a_click_on_the_map_goes_to_the_images_row(
    report, digit_images, tmp_path: Path
):
    mapped = with_population(report, digit_images)
    path = tmp_path / "report.html"
    path.write_text(
        with_script(render_report(mapped), CLICK_A_POINT), encoding="utf-8"
    )
    dom = dump_dom(tmp_path, CHART_TIME_MS, path.as_uri())
    clicked = re.search(r'data-clicked="([^"]+)"', dom)
    reached = re.search(r'data-reached="#([^"]+)"', dom)
    assert clicked and reached, "the click went nowhere"
    row = re.search(rf'<tr id="{reached.group(1)}"[^>]*><td>([^<]+)</td>', dom)
    assert row is not None
    assert row.group(1) == clicked.group(1)
    # Every point has its row.
    page = Page(dom)
    assert sorted(page.column("map-images-table", 0)) == sorted(
        p.path for p in mapped.population.points
    )
