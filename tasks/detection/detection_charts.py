"""A detector's evaluation and its labels as the report's charts
(Vega-Lite specs with their data inline, see core/pages/charts.py):
ultralytics' PR and F1 curves, confusion matrix and labels plots."""

from typing import Any

import numpy as np

from core.pages.charts import Chart, vega_lite
from tasks.detection.box_matching import (
    ALL_CLASSES,
    ConfusionMatrix,
    PrecisionRecallCurves,
    best_f1,
)
from tasks.detection.label_distribution import LabelDistribution

_UNIT = {"domain": [0, 1]}
_DIGITS = 4  # of the curves' figures, to keep the page small


def precision_recall_chart(curves: PrecisionRecallCurves) -> Chart:
    """Precision against recall as the confidence threshold falls, per
    class and, thicker, the mean over classes."""
    return Chart(
        "detection-precision-recall-chart",
        vega_lite(
            "Precision against recall per class, the confidence threshold"
            " falling from 1 to 0",
            _curve_values(curves),
            width=360,
            height=240,
            mark={"type": "line", "tooltip": True},
            encoding={
                "x": {
                    "field": "recall",
                    "type": "quantitative",
                    "scale": _UNIT,
                },
                "y": {
                    "field": "precision",
                    "type": "quantitative",
                    "scale": _UNIT,
                },
                # Along the line from the highest threshold.
                "order": {"field": "confidence", "sort": "descending"},
                **_class_lines(curves),
            },
        ),
    )


def f1_confidence_chart(curves: PrecisionRecallCurves) -> Chart:
    """F1 against the confidence threshold per class and, thicker, the
    mean over classes, with a rule where the mean is highest."""
    best = best_f1(curves)
    return Chart(
        "detection-f1-confidence-chart",
        vega_lite(
            "F1 against the confidence threshold per class; the mean over"
            f" classes is highest, {best.all_classes.f1:.2f}, at"
            f" {best.confidence:.2f}",
            _curve_values(curves),
            width=360,
            height=240,
            layer=[
                {
                    "mark": {"type": "line", "tooltip": True},
                    "encoding": {
                        "x": {
                            "field": "confidence",
                            "type": "quantitative",
                            "scale": _UNIT,
                        },
                        "y": {
                            "field": "f1",
                            "type": "quantitative",
                            "scale": _UNIT,
                            "title": "F1",
                        },
                        **_class_lines(curves),
                    },
                },
                {
                    "data": {
                        "values": [
                            {
                                "confidence": best.confidence,
                                "mean F1": round(best.all_classes.f1, 3),
                            }
                        ]
                    },
                    "mark": {
                        "type": "rule",
                        "strokeDash": [4, 4],
                        "tooltip": True,
                    },
                    "encoding": {
                        "x": {"field": "confidence", "type": "quantitative"}
                    },
                },
            ],
        ),
    )


def confusion_matrix_chart(matrix: ConfusionMatrix) -> Chart:
    """Boxes by predicted (rows) and true (columns) class, background
    last, coloured by their share of the true class's column; empty
    cells are blank."""
    totals = matrix.counts.sum(axis=0)
    values = [
        {
            "predicted": predicted,
            "true": true,
            "boxes": int(matrix.counts[row, column]),
            "share": round(
                float(matrix.counts[row, column] / max(totals[column], 1)), 3
            ),
        }
        for row, predicted in enumerate(matrix.labels)
        for column, true in enumerate(matrix.labels)
        if matrix.counts[row, column]
    ]
    # Every label on both axes, though only cells with boxes are drawn.
    axis = {"type": "nominal", "scale": {"domain": list(matrix.labels)}}
    return Chart(
        "detection-confusion-chart",
        _tilted(
            "Confusion matrix: boxes by predicted and true class, background"
            " for a missed box or a detection of nothing",
            values,
            width={"step": 40},
            height={"step": 24},
            encoding={
                "x": {"field": "true", **axis},
                "y": {"field": "predicted", **axis},
            },
            layer=[
                {
                    "mark": {"type": "rect", "tooltip": True},
                    "encoding": {
                        "color": {
                            "field": "share",
                            "type": "quantitative",
                            "scale": {"scheme": "blues", "domain": [0, 1]},
                            "title": "share of the true class",
                        }
                    },
                },
                {
                    "mark": {"type": "text"},
                    "encoding": {
                        "text": {"field": "boxes", "type": "quantitative"},
                        # White on the dark half of the colour scale.
                        "color": {
                            "condition": {
                                "test": "datum.share > 0.5",
                                "value": "white",
                            },
                            "value": "black",
                        },
                    },
                },
            ],
        ),
    )


