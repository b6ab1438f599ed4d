"""The detection report on models whose answers are known: an oracle
whose head maps are the encoded ground truth, and one that takes each
class for the next. Both are saved and loaded as the Trainer's model is,
and read the Transform's TFRecords as the report reads a run's."""

import html
import json
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core.findings.quality_artifacts import REPORT_FILE
from models import centernet, features
from tasks.detection.box_matching import ALL_CLASSES, BACKGROUND
from tasks.detection.evaluation import SLICE_PROPERTIES
from tasks.detection.report import write_report
from tests.test_report_browser import (
    ARTIFACTS,
    CHART_TIME_MS,
    dump_dom,
    run_chromium,
)

NAMES = ("rbc", "wbc", "platelets")
HEIGHT, WIDTH = centernet.INPUT_HEIGHT, centernet.INPUT_WIDTH
STRIDE = centernet.STRIDE
HEAD_CHANNELS = len(NAMES) + centernet.REGRESSION_CHANNELS
IMAGES = {"train": 8, "eval": 5, "test": 6}
TITLE = "Detector validation"
NEXT_CLASS = [(c + 1) % len(NAMES) for c in range(len(NAMES))]


def scene(index: int) -> tuple[np.ndarray, np.ndarray]:
    """Image `index`'s boxes [n, 4] (ymin, xmin, ymax, xmax) and classes:
    index % 5 of them, each in its own quadrant of the image, so that no
    two overlap or share a centre cell; every class is among the first
    three images' boxes."""
    rng = np.random.default_rng(index)
    count = index % 5
    boxes = []
    for quadrant in range(count):
        top, left = quadrant // 2 * 0.5, quadrant % 2 * 0.5
        height, width = rng.uniform(0.1, 0.4, 2)
        ymin = top + rng.uniform(0, 0.5 - height)
        xmin = left + rng.uniform(0, 0.5 - width)
        boxes.append([ymin, xmin, ymin + height, xmin + width])
    classes = (index + np.arange(count)) % len(NAMES)
    return np.reshape(boxes, (-1, 4)).astype(np.float32), classes


