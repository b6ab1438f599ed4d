"""The shift report as one self-contained HTML file: styles, the
embedding plot (inline SVG) and thumbnails (data: URLs) are inline, and
a Content-Security-Policy forbids loading anything else. Paths and
folder names come from users, so every string goes through `esc`."""

import base64
import dataclasses
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from components.quality_report.html_report import esc, section
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

_CSS = f"""
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0 2em 4em;
  color: #222; }}
section {{ margin-top: 2em; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left;
  vertical-align: middle; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
thead th {{ background: #f0f0f0; }}
tr.flagged td {{ background: #fde2e2; }}
.thumb {{ width: {THUMBNAIL_PX}px; height: {THUMBNAIL_PX}px;
  object-fit: contain; image-rendering: pixelated; background: #000;
  display: inline-block; margin-right: 2px; }}
.verdict {{ font-size: 1.2em; font-weight: bold; }}
.empty {{ color: #666; font-style: italic; }}
"""
# Only inline styles and data: images may load; there is no script.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


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
    title = esc(f"Shift: {report.new_folder} against run {report.run_id}")
    sections = "\n".join(
        (
            _summary(report),
            _properties(report),
            _plot_section(report),
            _clusters(report),
            _candidates(report),
            _unreadable(report),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{title}</h1></header>
<main>
{sections}
</main>
</body>
</html>
"""


def thumbnail(png: bytes) -> str:
    """An <img> of the image shrunk to at most THUMBNAIL_PX a side."""
    with Image.open(io.BytesIO(png)) as image:
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="thumb" src="data:image/png;base64,{encoded}" alt="">'


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


def _summary(report: ShiftReport) -> str:
    test = report.test
    verdict = "Shift detected" if report.shifted else "No shift"
    candidates = (
        f", {report.candidate_count:,} candidates in"
        f" {esc(report.candidates_folder)}"
        if report.candidates_folder
        else ""
    )
    return section(
        "summary",
        "Summary",
        f'<p class="verdict">{verdict} (p = {test.p_value:.3g}, alpha ='
        f" {report.alpha})</p>\n"
        f"<p>{report.new_count:,} new images in {esc(report.new_folder)}"
        f" against the {report.train_count:,} training images of run"
        f" {esc(report.run_id)}{candidates}.</p>\n<ul>"
        f"<li>Embedding space: maximum mean discrepancy² {test.mmd2:.4f}"
        f" (RBF kernel, gamma = {test.gamma:.3g} by the median heuristic),"
        f" p = {test.p_value:.3g} of {test.permutations:,}"
        " permutations.</li>"
        f"<li>A classifier tells new from train images with AUC"
        f" {test.domain_auc:.2f} (0.5: not at all, 1: always).</li>"
        "</ul>",
    )


def _properties(report: ShiftReport) -> str:
    rows = "\n".join(
        f"<tr{' class=flagged' if d.drifted else ''}><td>{esc(d.name)}</td>"
        f'<td class="num">{d.statistic:.3f}</td>'
        f'<td class="num">{d.p_value:.3g}</td>'
        f'<td class="num">{d.train_median:.4g}</td>'
        f'<td class="num">{d.new_median:.4g}</td>'
        f"<td>{'drifted' if d.drifted else ''}</td></tr>"
        for d in report.drifts
    )
    return section(
        "properties",
        "Image properties",
        "<p>Two-sample Kolmogorov-Smirnov test per property; D is the"
        " largest gap between the two distributions (0..1), p is adjusted"
        " for testing every property (Benjamini-Hochberg).</p>"
        "<table><thead><tr><th>property</th><th>D</th><th>p</th>"
        "<th>median, train</th><th>median, new</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>",
    )


def _plot_section(report: ShiftReport) -> str:
    return section(
        "embeddings",
        "Embeddings",
        "<p>What the model's output layer reads, projected on its first"
        " two principal components (fitted on train and new images).</p>"
        + scatter_svg(report.projection, report.explained_variance),
    )


def _clusters(report: ShiftReport) -> str:
    rows = "\n".join(
        f"<tr{' class=flagged' if c.under_represented else ''}>"
        f'<td class="num">{c.index}</td>'
        f'<td class="num">{c.new_count:,} ({c.new_share:.1%})</td>'
        f'<td class="num">{c.train_count:,} ({c.train_share:.1%})</td>'
        f'<td class="num">{c.p_value:.3g}</td>'
        f"<td>{'under-represented' if c.under_represented else ''}</td>"
        f"<td>{_examples(report.cluster_examples[c.index])}</td></tr>"
        for c in report.clusters
    )
    return section(
        "clusters",
        "Clusters of the new data",
        "<p>KMeans on the train and new embeddings. A cluster is"
        " under-represented in train when its share of the new images is"
        " at least twice its share of train, significantly (one-sided"
        " binomial test, Bonferroni over the clusters).</p>"
        "<table><thead><tr><th>cluster</th><th>new</th><th>train</th>"
        "<th>p</th><th></th><th>new images nearest its centre</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>",
    )


def _candidates(report: ShiftReport) -> str:
    if not report.candidates_folder:
        return section(
            "candidates",
            "Candidates",
            '<p class="empty">No candidate images given (--candidates'
            " DIR).</p>",
        )
    rows = "\n".join(
        f"<tr><td class=num>{rank}</td><td>{thumbnail(row.png)}</td>"
        f"<td>{esc(row.path)}</td><td class=num>{row.score:.3f}</td>"
        f"<td class=num>{row.distance_to_new:.3g}</td>"
        f"<td class=num>{row.distance_to_train:.3g}</td>"
        f"<td class=num>{row.cluster}"
        f"{' (under-represented)' if row.under_represented_cluster else ''}"
        "</td></tr>"
        for rank, row in enumerate(report.candidates[:TOP_CANDIDATES], start=1)
    )
    return section(
        "candidates",
        "Candidates",
        f"<p>The {min(TOP_CANDIDATES, len(report.candidates))} of"
        f" {report.candidate_count:,} candidates closest to the new images"
        " relative to train: score = log(distance to the 5th-nearest train"
        " image / to the 5th-nearest new image), in embedding space. All"
        " are in candidates.csv.</p>"
        "<table><thead><tr><th>rank</th><th></th><th>path</th><th>score"
        "</th><th>to new</th><th>to train</th><th>cluster</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>",
    )


def _unreadable(report: ShiftReport) -> str:
    files = [(report.new_folder, f) for f in report.new_unreadable] + [
        (report.candidates_folder, f) for f in report.candidate_unreadable
    ]
    if not files:
        body = '<p class="empty">Every file was read.</p>'
    else:
        rows = "\n".join(
            f"<tr><td>{esc(folder)}</td><td>{esc(f.path)}</td>"
            f"<td>{esc(f.reason)}</td></tr>"
            for folder, f in files
        )
        body = (
            "<table><thead><tr><th>folder</th><th>file</th><th>why it was"
            f" not used</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return section("unreadable", "Files not used", body)


def _examples(examples: Sequence[tuple[str, bytes]]) -> str:
    return "".join(
        f'<span title="{esc(path)}">{thumbnail(png)}</span>'
        for path, png in examples
    )
