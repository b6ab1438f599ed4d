"""The spread of a detection set's ground truth, and its charts."""

import numpy as np
import vl_convert

from core.pages.charts import VEGA_LITE_VERSION
from tasks.detection.detection_charts import label_distribution_charts
from tasks.detection.label_distribution import label_distribution
from tasks.detection.mean_average_precision import ImageBoxes

NAMES = ("cat", "dog", "bird")


def box(y: float, x: float, height: float, width: float) -> list[float]:
    """[ymin, xmin, ymax, xmax] of a box centred on (y, x)."""
    return [y - height / 2, x - width / 2, y + height / 2, x + width / 2]


# In 20 bins of 0.05: centre rows 2 and 17, columns 15 and 4.
TOP_RIGHT = box(0.125, 0.775, 0.125, 0.325)  # height bin 2, width bin 6
BOTTOM_LEFT = box(0.875, 0.225, 0.225, 0.125)  # height bin 4, width bin 2
SCENES = [
    ImageBoxes([TOP_RIGHT, BOTTOM_LEFT], [0, 1]),
    ImageBoxes(np.zeros((0, 4)), []),
    ImageBoxes([BOTTOM_LEFT], [1]),
]


def test_instances_count_the_boxes_of_each_class():
    distribution = label_distribution(SCENES, NAMES)
    assert distribution.class_names == NAMES
    assert distribution.instances == (1, 2, 0)


def test_centres_land_in_their_bins_rows_from_the_top():
    centres = label_distribution(SCENES, NAMES).centres
    assert centres.shape == (20, 20)
    assert centres[2, 15] == 1  # near the top, on the right
    assert centres[17, 4] == 2
    assert centres.sum() == 3


def test_sizes_land_in_their_bins():
    distribution = label_distribution(SCENES, NAMES, bins=10)
    np.testing.assert_allclose(distribution.edges, np.arange(11) / 10)
    # In 10 bins of 0.1: height 0.125, width 0.325; height 0.225, width
    # 0.125.
    assert distribution.sizes[1, 3] == 1
    assert distribution.sizes[2, 1] == 2
    assert distribution.sizes.sum() == 3


def test_a_box_a_rounding_error_over_the_image_still_counts():
    whole = [ImageBoxes([[-1e-7, -1e-7, 1 + 1e-7, 1 + 1e-7]], [2])]
    distribution = label_distribution(whole, NAMES)
    assert distribution.centres[10, 10] == 1
    assert distribution.sizes[19, 19] == 1  # a side of 1: the last bin


def test_no_boxes_give_empty_histograms():
    distribution = label_distribution([], NAMES)
    assert distribution.instances == (0, 0, 0)
    assert distribution.centres.sum() == distribution.sizes.sum() == 0


def test_the_charts_draw_the_distribution():
    distribution = label_distribution(SCENES, NAMES)
    instances, centres, sizes = label_distribution_charts(distribution)
    for chart in (instances, centres, sizes):
        svg = vl_convert.vegalite_to_svg(
            chart.spec, vl_version=VEGA_LITE_VERSION
        )
        assert svg.startswith("<svg")
    assert instances.spec["data"]["values"] == [
        {"class": "cat", "boxes": 1},
        {"class": "dog", "boxes": 2},
        {"class": "bird", "boxes": 0},
    ]
    # Only the filled bins, at their place.
    cells = centres.spec["data"]["values"]
    assert sorted(
        (c["y from"], c["y to"], c["x from"], c["x to"], c["boxes"])
        for c in cells
    ) == [(0.1, 0.15, 0.75, 0.8, 1), (0.85, 0.9, 0.2, 0.25, 2)]
    # The image's top at the top; sizes from the bottom left.
    assert centres.spec["encoding"]["y"]["scale"]["reverse"] is True
    assert sizes.spec["encoding"]["y"]["scale"]["reverse"] is False
    assert {c["boxes"] for c in sizes.spec["data"]["values"]} == {1, 2}
