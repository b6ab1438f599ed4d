"""`dcp augment`: operations on real digits, the plan's arithmetic, and
new images written into a real image folder as a git+DVC data version."""

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.datasets import load_digits

from components.duplicates.finding import find_duplicates, normalised_pixels
from components.quality_report.report_data import SliceRow
from core.dataset.embedded.digits import png_bytes, render_digit
from dcp.commands.augment import add_parser
from dcp.config import load_config
from iteration.augmentation import operations as ops
from iteration.augmentation.allocation import (
    CLASS,
    SLICE,
    Weakness,
    balance,
    largest_remainder,
    new_image_count,
    weak_count,
    weak_targets,
)
from iteration.augmentation.dataset import (
    pick_parents,
    read_dataset,
    slice_parents,
)
from iteration.augmentation.distinctness import draw_distinct, signature
from iteration.augmentation.job import augment_folder
from iteration.augmentation.last_evaluation import read_last_run
from iteration.augmentation.parent_preference import read_preference
from iteration.augmentation.plan import BALANCE, make_plan
from iteration.augmentation.writing import LINEAGE_FILE, read_generated
from models import image_cleanup
from tasks.classification.task import TASK
from tests.conftest import REPO
from tests.raw_tables import raw_table

CONFIG = load_config(REPO / "params.yaml")
SETTINGS = CONFIG.augment
MAX_DISTANCE = CONFIG.quality.near_duplicate_distance


@pytest.fixture(scope="module")
def labelled_digits() -> list[tuple[str, np.ndarray]]:
    """Real digit scans as (class name, 32x32 uint8 pixels)."""
    data = load_digits()
    return [
        (str(label), render_digit(scan, 32))
        for scan, label in zip(
            data.images[:120], data.target[:120], strict=True
        )
    ]