def label_distribution_charts(distribution: LabelDistribution) -> list[Chart]:
    """Ground-truth boxes per class, a heat map of their centres as they
    lie in the image and one of their widths and heights."""
    names = list(distribution.class_names)
    return [
        Chart(
            "label-instances-chart",
            _tilted(
                "Ground-truth boxes per class",
                [
                    {"class": name, "boxes": count}
                    for name, count in zip(
                        names, distribution.instances, strict=True
                    )
                ],
                width={"step": 40},
                mark={"type": "bar", "tooltip": True},
                encoding={
                    "x": {"field": "class", "type": "nominal", "sort": names},
                    "y": {"field": "boxes", "type": "quantitative"},
                },
            ),
        ),
        _heat_map(
            "label-centres-chart",
            "Centres of the ground-truth boxes in the image",
            distribution.centres,
            distribution.edges,
            ("y", "x"),
            # Image rows run from the top.
            reverse_rows=True,
        ),
        _heat_map(
            "label-sizes-chart",
            "Heights and widths of the ground-truth boxes, as shares of"
            " the image's",
            distribution.sizes,
            distribution.edges,
            ("height", "width"),
            reverse_rows=False,
        ),
    ]


def _curve_values(curves: PrecisionRecallCurves) -> list[dict[str, Any]]:
    return [
        {
            "class": c.name,
            "confidence": float(confidence),
            "precision": round(float(precision), _DIGITS),
            "recall": round(float(recall), _DIGITS),
            "f1": round(float(f1), _DIGITS),
        }
        for c in (*curves.per_class, curves.all_classes)
        for confidence, precision, recall, f1 in zip(
            c.confidence, c.precision, c.recall, c.f1, strict=True
        )
    ]


def _class_lines(curves: PrecisionRecallCurves) -> dict[str, Any]:
    """A colour per class, and the mean over classes thicker."""
    names = [c.name for c in curves.per_class] + [ALL_CLASSES]
    return {
        "color": {
            "field": "class",
            "type": "nominal",
            "sort": names,
            # Distinct hues; the mean over classes is the thick line.
            "scale": {"scheme": "tableau10"},
            "legend": {"title": None},
        },
        "strokeWidth": {
            "condition": {
                "test": {"field": "class", "equal": ALL_CLASSES},
                "value": 3,
            },
            "value": 1,
        },
    }


def _heat_map(
    chart_id: str,
    description: str,
    counts: np.ndarray,
    edges: np.ndarray,
    titles: tuple[str, str],
    *,
    reverse_rows: bool,
) -> Chart:
    """Counts [row bin, column bin] over `edges` on both axes, the rows
    along y; empty bins are left blank."""
    row_title, column_title = titles
    x0, x1 = f"{column_title} from", f"{column_title} to"
    y0, y1 = f"{row_title} from", f"{row_title} to"
    rows, columns = np.nonzero(counts)
    values = [
        {
            x0: float(edges[column]),
            x1: float(edges[column + 1]),
            y0: float(edges[row]),
            y1: float(edges[row + 1]),
            "boxes": int(counts[row, column]),
        }
        for row, column in zip(rows, columns, strict=True)
    ]
    return Chart(
        chart_id,
        vega_lite(
            description,
            values,
            width=240,
            height=240,
            mark={"type": "rect", "tooltip": True},
            encoding={
                "x": {
                    "field": x0,
                    "bin": "binned",
                    "type": "quantitative",
                    "scale": _UNIT,
                    "title": column_title,
                },
                "x2": {"field": x1},
                "y": {
                    "field": y0,
                    "bin": "binned",
                    "type": "quantitative",
                    "scale": {**_UNIT, "reverse": reverse_rows},
                    "title": row_title,
                },
                "y2": {"field": y1},
                "color": {
                    "field": "boxes",
                    "type": "quantitative",
                    "scale": {"scheme": "blues"},
                },
            },
        ),
    )


def _tilted(
    description: str, values: list[dict[str, Any]], **spec: Any
) -> dict[str, Any]:
    """Class names tilted, so that long ones do not overlap."""
    return vega_lite(description, values, label_angle=-40, **spec)