def image_holding(boxes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """An image [HEIGHT, WIDTH, 3] whose STRIDE x STRIDE blocks hold the
    head maps of its boxes: block (y, x)'s values, flattened, start with
    the maps' channels at cell (y, x), as a space-to-depth reads them."""
    maps = centernet.encode_targets(boxes, classes, len(NAMES)).numpy()
    blocks = np.zeros(
        (HEIGHT // STRIDE, WIDTH // STRIDE, STRIDE, STRIDE, 3), np.float32
    )
    in_blocks = blocks.reshape(*blocks.shape[:2], -1)
    in_blocks[..., :HEAD_CHANNELS] = maps[..., :HEAD_CHANNELS]
    return blocks.transpose(0, 2, 1, 3, 4).reshape(HEIGHT, WIDTH, 3)


def reading_model(heatmap_order: Sequence[int]) -> tf.keras.Model:
    """A network that reads image_holding's head maps back, class c's
    heatmap as class heatmap_order[c]'s: one strided convolution."""
    image = tf.keras.Input((HEIGHT, WIDTH, 3), name=features.TRANSFORMED_IMAGE)
    read = tf.keras.layers.Conv2D(
        HEAD_CHANNELS, STRIDE, strides=STRIDE, use_bias=False
    )
    model = tf.keras.Model(image, read(image))
    kernel = np.zeros((STRIDE * STRIDE * 3, HEAD_CHANNELS), np.float32)
    regression = range(len(NAMES), HEAD_CHANNELS)
    for channel, output in zip(
        range(HEAD_CHANNELS), [*heatmap_order, *regression], strict=True
    ):
        kernel[channel, output] = 1.0
    read.set_weights([kernel.reshape(STRIDE, STRIDE, 3, HEAD_CHANNELS)])
    return model


def example(index: int, *, buckets: bool) -> bytes:
    boxes, classes = scene(index)
    ymin, xmin, ymax, xmax = boxes.T

    def floats(values: np.ndarray) -> tf.train.Feature:
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    def ints(values: Sequence[int]) -> tf.train.Feature:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    columns = {
        features.TRANSFORMED_IMAGE: floats(
            image_holding(boxes, classes).ravel()
        ),
        features.BBOX_YMIN: floats(ymin),
        features.BBOX_XMIN: floats(xmin),
        features.BBOX_YMAX: floats(ymax),
        features.BBOX_XMAX: floats(xmax),
        features.OBJECT_LABEL: ints(classes.tolist()),
    }
    if buckets:
        for name in SLICE_PROPERTIES:
            columns[features.bucket_key(name)] = ints([index % 2])
    return tf.train.Example(
        features=tf.train.Features(feature=columns)
    ).SerializeToString()


def write_split(folder: Path, images: int, *, buckets: bool = True) -> str:
    folder.mkdir(parents=True)
    path = folder / "transformed_examples-00000-of-00001.gz"
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for index in range(images):
            writer.write(example(index, buckets=buckets))
    return str(folder)


def boxes_per_class(images: int) -> list[int]:
    classes = np.concatenate([scene(i)[1] for i in range(images)])
    return np.bincount(classes, minlength=len(NAMES)).tolist()


def images_per_class(images: int) -> list[int]:
    return [
        sum(c in scene(i)[1] for i in range(images)) for c in range(len(NAMES))
    ]


@pytest.fixture(scope="module")
def split_dirs(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("transformed")
    return {
        name: write_split(root / f"Split-{name}", images)
        for name, images in IMAGES.items()
    }


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """The path of `reading_model(heatmap_order)` saved as the Trainer
    saves its serving model."""

    def save(heatmap_order: Sequence[int]) -> str:
        folder = tmp_path_factory.mktemp("model")
        reading_model(heatmap_order).save(folder, save_format="tf")
        return str(folder)

    return save


@pytest.fixture(scope="module")
def oracle_page(saved_model, split_dirs, tmp_path_factory) -> Path:
    output_dir = tmp_path_factory.mktemp("report") / "nested"
    path = write_report(
        saved_model(range(len(NAMES))),
        split_dirs,
        str(output_dir),
        class_names=NAMES,
        title=TITLE,
    )
    assert path == str(output_dir / REPORT_FILE)
    return Path(path)


class Tables(HTMLParser):
    """The text of every table's rows, header rows included, by id."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self._table = ""
        self._cell: list[str] | None = None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs)["id"] or ""
            self.rows[self._table] = []
        elif tag == "tr":
            self.rows[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def by_class(self, table_id: str) -> dict[str, dict[str, str]]:
        """Each row's cells by column label, by its first cell."""
        header, *rows = self.rows[table_id]
        return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def chart_data(page: str, chart_id: str) -> list[dict]:
    spec = re.search(
        rf'class="chart-spec" data-chart="{chart_id}">(.*?)</script>', page
    )
    assert spec is not None, f"no chart {chart_id}"
    return json.loads(spec.group(1))["data"]["values"]


def test_the_oracle_scores_one_on_every_class(oracle_page):
    page = oracle_page.read_text()
    tables = Tables(page)
    for split in ("test", "eval"):
        rows = tables.by_class(f"{split}-scores")
        assert list(rows) == [ALL_CLASSES, *NAMES]
        instances = boxes_per_class(IMAGES[split])
        assert [int(rows[n]["Instances"]) for n in NAMES] == instances
        assert [int(rows[n]["Images"]) for n in NAMES] == images_per_class(
            IMAGES[split]
        )
        overall = rows[ALL_CLASSES]
        assert int(overall["Instances"]) == sum(instances)
        assert int(overall["Images"]) == IMAGES[split]
        for row in rows.values():
            for column in ("P", "R", "F1", "mAP50", "mAP50-95"):
                assert row[column] == "1.000", (split, row)
    # Test, the fixed yardstick, first; at the highest confidence, as
    # every detection scores 1.
    assert page.index('id="test-scores"') < page.index('id="eval-scores"')
    assert "test: 6 images, P, R and F1 at confidence 1.00" in page


def test_the_oracles_confusion_matrix_is_diagonal(oracle_page):
    cells = chart_data(oracle_page.read_text(), "detection-confusion-chart")
    assert all(c["predicted"] == c["true"] != BACKGROUND for c in cells)
    boxes = {c["true"]: c["boxes"] for c in cells}
    assert [boxes.get(n, 0) for n in NAMES] == boxes_per_class(IMAGES["test"])


def test_the_labels_are_trains_and_the_slices_the_buckets(oracle_page):
    page = oracle_page.read_text()
    instances = chart_data(page, "label-instances-chart")
    assert [i["boxes"] for i in instances] == boxes_per_class(IMAGES["train"])
    centres = chart_data(page, "label-centres-chart")
    assert sum(c["boxes"] for c in centres) == sum(
        boxes_per_class(IMAGES["train"])
    )
    header, *slices = Tables(page).rows["test-slices"]
    assert header == ["Image property", "Bucket", "Images", "mAP50"]
    # Buckets 0 and 1 of each property; image 0 of bucket 0 has no box.
    assert sorted((s[0], s[1], s[2]) for s in slices) == sorted(
        (name, str(bucket), str(images))
        for name in SLICE_PROPERTIES
        for bucket, images in ((0, 3), (1, 3))
    )
    assert {s[3] for s in slices} == {"1.000"}


def test_box_sizes_split_the_boxes_the_oracle_finds(oracle_page):
    for split in ("test", "eval"):
        sizes = Tables(oracle_page.read_text()).by_class(f"{split}-sizes")
        assert list(sizes) == ["small", "medium", "large"]
        boxes = {size: int(row["Boxes"]) for size, row in sizes.items()}
        assert sum(boxes.values()) == sum(boxes_per_class(IMAGES[split]))
        for size, row in sizes.items():
            assert row["mAP50"] == ("1.000" if boxes[size] else "—"), size


def test_the_page_loads_nothing_from_the_network(oracle_page):
    page = oracle_page.read_text()
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert "default-src 'none'" in html.unescape(policy.group(1))
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", page)
    assert "<link" not in page
    for name in NAMES:
        assert name in page


def test_a_model_that_takes_each_class_for_the_next(
    saved_model, split_dirs, tmp_path
):
    path = write_report(
        saved_model(NEXT_CLASS),
        split_dirs,
        str(tmp_path),
        class_names=NAMES,
        title=TITLE,
    )
    page = Path(path).read_text()
    rows = Tables(page).by_class("test-scores")
    for row in rows.values():
        assert (row["P"], row["R"], row["mAP50"]) == ("0.000",) * 3
    cells = chart_data(page, "detection-confusion-chart")
    boxes = boxes_per_class(IMAGES["test"])
    # Rows are the predicted class, columns the true one.
    assert sorted((c["predicted"], c["true"], c["boxes"]) for c in cells) == (
        sorted(
            (NAMES[NEXT_CLASS[c]], NAMES[c], boxes[c])
            for c in range(len(NAMES))
        )
    )


def test_without_test_eval_is_measured_alone(saved_model, tmp_path):
    split_dirs = {
        "eval": write_split(tmp_path / "eval", IMAGES["eval"], buckets=False)
    }
    path = write_report(
        saved_model(range(len(NAMES))),
        split_dirs,
        str(tmp_path / "report"),
        class_names=NAMES,
        title=TITLE,
    )
    page = Path(path).read_text()
    assert list(Tables(page).rows) == ["eval-scores", "eval-sizes"]
    assert "On eval, a line per class" in page
    assert "No train split was given." in page
    assert "The examples have no property buckets." in page


def test_class_names_must_match_the_heatmaps(
    saved_model, split_dirs, tmp_path
):
    with pytest.raises(ValueError, match="3 class heatmaps but 2 class"):
        write_report(
            saved_model(range(len(NAMES))),
            split_dirs,
            str(tmp_path),
            class_names=NAMES[:2],
            title=TITLE,
        )


def test_every_chart_draws_in_the_browser(oracle_page, tmp_path: Path):
    page = oracle_page.read_text()
    specs = page.count('class="chart-spec"')
    assert specs == 6
    dom = dump_dom(tmp_path, CHART_TIME_MS, oracle_page.as_uri())
    assert len(re.findall(r'<svg [^>]*class="marks"', dom)) == specs
    assert ">The chart failed" not in dom
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "detection_report.png"
    run_chromium(
        tmp_path,
        CHART_TIME_MS,
        f"--screenshot={screenshot}",
        "--window-size=1280,3000",
        oracle_page.as_uri(),
    )
    with Image.open(screenshot) as image:
        assert np.asarray(image.convert("L")).std() > 0


def test_sorting_a_table_keeps_all_classes_first(oracle_page, tmp_path: Path):
    url = f"{oracle_page.as_uri()}#sort=test-scores:instances:desc"
    dom = dump_dom(tmp_path, url)
    assert 'data-sorted="instances:desc"' in dom
    header, overall, *rows = Tables(dom).rows["test-scores"]
    assert overall[0] == ALL_CLASSES
    instances = [int(row[header.index("Instances")]) for row in rows]
    assert instances == sorted(boxes_per_class(IMAGES["test"]), reverse=True)
    assert rows[0][0] == "wbc"
