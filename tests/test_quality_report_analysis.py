"""The report's inputs: the ETL's quarantine, its examples read back as
tables, counts per split and class, and the analyses' findings files."""

import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.datasets import load_digits

from components.quality_report.analysis import (
    QUARANTINE_FILE,
    broken_files,
    class_counts,
    property_histograms,
    read_findings,
)
from core.dataset.embedded.digits import png_bytes, render_digit
from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_decoding import BadImageError
from core.dataset.etl.image_records import (
    load_image_record,
    to_tf_example,
)
from core.findings.finding import Finding
from core.findings.issues_csv import write_issues_csv
from core.findings.types import (
    BLANK,
    BROKEN_FILE,
    EXACT_DUPLICATE,
    LABEL_ISSUE,
    NEAR_DUPLICATE,
)
from core.readers.example_tables import (
    read_pixels,
    read_raw,
    sorted_by_path,
    split_of,
)
from models import features
from tasks.classification.task import TASK
from tests.conftest import save
from tests.raw_tables import raw_table


@pytest.fixture(scope="module")
def digits() -> list[np.ndarray]:
    return [render_digit(scan, 32) for scan in load_digits().images[:12]]


# --- broken_files ---------------------------------------------------------


def quarantine_row(root: Path, path: str, data: bytes) -> dict[str, str]:
    """Write `data` at root/path and quarantine it as the ETL does:
    with the reason and fix load_image_record gives."""
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(data)
    source = SourceImage(path.split("/")[0], path.split("/")[1], path)
    with pytest.raises(BadImageError) as raised:
        load_image_record(str(root), source, 0)
    return {
        "path": path,
        "reason": raised.value.reason,
        "fix": raised.value.fix,
    }


