"""The ETL with `task: detection`: boxes from YOLO, VOC or COCO files
into the TF Object Detection API's keys, through the same Beam
conversion, quarantine and summary as class folders."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core.dataset.etl.etl import run_etl
from models import features
from tasks.detection.embedded_scenes import SceneDefects, write_scenes
from tests.conftest import IN_PROCESS_BEAM, REPO
from tests.test_etl import read_examples

BCCD = REPO.parent / "shared" / "datasets" / "bccd"
SPLITS = ("train", "val", "test")


def etl(data: Path, output: Path, **overrides):
    options = {
        "splits": SPLITS,
        "on_bad_file": "skip",
        "images_per_shard": 50,
        "parallel_from_images": 10_000,
        "beam_args": IN_PROCESS_BEAM,
        "task": "detection",
    }
    options.update(overrides)
    return run_etl(str(data), str(output), **options)


def boxes_of(example: tf.train.Example) -> list[tuple]:
    """(class text, label, xmin, ymin, xmax, ymax) of each box."""
    feature = example.features.feature

    def values(key: str) -> list:
        value = feature[key]
        return list(getattr(value, value.WhichOneof("kind")).value)

    return list(
        zip(
            [t.decode() for t in values(features.OBJECT_TEXT)],
            values(features.OBJECT_LABEL),
            *(values(key) for key in features.BBOX_CORNERS),
            strict=True,
        )
    )


def yolo_boxes(label_file: Path, names: list[str]) -> list[tuple]:
    boxes = []
    for line in label_file.read_text().splitlines():
        index, cx, cy, w, h = line.split()
        x, y, width, height = map(float, (cx, cy, w, h))
        boxes.append(
            (
                names[int(index)],
                int(index),
                x - width / 2,
                y - height / 2,
                x + width / 2,
                y + height / 2,
            )
        )
    return boxes


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scenes") / "data"
    write_scenes(
        root,
        seed=3,
        train_images=10,
        val_images=4,
        test_images=4,
        defects=SceneDefects(
            leaked_duplicates=1, train_duplicates=1, blank_images=1
        ),
    )
    return root


def test_yolo_boxes_become_object_detection_api_keys(scenes, tmp_path):
    output = tmp_path / "tfrecords"
    summary = etl(scenes, output)

    names = json.loads((output / "classes.json").read_text())
    assert names == ["zero", "one", "seven"]  # data.yaml's order
    written = 0
    for split in SPLITS:
        examples = read_examples(output, split)
        images = sorted((scenes / "images" / split).glob("*.png"))
        assert sorted(examples) == [
            f"images/{split}/{image.name}" for image in images
        ]
        for image in images:
            example = examples[f"images/{split}/{image.name}"]
            label_file = scenes / "labels" / split / f"{image.stem}.txt"
            expected = yolo_boxes(label_file, names)
            got = boxes_of(example)
            assert [b[:2] for b in got] == [b[:2] for b in expected]
            np.testing.assert_allclose(
                [b[2:] for b in got] or np.zeros((0, 4)),
                [b[2:] for b in expected] or np.zeros((0, 4)),
                atol=1e-6,
            )
            feature = example.features.feature
            assert feature[features.BOX_COUNT].int64_list.value == [
                len(expected)
            ]
            written += len(expected)
            with Image.open(image) as pixels:
                assert feature[features.WIDTH].int64_list.value == [
                    pixels.width
                ]
    # The summary counts the objects per class, as the files hold them.
    assert written == sum(
        sum(counts.values()) for counts in summary.instances.values()
    )
    assert "objects:" in summary.format()
    with (output / "manifest.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert {
        (row["label"], row["label_name"], row["folder_label"]) for row in rows
    } == {("-1", "", "")}


def test_a_background_image_has_no_boxes_and_is_kept(scenes, tmp_path):
    output = tmp_path / "tfrecords"
    etl(scenes, output)
    empty = [
        f"images/{label.parent.name}/{label.stem}.png"
        for label in (scenes / "labels").glob("*/*.txt")
        if not label.read_text().strip()
    ]
    assert empty  # the scenes have background images
    for path in empty:
        example = read_examples(output, path.split("/")[1])[path]
        assert boxes_of(example) == []
        assert (
            example.features.feature[features.BOX_AREA_MEAN].float_list.value[
                0
            ]
            == 0
        )


def voc_image(root: Path, name: str, size: tuple[int, int], stated: str):
    """A JPEG and its VOC file, stating the size `stated` ("W H")."""
    (root / "JPEGImages").mkdir(parents=True, exist_ok=True)
    (root / "Annotations").mkdir(exist_ok=True)
    pixels = np.random.default_rng(0).integers(0, 255, (*size[::-1], 3))
    Image.fromarray(pixels.astype(np.uint8)).save(
        root / "JPEGImages" / f"{name}.jpg"
    )
    width, height = stated.split()
    (root / "Annotations" / f"{name}.xml").write_text(
        f"""<annotation><filename>{name}.jpg</filename>
<size><width>{width}</width><height>{height}</height><depth>3</depth></size>
<object><name>cell</name><bndbox><xmin>11</xmin><ymin>21</ymin>
<xmax>40</xmax><ymax>45</ymax></bndbox></object></annotation>"""
    )


def test_an_annotation_stating_another_size_quarantines_its_image(tmp_path):
    data = tmp_path / "voc"
    voc_image(data, "a", (64, 48), "64 48")
    voc_image(data, "b", (64, 48), "128 96")  # the image was resized
    (data / "ImageSets" / "Main").mkdir(parents=True)
    (data / "ImageSets" / "Main" / "train.txt").write_text("a\nb\n")
    output = tmp_path / "tfrecords"
    summary = etl(data, output, splits=("train",))

    examples = read_examples(output, "train")
    assert sorted(examples) == ["JPEGImages/a.jpg"]
    [(text, label, *corners)] = boxes_of(examples["JPEGImages/a.jpg"])
    assert (text, label) == ("cell", 0)
    # VOC counts pixels from 1: xmin 11 is the 11th pixel, 10 of 64 in.
    np.testing.assert_allclose(
        corners, [10 / 64, 20 / 48, 40 / 64, 45 / 48], atol=1e-6
    )
    [quarantined] = summary.quarantined
    assert quarantined.path == "JPEGImages/b.jpg"
    assert "128x96" in quarantined.reason and "64x48" in quarantined.reason
    assert "annotation" in quarantined.fix


@pytest.mark.skipif(not BCCD.is_dir(), reason="../shared/datasets/bccd")
def test_bccd_converts_with_its_two_zero_area_boxes_quarantined(tmp_path):
    output = tmp_path / "tfrecords"
    summary = etl(BCCD, output, images_per_shard=500)

    assert {s: sum(c.values()) for s, c in summary.images.items()} == {
        "train": 205,
        "val": 87,
        "test": 72,
    }
    objects = {
        name: sum(counts.get(name, 0) for counts in summary.instances.values())
        for name in ("RBC", "WBC", "Platelets")
    }
    assert objects == {"RBC": 4155 - 2, "WBC": 372, "Platelets": 361}
    assert sorted(q.path for q in summary.quarantined) == [
        "Annotations/BloodImage_00338.xml",
        "Annotations/BloodImage_00343.xml",
    ]
    assert all("zero area" in q.reason for q in summary.quarantined)
