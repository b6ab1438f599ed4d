"""The shift report as one self-contained page of the page kit
(components/pages): what shift.html shows, as tables and figures, with
the embedding plot as inline SVG and thumbnails as data: URLs."""

import dataclasses
import io
from collections.abc import Sequence

import numpy as np
from markupsafe import Markup
from PIL import Image

from components.pages.render import render_page
from components.pages.table import (
    Cell,
    Column,
    Table,
    Thumbnail,
    image,
    num,
    row,
)
from iteration.new_data.folder_images import UnreadableFile
from iteration.new_data.shift import Cluster, EmbeddingTest, PropertyDrift

THUMBNAIL_PX = 48
TOP_CANDIDATES = 30  # shown in the report; all are in candidates.csv
PLOT_POINTS = 1500  # at most, per source, in the embedding plot
SOURCE_COLOURS = {
    "train": "#4477aa",
    "new": "#ee6677",
    "candidates": "#228833",
}
_PLOT_WIDTH, _PLOT_HEIGHT, _MARGIN = 560, 420, 40


@dataclasses.dataclass(frozen=True)
class CandidateRow:
    path: str  # relative to the candidates folder
    score: float  # log(distance to train / distance to new); high first
    distance_to_new: float
    distance_to_train: float
    cluster: int
    under_represented_cluster: bool
    png: bytes


@dataclasses.dataclass(frozen=True)
class ShiftReport:
    run_id: str
    new_folder: str
    candidates_folder: str  # "" without candidates
    train_count: int
    new_count: int
    candidate_count: int
    alpha: float
    shifted: bool
    drifts: list[PropertyDrift]
    test: EmbeddingTest
    clusters: list[Cluster]
    cluster_examples: dict[int, list[tuple[str, bytes]]]  # path, PNG
    candidates: list[CandidateRow]  # ranked
    new_unreadable: list[UnreadableFile]
    candidate_unreadable: list[UnreadableFile]
    projection: dict[str, np.ndarray]  # source → [n, 2] PCA coordinates
    explained_variance: tuple[float, float]


def render_shift_report(report: ShiftReport) -> str:
    return render_page(
        "shift.html",
        title=f"Shift: {report.new_folder} against run {report.run_id}",
        report=report,
        properties=_properties(report.drifts),
        plot=Markup(scatter_svg(report.projection, report.explained_variance)),
        clusters=_clusters(report),
        shown=report.candidates[:TOP_CANDIDATES],
        candidates=_candidates(report),
        unreadable=_unreadable(report),
    )