def write_quarantine(folder: Path, rows: list[dict[str, str]]) -> Path:
    """quarantine.csv as the ETL writes it (etl._write_csv)."""
    path = folder / QUARANTINE_FILE
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["path", "reason", "fix"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_quarantined_files_are_broken_file_findings(tmp_path, digits):
    truncated = png_bytes(digits[0])
    rows = [
        quarantine_row(tmp_path / "raw", "train/3/empty.png", b""),
        quarantine_row(
            tmp_path / "raw",
            "val/7/half.png",
            truncated[: len(truncated) // 2],
        ),
        quarantine_row(
            tmp_path / "raw", "train/1/notes.png", b"This is a text file.\n"
        ),
        # A file outside any class folder, as dataset_layout quarantines it.
        {
            "path": "train/stray.png",
            "reason": "not inside a class folder",
            "fix": "move it to train/<class>/stray.png",
        },
    ]
    quarantine = write_quarantine(tmp_path, rows)
    assert b"\r\n" in quarantine.read_bytes()  # csv's own line ends
    findings = broken_files(str(quarantine))
    assert [f.path for f in findings] == [row["path"] for row in rows]
    assert all(f.issue == BROKEN_FILE for f in findings)
    assert all(f.score == 1.0 and f.sha256 == "" for f in findings)
    assert [f.split for f in findings] == ["train", "val", "train", "train"]
    assert [f.given_label for f in findings] == ["3", "7", "1", ""]
    for finding, row in zip(findings, rows, strict=True):
        assert finding.detail == f"{row['reason']}; fix: {row['fix']}"
    assert findings[0].detail.startswith("empty file (0 bytes); fix: ")
    assert "corrupt or truncated image" in findings[1].detail
    assert "not an image" in findings[2].detail


def test_no_quarantine_file_means_no_broken_files(tmp_path):
    assert broken_files(str(tmp_path / QUARANTINE_FILE)) == []


def test_an_empty_quarantine_means_no_broken_files(tmp_path):
    assert broken_files(str(write_quarantine(tmp_path, []))) == []


# --- class_counts ----------------------------------------------------------


def test_class_counts_per_split_and_class(digits):
    images = [
        ("train/0/a.png", "0", digits[0]),
        ("train/0/b.png", "0", digits[10]),
        ("train/1/c.png", "1", digits[1]),
        ("val/1/d.png", "1", digits[11]),
        ("test/2/e.png", "2", digits[2]),
        ("train/2/f.png", "2", digits[2]),
    ]
    assert class_counts(raw_table(images)) == {
        "train": {"0": 2, "1": 1, "2": 1},
        "val": {"1": 1},
        "test": {"2": 1},
    }


def test_property_histograms_bin_every_split_alike(digits):
    images = [
        ("train/0/a.png", "0", digits[0]),
        ("train/1/b.png", "1", digits[1]),
        ("train/1/c.png", "1", 255 - digits[1]),
        ("val/1/d.png", "1", digits[11]),
    ]
    table = raw_table(images)
    histograms = property_histograms(table, bins=4)
    assert [h.name for h in histograms] == list(table.properties)
    (brightness,) = [h for h in histograms if h.name == features.BRIGHTNESS]
    values = table.properties[features.BRIGHTNESS]
    assert len(brightness.edges) == 5
    assert brightness.edges[0] == values.min()
    assert brightness.edges[-1] == values.max()
    assert {s: sum(c) for s, c in brightness.counts.items()} == {
        "train": 3,
        "val": 1,
    }
    # The inverted copy is the brightest image: last bin, in train.
    assert brightness.counts["train"][-1] >= 1


# --- read_findings ---------------------------------------------------------


def test_findings_round_trip_through_issues_csv(tmp_path):
    findings = [
        Finding(
            path="val/7/0012.png",
            sha256="ab" * 32,
            split="val",
            issue=EXACT_DUPLICATE,
            score=1.0,
            given_label="1",
            detail="same bytes as train/7/0003.png (leak train→val);"
            " labels differ: 1 here, 7 there",
        ),
        Finding(
            path="train/3/0001.png",
            sha256="",
            split="train",
            issue=LABEL_ISSUE,
            score=0.9731,
            given_label="3",
            suggested_label="8",
            detail='pixel_probe: out-of-sample prediction "8", not 3',
        ),
        Finding(
            path="test/5/0100.png",
            sha256="cd" * 32,
            split="test",
            issue=NEAR_DUPLICATE,
            score=0.9876,
            given_label="5",
            detail="looks like val/5/0042.png (leak val→test)",
        ),
        Finding(
            path="train/0/blank.png",
            sha256="ef" * 32,
            split="train",
            issue=BLANK,
            score=1.0,
            given_label="0",
            detail="shows nothing: contrast 0.0 of 255\nsecond line",
        ),
    ]
    path = str(tmp_path / "findings.csv")
    write_issues_csv(findings, path)
    read = read_findings(path)
    # issues.csv is in report order: by issue type, most certain first
    assert [f.issue for f in read] == [
        LABEL_ISSUE,
        EXACT_DUPLICATE,
        NEAR_DUPLICATE,
        BLANK,
    ]
    assert sorted(read, key=lambda f: f.path) == sorted(
        findings, key=lambda f: f.path
    )


def test_read_findings_of_an_empty_issues_csv(tmp_path):
    path = str(tmp_path / "findings.csv")
    write_issues_csv([], path)
    assert read_findings(path) == []


# --- read_raw and read_pixels ---------------------------------------------


def write_tfrecords(folder: Path, examples: list[tf.train.Example]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = "data_tfrecord-00000-of-00001.gz"
    with tf.io.TFRecordWriter(str(folder / name), options="GZIP") as writer:
        for example in examples:
            writer.write(example.SerializeToString())


@pytest.fixture
def etl_examples(tmp_path, digits, photo) -> dict:
    """Real image files through the ETL's record code into gzip'd
    TFRecords, one folder per split."""
    root = tmp_path / "raw"
    sources = {
        "train/0/a.png": Image.fromarray(digits[0]),
        "train/1/b.png": Image.fromarray(digits[1]),
        "train/2/photo.jpg": Image.fromarray(photo[:48, :64]),
        "val/1/c.png": Image.fromarray(digits[11]),
    }
    for path, image in sources.items():
        save(root / path, image)
    classes = ["0", "1", "2"]
    records = [
        load_image_record(
            str(root),
            SourceImage(split_of(path), path.split("/")[1], path),
            classes.index(path.split("/")[1]),
        )
        for path in sources
    ]
    for split in ("train", "val"):
        write_tfrecords(
            tmp_path / "examples" / f"Split-{split}",
            [to_tf_example(r, TASK) for r in records if r.split == split],
        )
    return {
        "root": root,
        "records": records,
        "dirs": [
            str(tmp_path / "examples" / f"Split-{s}") for s in ("train", "val")
        ],
    }


def test_read_raw_reads_back_the_etl_records(etl_examples):
    table = read_raw(etl_examples["dirs"])
    records = etl_examples["records"]
    root = etl_examples["root"]
    assert len(table) == 4
    assert table.paths == [r.path for r in records]
    assert table.labels.tolist() == [0, 1, 2, 1]
    assert table.label_names == ["0", "1", "2", "1"]
    assert table.sha256 == [
        hashlib.sha256((root / r.path).read_bytes()).hexdigest()
        for r in records
    ]
    assert table.widths.tolist() == [32, 32, 64, 32]
    assert table.heights.tolist() == [32, 32, 48, 32]
    assert table.channels.tolist() == [1, 1, 3, 1]
    assert set(table.properties) == set(features.PROPERTIES)
    for name in features.PROPERTIES:
        np.testing.assert_allclose(
            table.properties[name],
            [r.properties[name] for r in records],
            rtol=1e-6,  # stored as float32
        )
    for png, record in zip(table.pngs, records, strict=True):
        assert png == record.png
    with Image.open(root / "train/1/b.png") as image:
        original = np.asarray(image)
    with Image.open(io.BytesIO(table.pngs[1])) as image:
        decoded = np.asarray(image)
    np.testing.assert_array_equal(decoded, original)


def test_sorted_by_path_keeps_each_row_whole(etl_examples):
    # Read val before train: the file order a run may meet.
    table = read_raw(etl_examples["dirs"][::-1])
    assert table.paths[0] == "val/1/c.png"
    by_path = sorted_by_path(table)
    assert by_path.paths == sorted(table.paths)
    for i, path in enumerate(by_path.paths):
        row = table.paths.index(path)
        assert by_path.labels[i] == table.labels[row]
        assert by_path.label_names[i] == path.split("/")[1]
        assert by_path.sha256[i] == table.sha256[row]
        assert by_path.widths[i] == table.widths[row]
        assert by_path.pngs[i] == table.pngs[row]
        for name, values in by_path.properties.items():
            assert values[i] == table.properties[name][row]


def test_read_raw_of_a_folder_without_tfrecords_names_it(tmp_path):
    empty = tmp_path / "Split-train"
    empty.mkdir()
    (empty / "notes.txt").write_text("no records here\n")
    with pytest.raises(
        ValueError, match=re.escape(f"No gzip'd TFRecord files in {empty}:")
    ):
        read_raw([str(empty)])


def transformed_example(
    path: str, pixels: np.ndarray, label: int
) -> tf.train.Example:
    feature = {
        features.TRANSFORMED_IMAGE: tf.train.Feature(
            float_list=tf.train.FloatList(value=pixels.ravel().tolist())
        ),
        features.TRANSFORMED_LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[label])
        ),
        features.PATH: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[path.encode()])
        ),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