def pil(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(pixels)


# Operations, on real pixels.


def test_rotation_keeps_size_and_mode_and_moves_the_strokes(digit_images):
    digit = digit_images[3]
    rotated = ops.rotate(pil(digit), degrees=15)
    assert rotated.size == (32, 32) and rotated.mode == "L"
    changed = np.abs(np.asarray(rotated, float) - digit)
    assert changed.mean() > 10
    # A quarter turn of a square image is exact, counter-clockwise.
    np.testing.assert_array_equal(
        np.asarray(ops.rotate(pil(digit), degrees=90)), np.rot90(digit)
    )


def test_rotation_fills_the_corners_with_the_background(photo):
    scene = pil(photo[:120, :160])
    border = ops.background(scene)
    rotated = np.asarray(ops.rotate(scene, degrees=30))
    assert len(border) == 3
    np.testing.assert_array_equal(rotated[0, 0], border)


@pytest.mark.parametrize("factor", [1.3, 0.7])
def test_zoom_keeps_size_and_scales_the_strokes(digit_images, factor):
    digit = digit_images[5]
    zoomed = np.asarray(ops.zoom(pil(digit), factor=factor))
    assert zoomed.shape == digit.shape
    strokes, zoomed_strokes = (
        np.count_nonzero(a > 128) for a in (digit, zoomed)
    )
    # The stroke area grows or shrinks by about the square of the factor.
    assert zoomed_strokes / strokes == pytest.approx(factor**2, rel=0.25)


def test_crop_keeps_the_shape_and_stretches_the_part_left(photo):
    scene = photo[150:270, 250:410]
    cropped = np.asarray(
        ops.crop(pil(scene), left=0.5, top=0.0, right=0.0, bottom=0.0)
    ).astype(float)
    assert cropped.shape == scene.shape
    # The right half, twice as wide: every other column is one of its.
    assert np.abs(cropped[:, 1::2] - scene[:, 80:]).mean() < 2
    assert np.abs(cropped[:, 1::2] - scene[:, :80]).mean() > 20


def test_brightness_scales_the_mean(digit_images, photo):
    for pixels in (digit_images[0], photo[:120, :160]):
        darker = np.asarray(ops.brightness(pil(pixels), factor=0.7), float)
        assert darker.mean() == pytest.approx(0.7 * pixels.mean(), rel=0.02)
    digit = digit_images[0]
    brighter = np.asarray(ops.brightness(pil(digit), factor=1.3), float)
    # Clipped at white, so by less than the factor.
    assert digit.mean() < brighter.mean() < 1.3 * digit.mean()


@pytest.mark.parametrize(
    ("operation", "parameters", "transform_op"),
    [
        (ops.median_filter, {"size": 3}, image_cleanup.median_filter),
        (ops.opening, {"size": 3}, image_cleanup.opening),
    ],
)
def test_cleanup_equals_the_transforms_op(
    digit_images, operation, parameters, transform_op
):
    for digit in digit_images[:6]:
        ours = np.asarray(operation(pil(digit), **parameters))
        batch = tf.constant(
            digit[np.newaxis, :, :, np.newaxis] / 255, tf.float32
        )
        theirs = transform_op(batch, *parameters.values()).numpy()[0, :, :, 0]
        np.testing.assert_allclose(ours, theirs * 255, atol=1e-3)


def test_adaptive_threshold_equals_the_transforms_op(digit_images):
    for digit in digit_images[:6]:
        ours = np.asarray(
            ops.adaptive_threshold(pil(digit), block_size=11, offset=-0.05)
        )
        batch = tf.constant(
            digit[np.newaxis, :, :, np.newaxis] / 255, tf.float32
        )
        theirs = image_cleanup.adaptive_threshold(batch, 11, -0.05).numpy()
        assert set(np.unique(ours)) <= {0, 255}
        assert np.mean(ours / 255 == theirs[0, :, :, 0]) > 0.99
        assert 0 < np.count_nonzero(ours) < ours.size


def test_cleanup_leaves_the_alpha_channel_alone(photo):
    alpha = np.tile(np.linspace(0, 255, 80).astype(np.uint8), (60, 1))
    rgba = np.dstack([photo[:60, :80], alpha])
    filtered = np.asarray(ops.median_filter(pil(rgba), size=5))
    np.testing.assert_array_equal(filtered[:, :, 3], rgba[:, :, 3])
    assert not np.array_equal(filtered[:, :, :3], rgba[:, :, :3])


def test_recipe_always_rotates_by_at_least_half_the_range():
    rng = np.random.default_rng(3)
    recipes = [ops.draw_recipe(rng, SETTINGS) for _ in range(200)]
    degrees = [dict(recipe)["rotate"]["degrees"] for recipe in recipes]
    most = SETTINGS.rotation_degrees
    assert all(most / 2 <= abs(d) <= most for d in degrees)
    assert min(degrees) < 0 < max(degrees)
    cleaned = [r for r in recipes if len(r) == 5]
    assert 0.1 < len(cleaned) / len(recipes) < 0.3  # cleanup_share 0.2


def test_a_recipe_from_its_json_remakes_the_image(digit_images):
    recipe = ops.draw_recipe(np.random.default_rng(0), SETTINGS)
    again = list(json.loads(json.dumps(dict(recipe))).items())
    first = ops.apply_recipe(pil(digit_images[7]), recipe)
    second = ops.apply_recipe(pil(digit_images[7]), again)
    assert png_bytes(np.asarray(first)) == png_bytes(np.asarray(second))
    assert ops.describe(recipe).startswith("rotate ")


def test_settings_without_rotation_or_zoom_are_refused():
    flat = dataclasses.replace(SETTINGS, rotation_degrees=0.0, zoom=0.0)
    with pytest.raises(ValueError, match="rotation_degrees"):
        ops.check_settings(flat)
    even = dataclasses.replace(
        SETTINGS,
        cleanup=dataclasses.replace(SETTINGS.cleanup, median_filter=4),
    )
    with pytest.raises(ValueError, match=r"median_filter.*odd"):
        ops.check_settings(even)


def test_new_images_are_no_near_duplicates_of_parents_or_siblings(
    labelled_digits,
):
    rng = np.random.default_rng(0)
    images = []
    for index, (label, digit) in enumerate(labelled_digits[:12]):
        images.append((f"train/{label}/{index}.png", label, digit))
        kept = signature(png_bytes(digit))[np.newaxis]
        for child in range(8):
            draw = draw_distinct(
                rng, pil(digit), SETTINGS, kept, max_distance=MAX_DISTANCE
            )
            kept = np.concatenate([kept, draw.signature[np.newaxis]])
            pixels = np.asarray(Image.open(io.BytesIO(draw.png)))
            images.append(
                (f"train/{label}/{index}_{child}.png", label, pixels)
            )
    table = raw_table(images)
    pairs = find_duplicates(
        table, normalised_pixels(table.pngs), max_distance=MAX_DISTANCE
    )
    assert pairs == []


def test_the_duplicate_analysis_does_flag_a_small_rotation(labelled_digits):
    _, digit = labelled_digits[0]
    slightly = np.asarray(ops.rotate(pil(digit), degrees=2))
    table = raw_table(
        [("train/0/a.png", "0", digit), ("train/0/b.png", "0", slightly)]
    )
    pairs = find_duplicates(
        table, normalised_pixels(table.pngs), max_distance=MAX_DISTANCE
    )
    assert len(pairs) == 1


# Planning, with numbers.


def test_new_image_count_fills_the_budget_or_says_it_is_full():
    assert new_image_count(budget=100, train=60, val=30) == 10
    for train in (70, 80):
        with pytest.raises(ValueError, match="budget is 100"):
            new_image_count(budget=100, train=train, val=30)


def test_weak_count_rounds_and_checks_the_share():
    assert weak_count(7, 0.5) == 4
    assert weak_count(7, 0.0) == 0
    with pytest.raises(ValueError, match="weak_share"):
        weak_count(7, 1.5)


@pytest.mark.parametrize("total", [0, 1, 10, 9999])
def test_largest_remainder_adds_up_exactly(total):
    counts = largest_remainder(total, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert sum(counts.values()) == total
    assert max(counts.values()) - min(counts.values()) <= 1
    skewed = largest_remainder(total, {"a": 0.7, "b": 0.2, "c": 0.1})
    assert sum(skewed.values()) == total
    assert skewed["a"] == pytest.approx(0.7 * total, abs=1)


def test_largest_remainder_refuses_no_weight():
    with pytest.raises(ValueError, match="positive"):
        largest_remainder(3, {"a": 0.0})


def test_balance_fills_the_smallest_classes_first():
    assert balance(4, {"a": 5, "b": 2, "c": 2}) == {"a": 0, "b": 2, "c": 2}
    assert balance(7, {"a": 5, "b": 2, "c": 2}) == {"a": 1, "b": 3, "c": 3}
    assert balance(0, {"a": 1}) == {"a": 0}


WEAKNESS = Weakness(
    source="test",
    accuracy=0.9,
    per_class_accuracy={"0": 0.95, "1": 0.7, "2": 0.8, "9": 0.5},
    slices=(
        SliceRow("brightness_bucket", 0, 0.85, 40),
        SliceRow("brightness_bucket", 1, 0.95, 40),
    ),
)

WEAKNESS_CLASS_0 = Weakness(
    source="test",
    accuracy=0.9,
    per_class_accuracy={"0": 0.5, "1": 0.95, "2": 0.95},
    slices=(),
)


def test_weak_targets_share_by_gap_below_the_overall_accuracy():
    targets = weak_targets(
        WEAKNESS,
        100,
        classes={"0", "1", "2"},  # no parent of class 9
        slices={"brightness_bucket=0", "brightness_bucket=1"},
    )
    assert [(t.kind, t.name) for t in targets] == [
        (CLASS, "1"),
        (CLASS, "2"),
        (SLICE, "brightness_bucket=0"),
    ]
    # Gaps 0.2, 0.1, 0.05 of 0.35.
    assert [t.count for t in targets] == [57, 29, 14]


def test_nothing_below_the_overall_accuracy_targets_nothing():
    even = dataclasses.replace(
        WEAKNESS, per_class_accuracy={"0": 0.9}, slices=()
    )
    assert weak_targets(even, 50, classes={"0"}, slices=set()) == []


# The folder: a real split/class/*.png layout in tmp.


def write_folder(root: Path, labelled_digits) -> None:
    """train: 6, 4 and 3 digits of classes 0, 1, 2, plus a blank image
    and a broken file; val and test: 2 digits per class."""
    by_class: dict[str, list[np.ndarray]] = {}
    for label, pixels in labelled_digits:
        by_class.setdefault(label, []).append(pixels)
    counts = {"train": (6, 4, 3), "val": (2, 2, 2), "test": (2, 2, 2)}
    start = 0
    for split, per_class in counts.items():
        for label, n in zip(("0", "1", "2"), per_class, strict=True):
            for i, pixels in enumerate(by_class[label][start : start + n]):
                path = root / split / label / f"{split}{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(png_bytes(pixels))
        start += max(per_class)
    (root / "train/0/blank.png").write_bytes(
        png_bytes(np.full((32, 32), 40, np.uint8))
    )
    (root / "train/1/broken.png").write_bytes(b"")


def file_bytes(root: Path, split: str) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / split).rglob("*"))
        if p.is_file()
    }


