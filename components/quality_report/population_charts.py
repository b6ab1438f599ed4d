"""The report's embedding map: every image at its t-SNE point, coloured
by a choice of split, labels, correctness, loss, finding, cluster,
uniqueness, representativeness or an image property; its thumbnail on
hover; a click goes to its row in the table of the images on the map."""

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from core.findings.finding import Finding
from core.pages.charts import Chart
from core.population.points import Population

MAP_ID = "embedding-map-chart"
# The signal the colour menu sets; tests set it through the page's URL.
COLOUR_PARAM = "colour_by"
# More points than this are sampled, evenly, for the map.
MAX_POINTS = 5000
THUMBNAIL_SIDE = 40  # pixels, the longer side of a hover thumbnail
_BUCKETS = 5  # a number is coloured by its quintile
_CATEGORIES = (
    "split",
    "given label",
    "predicted label",
    "correct",
    "finding",
    "cluster",
)


def map_chart(
    population: Population,
    findings: Sequence[Finding],
    thumbnails: Mapping[str, str],
) -> Chart:
    """The map of `population`; `thumbnails` are data: URLs by path."""
    finding_of = first_finding(findings)
    points = population.points
    shown = shown_points(population)
    numbers = {
        "loss": [p.loss for p in points],
        "uniqueness": [p.uniqueness for p in points],
        "representativeness": [p.representativeness for p in points],
        **{
            name.replace("_", " "): values
            for name, values in population.properties.items()
        },
    }
    buckets = {name: _quintiles(values) for name, values in numbers.items()}
    values = []
    for i in shown:
        p = points[i]
        values.append(
            {
                "x": round(p.x, 4),
                "y": round(p.y, 4),
                "path": p.path,
                "split": p.split,
                "given label": p.given_label,
                "predicted label": p.predicted_label,
                "correct": "right" if p.correct else "wrong",
                "finding": finding_of.get(p.path, "none"),
                "cluster": f"cluster {p.cluster}",
                "loss value": round(p.loss, 3),
                "image": thumbnails.get(p.path, ""),
                "row": f"#{row_id(i)}",
                **{name: labels[i] for name, labels in buckets.items()},
            }
        )
    options = [*_CATEGORIES, *numbers]
    return Chart(
        MAP_ID,
        {
            "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
            "description": f"The embedding map of {len(values)} images",
            "width": 640,
            "height": 480,
            "data": {"values": values},
            "params": [
                {
                    "name": COLOUR_PARAM,
                    "value": "split",
                    "bind": {
                        "input": "select",
                        "options": options,
                        "name": "Colour by ",
                    },
                }
            ],
            "transform": [
                {"calculate": f"datum[{COLOUR_PARAM}]", "as": "colour"}
            ],
            "mark": {"type": "circle", "size": 28, "opacity": 0.75},
            "encoding": {
                "x": {"field": "x", "type": "quantitative", "axis": None},
                "y": {"field": "y", "type": "quantitative", "axis": None},
                "color": {
                    "field": "colour",
                    "type": "nominal",
                    "scale": {"scheme": "tableau20"},
                    "legend": {"title": None},
                },
                "tooltip": _tooltip(),
                "href": {"field": "row"},
            },
        },
    )


def shown_points(population: Population) -> list[int]:
    """The indices of the points the map draws: all, or MAX_POINTS
    spread evenly."""
    n = len(population.points)
    return np.unique(
        np.linspace(0, n - 1, min(n, MAX_POINTS)).astype(int)
    ).tolist()


def row_id(point: int) -> str:
    """The id of the point's row in the table of the map's images."""
    return f"image-{point}"


def first_finding(findings: Sequence[Finding]) -> dict[str, str]:
    """Each flagged path's first finding, in words."""
    finding_of: dict[str, str] = {}
    for finding in findings:
        finding_of.setdefault(finding.path, finding.issue.replace("_", " "))
    return finding_of


def small_thumbnails(
    paths: Sequence[str], pngs: Sequence[bytes]
) -> dict[str, bytes]:
    """Each PNG shrunk to THUMBNAIL_SIDE on its longer side, as PNG."""
    small = {}
    for path, png in zip(paths, pngs, strict=True):
        with Image.open(io.BytesIO(png)) as image:
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "PNG", optimize=True)
        small[path] = buffer.getvalue()
    return small


def _tooltip() -> list[dict[str, Any]]:
    # vega-tooltip shows a field titled "image" as the picture itself.
    return [
        {"field": "image", "title": "image"},
        {"field": "path", "type": "nominal"},
        {"field": "given label", "type": "nominal"},
        {"field": "predicted label", "type": "nominal"},
        {"field": "loss value", "type": "quantitative", "title": "loss"},
        {"field": "colour", "type": "nominal", "title": "colour"},
    ]


def _quintiles(values: Sequence[float]) -> list[str]:
    """Each value's quintile as a label that sorts, e.g. "2: 0.12-0.3"."""
    array = np.asarray(values, float)
    edges = np.unique(np.quantile(array, np.linspace(0, 1, _BUCKETS + 1)))
    if len(edges) < 2:
        return [f"1: {array[0]:.3g}"] * len(array)
    index = np.clip(
        np.searchsorted(edges, array, side="right") - 1, 0, len(edges) - 2
    )
    names = [
        f"{b + 1}: {edges[b]:.3g}-{edges[b + 1]:.3g}"
        for b in range(len(edges) - 1)
    ]
    return [names[b] for b in index]
