import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core.dataset.embedded.digits import png_bytes
from core.dataset.etl import image_records
from core.dataset.etl.dataset_layout import DatasetError
from core.dataset.etl.etl import (
    EtlOutputError,
    read_classes,
    read_data_dir,
    run_etl,
)
from core.dataset.etl.image_properties import image_properties
from models import features
from tests.conftest import IN_PROCESS_BEAM, REPO, save

SPLITS = ("train", "val")


def read_examples(output: Path, split: str) -> dict[str, tf.train.Example]:
    files = sorted(str(p) for p in (output / split).glob("*.tfrecord.gz"))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    examples = [tf.train.Example.FromString(r.numpy()) for r in dataset]
    return {feature(e, features.PATH).decode(): e for e in examples}


def feature(example: tf.train.Example, name: str):
    value = example.features.feature[name]
    kind = value.WhichOneof("kind")
    return getattr(value, kind).value[0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as file:
        return list(csv.DictReader(file))


@pytest.fixture
def mixed_folder(tmp_path, photo, digit_images) -> tuple[Path, dict]:
    """A small folder of real images in every supported mode, plus one
    broken file of each kind; returns it and the expected pixels."""
    root = tmp_path / "images"
    expected: dict[str, np.ndarray] = {}

    def add(path: str, image: Image.Image, reference: np.ndarray, **opts):
        save(root / path, image, **opts)
        expected[path] = reference

    for n in range(4):
        gray = digit_images[n]
        add(f"train/digit/{n}.png", Image.fromarray(gray), gray[..., None])
        add(f"val/digit/{n}.png", Image.fromarray(gray), gray[..., None])
    crop = photo[100:164, 200:296]
    add("train/photo/rgb.png", Image.fromarray(crop), crop)
    add(
        "train/photo/rgba.png",
        Image.fromarray(crop).convert("RGBA"),
        np.asarray(Image.fromarray(crop).convert("RGBA")),
    )
    palette = Image.fromarray(crop).convert("P", palette=Image.Palette.WEB)
    add("train/photo/palette.png", palette, np.asarray(palette.convert("RGB")))
    wide = digit_images[5].astype(np.uint16) * 257
    add(
        "train/digit/wide.png",
        Image.fromarray(wide),
        digit_images[5][..., None],
    )
    save(root / "val/photo/photo.jpg", Image.fromarray(crop), quality=90)
    expected["val/photo/photo.jpg"] = np.asarray(
        Image.open(root / "val/photo/photo.jpg").convert("RGB")
    )
    (root / "train/digit/empty.png").write_bytes(b"")
    (root / "train/digit/text.png").write_text("not a picture\n")
    half = png_bytes(digit_images[6])
    (root / "train/photo/cut.png").write_bytes(half[: len(half) // 2])
    return root, expected


def run(data: Path, output: Path, **overrides):
    options = {
        "splits": SPLITS,
        "on_bad_file": "skip",
        "images_per_shard": 3,
        "parallel_from_images": 10_000,
        "beam_args": IN_PROCESS_BEAM,
    }
    options.update(overrides)
    return run_etl(str(data), str(output), **options)


def test_round_trip_gives_back_the_source_pixels(mixed_folder, tmp_path):
    root, expected = mixed_folder
    output = tmp_path / "out"
    summary = run(root, output)

    classes = json.loads((output / "classes.json").read_text())
    assert classes == ["digit", "photo"]
    examples = {
        **read_examples(output, "train"),
        **read_examples(output, "val"),
    }
    assert sorted(examples) == sorted(expected)
    for path, pixels in expected.items():
        example = examples[path]
        decoded = tf.io.decode_png(feature(example, features.IMAGE)).numpy()
        np.testing.assert_array_equal(decoded, pixels, err_msg=path)
        label = feature(example, features.LABEL)
        assert classes[label] == path.split("/")[1]
        source = (root / path).read_bytes()
        assert (
            feature(example, features.SHA256).decode()
            == hashlib.sha256(source).hexdigest()
        )
        height, width, channels = pixels.shape
        assert feature(example, features.WIDTH) == width
        assert feature(example, features.HEIGHT) == height
        assert feature(example, features.CHANNELS) == channels
        for name, value in image_properties(pixels).items():
            assert feature(example, name) == pytest.approx(value, rel=1e-6)
    # Shards are planned from the 11 train files found, 3 per shard.
    assert len(list((output / "train").glob("*.tfrecord.gz"))) == 4
    assert summary.images == {
        "train": {"digit": 5, "photo": 3},
        "val": {"digit": 4, "photo": 1},
    }


def test_every_file_is_accounted_for(mixed_folder, tmp_path):
    root, expected = mixed_folder
    output = tmp_path / "out"
    run(root, output)
    on_disk = {
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
    }
    manifest = read_csv(output / "manifest.csv")
    quarantine = read_csv(output / "quarantine.csv")
    converted = {row["path"] for row in manifest}
    rejected = {row["path"] for row in quarantine}
    assert converted == set(expected)
    assert converted | rejected == on_disk
    assert not converted & rejected
    photo_row = next(r for r in manifest if r["path"] == "val/photo/photo.jpg")
    assert photo_row["source_format"] == "JPEG"
    assert photo_row["split"] == "val"


def test_the_output_names_its_classes_and_the_folder_it_came_from(
    mixed_folder, tmp_path
):
    root, expected = mixed_folder
    output = tmp_path / "out"
    run(root, output)
    assert read_classes(str(output)) == sorted(
        {path.split("/")[1] for path in expected}
    )
    # What `dcp autolabel` adds images to, by default.
    assert read_data_dir(str(output)) == str(root)
    with pytest.raises(EtlOutputError, match=r"summary\.json: not found"):
        read_data_dir(str(tmp_path / "never-made"))


def test_a_label_map_relabels_the_examples_and_keeps_the_folder(
    mixed_folder, tmp_path
):
    root, expected = mixed_folder
    output = tmp_path / "out"
    summary = run(
        root, output, labels={"digit": "picture", "photo": "picture"}
    )
    assert json.loads((output / "classes.json").read_text()) == ["picture"]
    examples = read_examples(output, "train")
    assert {
        feature(e, features.LABEL_NAME).decode() for e in examples.values()
    } == {"picture"}
    manifest = read_csv(output / "manifest.csv")
    assert {r["path"]: r["folder_label"] for r in manifest} == {
        path: path.split("/")[1] for path in expected
    }
    assert {r["label_name"] for r in manifest} == {"picture"}
    assert summary.images == {"train": {"picture": 8}, "val": {"picture": 5}}
    assert "  labels: digit, photo → picture" in summary.format()


def test_each_kind_of_broken_file_is_quarantined_with_its_reason(
    mixed_folder, tmp_path
):
    root, _ = mixed_folder
    output = tmp_path / "out"
    summary = run(root, output)
    reasons = {
        row["path"]: row["reason"]
        for row in read_csv(output / "quarantine.csv")
    }
    assert reasons["train/digit/empty.png"] == "empty file (0 bytes)"
    assert reasons["train/digit/text.png"].startswith("not an image")
    assert reasons["train/photo/cut.png"].startswith(
        "corrupt or truncated image"
    )
    assert len(summary.quarantined) == 3
    assert "3 quarantined" in summary.format()
    assert "train/photo/cut.png" in summary.format()


def test_junk_empty_class_and_outside_symlink_are_in_the_summary(
    tmp_path, digit_images
):
    root = tmp_path / "images"
    for split in SPLITS:
        save(root / split / "a" / "0.png", Image.fromarray(digit_images[0]))
    (root / "train" / "a" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "train" / "b").mkdir()
    outside = tmp_path / "elsewhere.png"
    save(outside, Image.fromarray(digit_images[1]))
    (root / "val" / "a" / "1.png").symlink_to(outside)
    output = tmp_path / "out"
    summary = run(root, output)
    assert read_csv(output / "quarantine.csv") == []
    assert sorted(
        row["path"] for row in read_csv(output / "manifest.csv")
    ) == [
        "train/a/0.png",
        "val/a/0.png",
        "val/a/1.png",
    ]
    warnings = json.loads((output / "summary.json").read_text())["warnings"]
    assert warnings == [
        "train/b/: empty class folder; add images to it or remove it",
        "skipped, as operating-system files and not data: train/a/.DS_Store",
        f"val/a/1.png: a symlink to {outside}, outside {root}; it is read,"
        " but a data version may not include it: copy it in",
    ]
    assert all(w in summary.format() for w in warnings)


def test_fail_policy_publishes_nothing(mixed_folder, tmp_path):
    root, _ = mixed_folder
    output = tmp_path / "out"
    with pytest.raises(DatasetError) as raised:
        run(root, output, on_bad_file="fail")
    message = str(raised.value)
    assert "3 bad files" in message
    assert "train/digit/empty.png: empty file (0 bytes)" in message
    assert "--on-bad-file=skip" in message
    assert not output.exists()
    assert list(tmp_path.glob(".out.*")) == []


def test_failed_run_leaves_the_previous_output_untouched(
    mixed_folder, tmp_path, monkeypatch
):
    root, _ = mixed_folder
    output = tmp_path / "out"
    run(root, output)
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}

    calls = []

    def fail_midway(pixels):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("disk on fire")
        return image_properties(pixels)

    monkeypatch.setattr(image_records, "image_properties", fail_midway)
    with pytest.raises(Exception, match="disk on fire"):
        run(root, output)
    after = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "out"]


def test_killed_run_leaves_no_partial_output(tmp_path, digit_images):
    root = tmp_path / "images"
    for n in range(600):
        split = "val" if n % 5 == 0 else "train"
        image = Image.fromarray(digit_images[n % 40]).resize((256, 256))
        save(root / split / str(n % 10) / f"{n}.png", image)
    output = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "dcp.cli",
        "etl",
        f"--data={root}",
        f"--output={output}",
        "--splits=train,val",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    # Files in a split folder: Beam's, not the marker written first.
    while not any(tmp_path.glob(".out.staging-*/*/*")):
        assert process.poll() is None, "the ETL ended before it was killed"
        assert time.monotonic() < deadline, "the ETL never started writing"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists()

    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    assert len(read_csv(output / "manifest.csv")) == 600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "out"]


def test_unchanged_input_reuses_the_output(mixed_folder, tmp_path):
    root, _ = mixed_folder
    output = tmp_path / "out"
    first = run(root, output, reuse_unchanged=True)
    shards = {p: p.stat().st_mtime_ns for p in output.rglob("*.gz")}
    again = run(root, output, reuse_unchanged=True)
    assert again == first
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*.gz")} == shards

    changed = root / "val" / "digit" / "0.png"
    changed.write_bytes(changed.read_bytes())  # same bytes, new mtime
    os.utime(changed, ns=(1, 1))
    third = run(root, output, reuse_unchanged=True)
    assert third.fingerprint != first.fingerprint
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*.gz")} != shards