def test_read_dataset_counts_what_the_etl_converts(tmp_path, labelled_digits):
    write_folder(tmp_path, labelled_digits)
    dataset = read_dataset(tmp_path, generated={"train/0/train0.png"})
    assert dataset.train_counts == {"0": 7, "1": 4, "2": 3}  # blank counts
    assert dataset.val_count == 6
    assert dataset.left_out == {
        "broken": 1,
        "blank": 1,
        "generated earlier": 1,
    }
    assert len(dataset.parents) == 12


def test_an_empty_train_split_is_refused(tmp_path):
    (tmp_path / "train/0").mkdir(parents=True)
    (tmp_path / "train/0/broken.png").write_bytes(b"")
    with pytest.raises(ValueError, match="no image to augment"):
        read_dataset(tmp_path, generated=set())


def test_slice_parents_follow_the_property_quartiles_of_train(
    tmp_path, labelled_digits
):
    write_folder(tmp_path, labelled_digits)
    dataset = read_dataset(tmp_path, generated=set())
    quartiles = [
        slice_parents(dataset, "brightness_bucket", b, buckets=4)
        for b in range(4)
    ]
    assert sum(len(q) for q in quartiles) == len(dataset.parents)
    darkest = max(p.properties["brightness"] for p in quartiles[0])
    brightest = min(p.properties["brightness"] for p in quartiles[3])
    assert darkest < brightest


