"""A folder of new images → the finished run's model inputs: files found
at any depth, decoded by the ETL's code, unusable ones listed with the
reason, and the rest preprocessed by the run's own Transform graph."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.dataset.embedded.digits import png_bytes
from core.readers.example_tables import read_pixels
from iteration.new_data.finished_run import finished_run
from iteration.new_data.folder_images import (
    find_files,
    load_folder,
    read_records,
)
from models import features
from models.preprocessing import decode_and_resize
from tasks.classification.task import TASK
from tests.conftest import save
from tests.new_data_run import small_run


@pytest.fixture
def mixed_folder(tmp_path, digit_images, photo) -> Path:
    folder = tmp_path / "new"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "0.png").write_bytes(png_bytes(digit_images[0]))
    (folder / "a" / "b" / "1.PNG").write_bytes(png_bytes(digit_images[1]))
    save(folder / "a" / "photo.jpg", Image.fromarray(photo), quality=90)
    (folder / "a" / "empty.png").write_bytes(b"")
    (folder / "a" / "text.png").write_bytes(b"not a picture\n")
    (folder / "notes.txt").write_text("taken on Monday\n")
    return folder


def test_every_file_below_the_folder_is_found_in_order(mixed_folder):
    assert find_files(mixed_folder) == [
        "0.png",
        "a/b/1.PNG",
        "a/empty.png",
        "a/photo.jpg",
        "a/text.png",
        "notes.txt",
    ]


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path}/nowhere: no such"):
        find_files(tmp_path / "nowhere")


def test_images_are_decoded_and_the_rest_listed_with_the_reason(
    mixed_folder, digit_images, photo
):
    records, unreadable = read_records(mixed_folder)

    assert [r.path for r in records] == ["0.png", "a/b/1.PNG", "a/photo.jpg"]
    assert records[0].png == png_bytes(digit_images[0])
    assert (records[2].width, records[2].height) == photo.shape[1::-1]
    assert records[2].channels == 3
    # The ETL's properties, e.g. the digit's mean gray level.
    assert records[1].properties[features.BRIGHTNESS] == pytest.approx(
        digit_images[1].mean()
    )
    reasons = {bad.path: bad.reason for bad in unreadable}
    assert set(reasons) == {"a/empty.png", "a/text.png", "notes.txt"}
    assert "empty file" in reasons["a/empty.png"]
    assert "not an image" in reasons["a/text.png"]
    assert "not an image file name" in reasons["notes.txt"]


@pytest.mark.e2e
def test_new_images_are_preprocessed_exactly_as_in_training(
    tmp_path_factory, tmp_path, photo
):
    run = small_run(tmp_path_factory)
    finished = finished_run(
        run.config.pipeline.metadata,
        run.config.pipeline.name,
        None,
        task="classification",
    )
    train = run.raw / "train"

    images = load_folder(
        train, transform_graph=finished.transform_graph, task=TASK
    )

    transformed = read_pixels(
        [finished.transformed_train_examples], images.images.shape[1:]
    )
    row_of = {path: row for row, path in enumerate(transformed.paths)}
    rows = [row_of[f"train/{path}"] for path in images.paths]
    assert len(rows) == len(transformed)
    np.testing.assert_array_equal(images.images, transformed.images[rows])
    # The files the ETL quarantined are the unreadable ones, with why.
    broken = json.loads((run.raw / "defects.json").read_text())
    assert {f"train/{bad.path}" for bad in images.unreadable} == {
        b["path"] for b in broken["broken_files"]
    }
    assert all(bad.reason for bad in images.unreadable)

    # A photograph of another size goes through the same graph.
    save(tmp_path / "photo.jpg", Image.fromarray(photo), quality=95)
    one = load_folder(
        tmp_path, transform_graph=finished.transform_graph, task=TASK
    )
    size, _, channels = one.images.shape[1:]
    expected = decode_and_resize([one.pngs[0]], size, channels).numpy()
    np.testing.assert_allclose(one.images, expected, atol=1e-6)
