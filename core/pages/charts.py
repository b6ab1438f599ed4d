"""Charts as Vega-Lite specs, drawn in the page by Vega.

Vega-Lite rather than Plotly or Bokeh: the runtime (Vega, Vega-Lite and
vega-embed, ~0.9 MB) comes bundled from the vl-convert-python wheel,
which has no Python dependencies, so pages stay self-contained and
offline; plotly.min.js alone is ~4.8 MB, and Bokeh pulls in pandas,
tornado and more. Vega's expression interpreter keeps the page within a
policy without 'unsafe-eval'.
"""

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

import vl_convert

from core.pages.files import static_file

VEGA_LITE_VERSION = "6.4"


@dataclasses.dataclass(frozen=True)
class Chart:
    id: str  # the element's id in the page
    spec: Mapping[str, Any]  # Vega-Lite, data inline


def vega_lite(
    description: str,
    values: list[dict[str, Any]],
    *,
    label_angle: int = 0,
    **spec: Any,
) -> dict[str, Any]:
    """A Vega-Lite spec of `values` inline, with the pages' axis labels;
    `label_angle` tilts the x labels, for long category names."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": description,
        "data": {"values": values},
        "config": {"axisX": {"labelAngle": label_angle, "labelLimit": 90}},
        **spec,
    }


@functools.cache
def charts_script() -> str:
    """Vega, Vega-Lite, vega-embed and the code that draws the page's
    charts, as one inline script."""
    return vl_convert.javascript_bundle(
        static_file("embed_charts.js"), vl_version=VEGA_LITE_VERSION
    )