def test_pick_parents_uses_each_once_before_any_twice(
    tmp_path, labelled_digits
):
    write_folder(tmp_path, labelled_digits)
    parents = list(read_dataset(tmp_path, generated=set()).parents)
    picked = pick_parents(np.random.default_rng(0), parents, 30)
    counts = [picked.count(p) for p in parents]
    assert len(picked) == 30 and set(counts) <= {2, 3}


@pytest.mark.parametrize("weakness", [None, WEAKNESS])
def test_the_plan_fills_the_budget_exactly(
    tmp_path, labelled_digits, weakness
):
    write_folder(tmp_path, labelled_digits)
    dataset = read_dataset(tmp_path, generated=set())
    plan = make_plan(
        dataset,
        budget=40,
        weakness=weakness,
        note="test",
        weak_share=0.5,
        buckets=4,
        rng=np.random.default_rng(0),
    )
    assert len(plan.images) == 40 - 14 - 6
    reasons = {image.reason for image in plan.images}
    assert all(image.parent in dataset.parents for image in plan.images)
    if weakness is None:
        assert reasons == {BALANCE}
    else:
        weak = [i for i in plan.images if i.reason != BALANCE]
        assert len(weak) == 10
        assert {i.parent.label for i in weak if i.reason == "class 1"} == {"1"}
        assert "class 9" not in reasons
    assert "budget 40" in plan.format()


def test_read_last_run_without_a_run_balances_only(tmp_path):
    last_run = read_last_run(
        tmp_path / "metadata.sqlite", "digits", data_root="", classes={"0"}
    )
    assert last_run.weakness is None and "no run yet" in last_run.note
    assert last_run.preference is None
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "empty.sqlite")
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    metadata_store.MetadataStore(config)
    last_run = read_last_run(
        tmp_path / "empty.sqlite", "digits", data_root="", classes={"0"}
    )
    assert last_run.weakness is None
    assert "no run of 'digits'" in last_run.note


