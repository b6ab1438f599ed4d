"""The report's charts, as Vega-Lite specs with their data inline; the
tables below them hold the same figures."""

from collections.abc import Sequence
from typing import Any

from components.quality_report.report_data import ReportData
from core.pages.charts import Chart, vega_lite

_SPLIT_COLOURS = {"train": "#4477aa", "val": "#ccbb44", "test": "#ee6677"}
_PERCENT = {"format": ".0%"}


def charts(
    data: ReportData, splits: Sequence[str], classes: Sequence[str]
) -> list[Chart]:
    """Every chart the report has data for."""
    found = [
        _class_balance(data, splits, classes),
        _property_histograms(data, splits),
        _per_class_accuracy(data),
        _confusion(data),
        _slices(data),
    ]
    return [chart for chart in found if chart]


def _split_colour(splits: Sequence[str]) -> dict[str, Any]:
    return {
        "field": "split",
        "type": "nominal",
        "sort": list(splits),
        "scale": {
            "domain": list(splits),
            "range": [_SPLIT_COLOURS.get(s, "#999999") for s in splits],
        },
    }


def _class_balance(
    data: ReportData, splits: Sequence[str], classes: Sequence[str]
) -> Chart | None:
    if not splits:
        return None
    values = [
        {"class": name, "split": split, "images": count}
        for split in splits
        for name in classes
        if (count := data.counts[split].get(name, 0))
    ]
    return Chart(
        "class-balance-chart",
        vega_lite(
            "Images per class and split",
            values,
            width={"step": 22},
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": {
                    "field": "class",
                    "type": "nominal",
                    "sort": list(classes),
                    "title": "class",
                },
                "xOffset": {"field": "split", "sort": list(splits)},
                "y": {"field": "images", "type": "quantitative"},
                "color": _split_colour(splits),
            },
        ),
    )


def _property_histograms(
    data: ReportData, splits: Sequence[str]
) -> Chart | None:
    """Each property's distribution per split, as shares of the split so
    that splits of any size compare."""
    values = []
    for histogram in data.property_histograms:
        edges = histogram.edges
        for split, counts in histogram.counts.items():
            total = sum(counts) or 1
            values += [
                {
                    "property": histogram.name,
                    "split": split,
                    "from": edges[i],
                    "to": edges[i + 1],
                    "share": n / total,
                }
                for i, n in enumerate(counts)
            ]
    if not values:
        return None
    order = [s for s in splits if any(v["split"] == s for v in values)]
    return Chart(
        "property-histograms-chart",
        vega_lite(
            "Histograms of the image properties per split",
            values,
            facet={
                "field": "property",
                "type": "nominal",
                "sort": [h.name for h in data.property_histograms],
                "title": None,
            },
            columns=4,
            resolve={"scale": {"x": "independent"}},
            spec={
                "width": 200,
                "height": 110,
                "mark": {"type": "bar", "opacity": 0.55, "tooltip": True},
                "encoding": {
                    "x": {
                        "field": "from",
                        "bin": "binned",
                        "type": "quantitative",
                        "title": None,
                    },
                    "x2": {"field": "to"},
                    "y": {
                        "field": "share",
                        "type": "quantitative",
                        "stack": None,
                        "axis": _PERCENT,
                        "title": "share of the split",
                    },
                    "color": _split_colour(order),
                },
            },
        ),
    )


def _per_class_accuracy(data: ReportData) -> Chart | None:
    if not data.per_class_accuracy:
        return None
    names = [n for n in data.class_names if n in data.per_class_accuracy]
    names += sorted(set(data.per_class_accuracy) - set(names))
    values = [
        {"class": name, "accuracy": data.per_class_accuracy[name]}
        for name in names
    ]
    return Chart(
        "per-class-accuracy-chart",
        vega_lite(
            "Accuracy per class on the evaluation images",
            values,
            width={"step": 64},
            height=160,
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": {"field": "class", "type": "nominal", "sort": names},
                "y": {
                    "field": "accuracy",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1]},
                    "axis": _PERCENT,
                },
            },
        ),
    )


def _confusion(data: ReportData) -> Chart | None:
    if not data.confusion:
        return None
    names = list(data.class_names)
    names += sorted({n for pair in data.confusion for n in pair} - set(names))
    values = [
        {
            "actual": actual,
            "predicted": predicted,
            "images": data.confusion.get((actual, predicted), 0),
        }
        for actual in names
        for predicted in names
    ]
    darkest = max(data.confusion.values())
    axis = {"type": "nominal", "sort": names}
    encoding = {
        "x": {"field": "predicted", **axis},
        "y": {"field": "actual", **axis},
    }
    return Chart(
        "confusion-chart",
        vega_lite(
            "Confusion matrix: evaluation images by actual and predicted"
            " class",
            values,
            width={"step": 64},
            height={"step": 32},
            encoding=encoding,
            layer=[
                {
                    "mark": {"type": "rect", "tooltip": True},
                    "encoding": {
                        "color": {
                            "field": "images",
                            "type": "quantitative",
                            "scale": {"scheme": "blues"},
                        }
                    },
                },
                {
                    "mark": {"type": "text"},
                    "encoding": {
                        "text": {"field": "images", "type": "quantitative"},
                        # White on the dark half of the colour scale.
                        "color": {
                            "condition": {
                                "test": f"datum.images > {darkest / 2}",
                                "value": "white",
                            },
                            "value": "black",
                        },
                    },
                },
            ],
        ),
    )


def _slices(data: ReportData) -> Chart | None:
    if not data.slices:
        return None
    values = [
        {
            "property": s.feature,
            "bucket": s.value,
            "accuracy": s.accuracy,
            "images": s.examples,
        }
        for s in data.slices
    ]
    return Chart(
        "slices-chart",
        vega_lite(
            "Accuracy per bucket of each image property",
            values,
            width=140,
            height=160,
            resolve={"scale": {"x": "independent"}},
            mark={"type": "bar", "tooltip": True},
            encoding={
                "column": {
                    "field": "property",
                    "type": "nominal",
                    "title": None,
                },
                "x": {"field": "bucket", "type": "ordinal"},
                "y": {
                    "field": "accuracy",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1]},
                    "axis": _PERCENT,
                },
            },
        ),
    )
