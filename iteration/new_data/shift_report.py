"""The shift report as one self-contained page of the page kit
(core/pages): what shift.html shows, as tables and figures, with
the embedding plot as inline SVG and thumbnails as data: URLs."""

import dataclasses
import io
from collections.abc import Sequence

import numpy as np
from markupsafe import Markup
from PIL import Image

from core.pages.render import render_page
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
    near_copy_of: str  # a better-ranked candidate it nearly copies, or ""


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
    columns: list[Column[PropertyDrift]] = [
        Column("property", "property", lambda d: d.name),
        number("d", "D", lambda d: d.statistic, ".3f"),
        number("p", "p", lambda d: d.p_value, ".3g"),
        number(
            "train-median", "median, train", lambda d: d.train_median, ".4g"
        ),
        number("new-median", "median, new", lambda d: d.new_median, ".4g"),
        Column("drifted", "", lambda d: "drifted" if d.drifted else ""),
    ]
    return table("properties-table", columns, drifts, row_css=_flagged_row)


def _flagged_row(drift: PropertyDrift) -> str:
    return "flagged" if drift.drifted else ""


def _clusters(report: ShiftReport) -> Table:
    def examples(c: Cluster) -> Cell:
        return Cell(
            thumbnails=[
                Thumbnail(thumbnail(png), path)
                for path, png in report.cluster_examples[c.index]
            ]
        )

    columns: list[Column[Cluster]] = [
        number("cluster", "cluster", lambda c: c.index),
        Column(
            "new",
            "new",
            lambda c: num(c.new_count, f"{c.new_count:,} ({c.new_share:.1%})"),
        ),
        Column(
            "train",
            "train",
            lambda c: num(
                c.train_count, f"{c.train_count:,} ({c.train_share:.1%})"
            ),
        ),
        number("p", "p", lambda c: c.p_value, ".3g"),
        Column(
            "under-represented",
            "",
            lambda c: "under-represented" if c.under_represented else "",
        ),
        pictures("examples", "new images nearest its centre", examples),
    ]
    return table(
        "clusters-table",
        columns,
        report.clusters,
        row_css=lambda c: "flagged" if c.under_represented else "",
    )


def _candidates(report: ShiftReport) -> Table | None:
    """The top candidates; None without a candidates folder."""
    if not report.candidates_folder:
        return None

    def cluster(ranked: tuple[int, CandidateRow]) -> Cell:
        c = ranked[1]
        under = " (under-represented)" if c.under_represented_cluster else ""
        return num(c.cluster, f"{c.cluster}{under}")

    columns: list[Column[tuple[int, CandidateRow]]] = [
        number("rank", "rank", lambda r: r[0]),
        pictures(
            "thumbnail", "", lambda r: image(thumbnail(r[1].png), r[1].path)
        ),
        Column("path", "path", lambda r: r[1].path),
        number("score", "score", lambda r: r[1].score, ".3f"),
        number("to-new", "to new", lambda r: r[1].distance_to_new, ".3g"),
        number(
            "to-train", "to train", lambda r: r[1].distance_to_train, ".3g"
        ),
        Column("cluster", "cluster", cluster),
        Column("near-copy", "near-copy of", lambda r: r[1].near_copy_of),
    ]
    ranked = enumerate(report.candidates[:TOP_CANDIDATES], start=1)
    return table("candidates-table", columns, ranked)


def _unreadable(report: ShiftReport) -> Table | None:
    files = [(report.new_folder, f) for f in report.new_unreadable] + [
        (report.candidates_folder, f) for f in report.candidate_unreadable
    ]
    if not files:
        return None
    columns: list[Column[tuple[str, UnreadableFile]]] = [
        Column("folder", "folder", lambda file: file[0]),
        Column("file", "file", lambda file: file[1].path),
        Column("reason", "why it was not used", lambda file: file[1].reason),
    ]
    return table("unreadable-table", columns, files)