def test_weighted_picks_draw_the_heavy_parents_first(
    tmp_path, labelled_digits
):
    write_folder(tmp_path, labelled_digits)
    parents = list(read_dataset(tmp_path, generated=set()).parents)
    heavy = parents[::2]
    weights = [10.0 if p in heavy else 0.1 for p in parents]
    rng = np.random.default_rng(0)
    first = pick_parents(rng, parents, len(heavy), weights)
    assert sum(p in heavy for p in first) >= len(heavy) - 1
    # Still each once before any twice.
    picked = pick_parents(rng, parents, 30, weights)
    assert {picked.count(p) for p in parents} <= {2, 3}


def write_population(
    report_dir: Path, dataset, paths_density: dict[str, tuple[float, float]]
) -> None:
    """A population.csv as the QualityReport writes it (the columns
    augmentation reads, and one it does not)."""
    lines = ["path,loss,uniqueness,representativeness"]
    for image in dataset.train:
        u, r = paths_density.get(image.path, (0.5, 0.5))
        lines.append(f"{image.path},0.1,{u},{r}")
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "population.csv").write_text("\n".join(lines) + "\n")


def test_the_plan_prefers_representative_non_redundant_parents(
    tmp_path, labelled_digits
):
    write_folder(tmp_path / "data", labelled_digits)
    dataset = read_dataset(tmp_path / "data", generated=set())
    by_class: dict[str, list[str]] = {}
    for parent in dataset.parents:
        by_class.setdefault(parent.label, []).append(parent.path)
    # Class 0's first three parents: a near-copy of others, a rare kind.
    redundant, rare, *_ = by_class["0"]
    write_population(
        tmp_path / "report",
        dataset,
        {redundant: (0.0, 0.9), rare: (0.9, 0.05)},
    )
    assert read_preference(str(tmp_path / "nothing")) is None
    preference = read_preference(str(tmp_path / "report"))
    assert preference is not None
    assert preference.weight(redundant) < preference.weight("train/9/x.png")
    assert preference.weight(rare) < preference.weight(by_class["0"][2])
    drawn = Counter()
    for seed in range(40):
        plan = make_plan(
            dataset,
            budget=24,  # 4 new images, 2 of them for the weak class 0
            weakness=WEAKNESS_CLASS_0,
            note="test",
            weak_share=0.5,
            buckets=4,
            rng=np.random.default_rng(seed),
            preference=preference,
        )
        drawn.update(i.parent.path for i in plan.images)
    # Drawn alike, these two would be 2 of the 6 parents of class 0:
    # a third of its 2 * 40 draws.
    assert drawn[redundant] + drawn[rare] < 0.2 * 40 * 2
    assert "drawn first" in plan.format()
    assert "rarest or most redundant" in plan.format()
    assert (
        "drawn alike"
        in make_plan(
            dataset,
            budget=24,
            weakness=None,
            note="test",
            weak_share=0.5,
            buckets=4,
            rng=np.random.default_rng(0),
        ).format()
    )


# The whole command, in a real git+DVC repository.