def thumbnail(png: bytes) -> bytes:
    """The image shrunk to at most THUMBNAIL_PX a side, as PNG."""
    with Image.open(io.BytesIO(png)) as image:
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def scatter_svg(
    points: dict[str, np.ndarray], explained_variance: tuple[float, float]
) -> str:
    """PCA coordinates of each source as an SVG scatter plot."""
    shown = {
        source: xy[:: max(1, -(-len(xy) // PLOT_POINTS))]
        for source, xy in points.items()
        if len(xy)
    }
    every = np.concatenate(list(shown.values()))
    low, high = every.min(axis=0), every.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    inner = np.array([_PLOT_WIDTH - 2 * _MARGIN, _PLOT_HEIGHT - 2 * _MARGIN])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_PLOT_WIDTH}"'
        f' height="{_PLOT_HEIGHT}" role="img"'
        ' aria-label="embeddings by source, first two principal components">',
        f'<rect x="{_MARGIN}" y="{_MARGIN}" width="{inner[0]}"'
        f' height="{inner[1]}" fill="none" stroke="#bbb"/>',
    ]
    for source, xy in shown.items():
        scaled = (xy - low) / span * inner
        colour = SOURCE_COLOURS[source]
        parts.append(f'<g fill="{colour}" fill-opacity="0.5">')
        parts.extend(
            f'<circle cx="{_MARGIN + x:.1f}"'
            f' cy="{_PLOT_HEIGHT - _MARGIN - y:.1f}" r="2"/>'
            for x, y in scaled
        )
        parts.append("</g>")
    for column, source in enumerate(shown):
        x = _MARGIN + 130 * column
        parts.append(
            f'<circle cx="{x + 4}" cy="{_MARGIN / 2}" r="4"'
            f' fill="{SOURCE_COLOURS[source]}"/><text x="{x + 12}"'
            f' y="{_MARGIN / 2 + 4}" font-size="12">{source}:'
            f" {len(points[source]):,}</text>"
        )
    first, second = explained_variance
    parts.append(
        f'<text x="{_PLOT_WIDTH / 2}" y="{_PLOT_HEIGHT - 10}"'
        f' font-size="12" text-anchor="middle">PC1 ({first:.0%} of the'
        " variance)</text>"
        f'<text x="12" y="{_PLOT_HEIGHT / 2}" font-size="12"'
        f' text-anchor="middle" transform="rotate(-90 12'
        f' {_PLOT_HEIGHT / 2})">PC2 ({second:.0%})</text></svg>'
    )
    return "\n".join(parts)


def _properties(drifts: Sequence[PropertyDrift]) -> Table:
    rows = [
        row(
            d.name,
            num(d.statistic, f"{d.statistic:.3f}"),
            num(d.p_value, f"{d.p_value:.3g}"),
            num(d.train_median, f"{d.train_median:.4g}"),
            num(d.new_median, f"{d.new_median:.4g}"),
            "drifted" if d.drifted else "",
            css="flagged" if d.drifted else "",
        )
        for d in drifts
    ]
    columns = [
        Column("property", "property"),
        Column("d", "D"),
        Column("p", "p"),
        Column("train-median", "median, train"),
        Column("new-median", "median, new"),
        Column("drifted", ""),
    ]
    return Table("properties-table", columns, rows)


def _clusters(report: ShiftReport) -> Table:
    rows = [
        row(
            num(c.index, str(c.index)),
            num(c.new_count, f"{c.new_count:,} ({c.new_share:.1%})"),
            num(c.train_count, f"{c.train_count:,} ({c.train_share:.1%})"),
            num(c.p_value, f"{c.p_value:.3g}"),
            "under-represented" if c.under_represented else "",
            Cell(
                thumbnails=[
                    Thumbnail(thumbnail(png), path)
                    for path, png in report.cluster_examples[c.index]
                ]
            ),
            css="flagged" if c.under_represented else "",
        )
        for c in report.clusters
    ]
    columns = [
        Column("cluster", "cluster"),
        Column("new", "new"),
        Column("train", "train"),
        Column("p", "p"),
        Column("under-represented", ""),
        Column("examples", "new images nearest its centre", sortable=False),
    ]
    return Table("clusters-table", columns, rows)


def _candidates(report: ShiftReport) -> Table:
    rows = [
        row(
            num(rank, str(rank)),
            image(thumbnail(c.png), c.path),
            c.path,
            num(c.score, f"{c.score:.3f}"),
            num(c.distance_to_new, f"{c.distance_to_new:.3g}"),
            num(c.distance_to_train, f"{c.distance_to_train:.3g}"),
            num(
                c.cluster,
                f"{c.cluster}"
                + (
                    " (under-represented)"
                    if c.under_represented_cluster
                    else ""
                ),
            ),
        )
        for rank, c in enumerate(report.candidates[:TOP_CANDIDATES], start=1)
    ]
    columns = [
        Column("rank", "rank"),
        Column("thumbnail", "", sortable=False),
        Column("path", "path"),
        Column("score", "score"),
        Column("to-new", "to new"),
        Column("to-train", "to train"),
        Column("cluster", "cluster"),
    ]
    return Table("candidates-table", columns, rows)


def _unreadable(report: ShiftReport) -> Table | None:
    files = [(report.new_folder, f) for f in report.new_unreadable] + [
        (report.candidates_folder, f) for f in report.candidate_unreadable
    ]
    if not files:
        return None
    columns = [
        Column("folder", "folder"),
        Column("file", "file"),
        Column("reason", "why it was not used"),
    ]
    rows = [row(folder, f.path, f.reason) for folder, f in files]
    return Table("unreadable-table", columns, rows)