def test_read_pixels_reads_back_the_transformed_images(tmp_path, digits):
    images = [
        np.repeat(digit[:, :, None], 3, axis=2).astype(np.float32) / 255
        for digit in digits[:3]
    ]
    paths = ["train/0/a.png", "train/1/b.png", "train/2/c.png"]
    write_tfrecords(
        tmp_path / "Split-train",
        [
            transformed_example(path, image, label)
            for label, (path, image) in enumerate(
                zip(paths, images, strict=True)
            )
        ],
    )
    table = read_pixels([str(tmp_path / "Split-train")], (32, 32, 3))
    assert table.paths == paths
    assert table.labels.tolist() == [0, 1, 2]
    assert table.images.shape == (3, 32, 32, 3)
    assert table.images.dtype == np.float32
    np.testing.assert_array_equal(table.images, np.stack(images))


def test_read_pixels_of_raw_examples_says_what_is_missing(etl_examples):
    with pytest.raises(ValueError, match="Cannot read the features"):
        read_pixels(etl_examples["dirs"], (32, 32, 3))


def test_read_pixels_of_the_wrong_shape_is_refused(tmp_path, digits):
    image = np.repeat(digits[0][:, :, None], 3, axis=2) / np.float32(255)
    write_tfrecords(
        tmp_path / "Split-eval", [transformed_example("val/0/a.png", image, 0)]
    )
    with pytest.raises(ValueError, match="must come from this package's ETL"):
        read_pixels([str(tmp_path / "Split-eval")], (28, 28, 3))