def sh(*command: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def repo(tmp_path, labelled_digits) -> Path:
    """A git+DVC repository with the image folder `data`."""
    write_folder(tmp_path / "data", labelled_digits)
    sh("git", "init", "-q", cwd=tmp_path)
    sh("git", "config", "user.name", "Test", cwd=tmp_path)
    sh("git", "config", "user.email", "test@example.com", cwd=tmp_path)
    sh("dvc", "init", "-q", cwd=tmp_path)
    sh("git", "commit", "-qm", "init", cwd=tmp_path)
    return tmp_path


def config_for(repo: Path):
    return dataclasses.replace(
        CONFIG,
        pipeline=dataclasses.replace(
            CONFIG.pipeline, metadata=str(repo / "no-run.sqlite")
        ),
        fix=dataclasses.replace(
            CONFIG.fix, changelog=str(repo / "DATA_CHANGELOG.md")
        ),
    )


def augment(repo: Path, budget: int, *, dry_run: bool = False) -> None:
    config = config_for(repo)
    augment_folder(
        config.augment,
        data_dir=str(repo / "data"),
        budget=budget,
        pipeline_name="digits",
        data_root=str(repo / "tfrecords"),
        metadata=config.pipeline.metadata,
        changelog=config.fix.changelog,
        max_distance=MAX_DISTANCE,
        dry_run=dry_run,
        task=TASK,
    )


def test_augment_writes_train_images_with_lineage_as_a_data_version(
    repo, capsys
):
    data = repo / "data"
    before = {split: file_bytes(data, split) for split in ("train", "val")}
    before["test"] = file_bytes(data, "test")
    augment(repo, 40)  # train 14 (the broken file not counted), val 6

    out = capsys.readouterr().out
    assert "no run yet" in out and "data-v2" in out
    train = file_bytes(data, "train")
    new = {
        path: png for path, png in train.items() if path not in before["train"]
    }
    assert len(new) == 40 - 14 - 6
    assert all(path.startswith("train/") for path in new)
    for split in ("val", "test"):
        assert file_bytes(data, split) == before[split]
    with (data / LINEAGE_FILE).open() as file:
        rows = list(csv.DictReader(file))
    assert {row["path"] for row in rows} == set(new)
    for row in rows:
        parent = before["train"][row["parent_path"]]
        assert hashlib.sha256(parent).hexdigest() == row["parent_sha256"]
        assert row["parent_path"].split("/")[1] == row["path"].split("/")[1]
        assert row["data_version"] == "data-v2"
        recipe = list(json.loads(row["parameters"]).items())
        assert row["operations"] == "+".join(name for name, _ in recipe)
        remade = ops.apply_recipe(
            Image.open(data / row["parent_path"]), recipe
        )
        assert np.array_equal(
            np.asarray(remade), np.asarray(Image.open(data / row["path"]))
        )
    assert "train/1/broken.png" not in {r["parent_path"] for r in rows}
    assert "train/0/blank.png" not in {r["parent_path"] for r in rows}
    # Balanced: the smallest classes filled first, to 11 or 12 images.
    dataset = read_dataset(data, generated=read_generated(data))
    assert sorted(dataset.train_counts.values()) == [11, 11, 12]
    assert dataset.train_count + dataset.val_count == 40
    tags = sh("git", "tag", cwd=repo).split()
    assert tags == ["data-v1", "data-v2"]
    assert sh("git", "status", "--porcelain", cwd=repo) == ""
    changes = (data / "changes.csv").read_text().splitlines()
    assert len(changes) == 1 + len(new)

    # Again, to a larger budget: new names, earlier images no parents.
    augment(repo, 46)
    with (data / LINEAGE_FILE).open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 26 and len({row["path"] for row in rows}) == 26
    assert not {row["parent_path"] for row in rows} & set(new)
    assert rows[-1]["data_version"] == "data-v3"


def test_dry_run_and_a_full_budget_change_nothing(repo, capsys):
    data = repo / "data"
    before = {split: file_bytes(data, split) for split in ("train", "val")}
    augment(repo, 30, dry_run=True)
    assert "Dry run: nothing written" in capsys.readouterr().out
    with pytest.raises(ValueError, match="budget is 19"):
        augment(repo, 19)
    assert {s: file_bytes(data, s) for s in ("train", "val")} == before
    assert not (data / LINEAGE_FILE).exists()
    assert sh("git", "tag", cwd=repo) == ""


def test_the_command_targets_the_run_named_after_a_folder_of_ones_own(
    repo, capsys
):
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    metadata = metadata_store_pb2.ConnectionConfig()
    metadata.sqlite.filename_uri = str(repo / "no-run.sqlite")
    metadata.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    metadata_store.MetadataStore(metadata)
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(
        [
            "augment",
            "--data",
            str(repo / "data"),
            "--budget",
            "30",
            "--dry-run",
        ]
    )
    args.run(args, config_for(repo), [])
    out = capsys.readouterr().out
    # `dcp run --data DIR` names the folder's pipeline after it.
    assert "no run of 'data' yet" in out
    assert "10 new train images" in out and "budget 30" in out
    assert not (repo / "data" / LINEAGE_FILE).exists()
