import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from core.dataset.embedded.digits import (
    NEAR_DUPLICATE_TRANSFORMS,
    DefectCounts,
    render_digit,
    shift_right,
    write_embedded_dataset,
)
from core.dataset.embedded.no_class import NO_CLASS_KINDS
from core.dataset.etl.image_decoding import BadImageError, decode_image

DEFECTS = DefectCounts(
    label_flip_fraction=0.05,
    exact_duplicates=6,
    near_duplicates=4,
    blank_images=3,
    broken_files=3,
    no_class_images=12,
)


def write(
    output: Path, seed: int = 7, defects: DefectCounts = DEFECTS
) -> dict:
    return write_embedded_dataset(
        output,
        seed=seed,
        image_size=32,
        val_fraction=0.15,
        test_fraction=0.15,
        unlabeled_fraction=0.1,
        defects=defects,
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("embedded") / "raw"
    return root, write(root)


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_layout_and_counts(dataset):
    root, key = dataset
    counts = {
        split: len(list((root / split).glob("*/*.png")))
        for split in ("train", "val", "test")
    }
    # 1,797 digits: 15% val, 15% test, 10% unlabeled, the rest train; plus
    # the injected copies, blanks, broken files and images of no class.
    assert counts == {
        "train": 1077 + 3 + 3 + 12,
        "val": 270 + 3 + 2,
        "test": 275,
    }
    assert len(list((root / "unlabeled").glob("*.png"))) == 180
    assert sorted(p.name for p in (root / "train").iterdir()) == [
        str(d) for d in range(10)
    ]
    assert json.loads((root / "defects.json").read_text()) == key


def test_flipped_labels_sit_in_the_wrong_class_folder(dataset):
    root, key = dataset
    digits = load_digits()
    flips = key["label_flips"]
    assert len(flips) == round(1077 * 0.05)
    for flip in flips:
        path = root / flip["path"]
        assert path.parts[-3] == "train"
        assert path.parts[-2] == flip["given_label"] != flip["true_label"]
        index = flip["digits_index"]
        assert str(digits.target[index]) == flip["true_label"]
        np.testing.assert_array_equal(
            pixels(path), render_digit(digits.images[index], 32)
        )


def test_exact_duplicates_leak_across_splits(dataset):
    root, key = dataset
    assert len(key["exact_duplicates"]) == 6
    for duplicate in key["exact_duplicates"]:
        copy, source = duplicate["path"], duplicate["duplicate_of"]
        assert copy.split("/")[0] in ("val", "test")
        assert source.split("/")[0] == "train"
        assert copy != source
        assert (root / copy).read_bytes() == (root / source).read_bytes()


def test_near_duplicates_are_transformed_copies(dataset):
    root, key = dataset
    assert len(key["near_duplicates"]) == 4
    for near in key["near_duplicates"]:
        transform = NEAR_DUPLICATE_TRANSFORMS[near["transform"]]
        source = pixels(root / near["near_duplicate_of"])
        copy = pixels(root / near["path"])
        assert not np.array_equal(copy, source)
        np.testing.assert_array_equal(copy, transform(source))


def test_blank_images_hold_one_gray_level(dataset):
    root, key = dataset
    assert [b["value"] for b in key["blank_images"]] == [0, 255, 128]
    for blank in key["blank_images"]:
        assert np.all(pixels(root / blank["path"]) == blank["value"])


def test_broken_files_cannot_be_decoded(dataset):
    root, key = dataset
    kinds = [b["kind"] for b in key["broken_files"]]
    assert kinds == ["zero_bytes", "truncated_png", "text_file"]
    for broken in key["broken_files"]:
        with pytest.raises(BadImageError):
            decode_image((root / broken["path"]).read_bytes())


@pytest.fixture(scope="module")
def digit_images() -> np.ndarray:
    return np.stack(
        [render_digit(scan, 32) for scan in load_digits().images]
    ).astype(np.int16)


def no_class_pixels(root: Path, key: dict) -> list[np.ndarray]:
    return [pixels(root / image["path"]) for image in key["no_class"]]


def test_no_class_images_are_extra_train_images_to_remove(dataset):
    root, key = dataset
    no_class = key["no_class"]
    assert len(no_class) == 12
    assert Counter(image["kind"] for image in no_class) == {
        kind: 4 for kind in NO_CLASS_KINDS
    }
    assert {image["action"] for image in no_class} == {"remove"}
    for image in no_class:
        split, label, _ = image["path"].split("/")
        assert (split, label) == ("train", image["given_label"])
        decoded = decode_image((root / image["path"]).read_bytes())
        assert decoded.pixels.shape == (32, 32, 1)
    # Under several class folders, at random.
    assert len({image["given_label"] for image in no_class}) > 3
    assert len({image["path"] for image in no_class}) == 12


def test_no_class_images_look_like_the_scans(dataset, digit_images):
    root, key = dataset
    means = digit_images.mean(axis=(1, 2))
    for image, found in zip(
        key["no_class"], no_class_pixels(root, key), strict=True
    ):
        assert found.dtype == np.uint8 and found.shape == (32, 32)
        # Light strokes on black (a third of every digit's pixels are
        # near black), about as much ink as a digit.
        assert found.max() >= 192, image
        assert (found < 32).mean() >= 0.25, image
        assert means.min() / 2 <= found.mean() <= means.max(), image
        if image["kind"] == "several_digits":
            # Shrunk to the width: black rows above and below.
            assert found[0].max() == found[-1].max() == 0, image


def test_no_class_images_are_no_copies_of_a_digit(dataset, digit_images):
    root, key = dataset
    # A digit shifted by one pixel is at most this far from itself.
    shifted = np.stack([shift_right(d.astype(np.uint8)) for d in digit_images])
    near = np.abs(shifted - digit_images).mean(axis=(1, 2)).max()
    found = no_class_pixels(root, key)
    for image, pixels_ in zip(key["no_class"], found, strict=True):
        nearest = np.abs(digit_images - pixels_).mean(axis=(1, 2)).min()
        assert nearest > near, image
    # Nor copies of each other.
    for i, one in enumerate(found):
        for other in found[i + 1 :]:
            assert np.abs(one.astype(np.int16) - other).mean() > near


def test_no_class_images_leave_the_other_defects_as_they_were(
    dataset, tmp_path
):
    root, key = dataset
    without = tmp_path / "raw"
    other = write(
        without, defects=dataclasses.replace(DEFECTS, no_class_images=0)
    )
    assert other["no_class"] == []
    assert {k: v for k, v in other.items() if k != "no_class"} == {
        k: v for k, v in key.items() if k != "no_class"
    }
    added = {image["path"] for image in key["no_class"]}
    files = {
        str(p.relative_to(root))
        for p in root.rglob("*.png")
        if str(p.relative_to(root)) not in added
    }
    assert files == {
        str(p.relative_to(without)) for p in without.rglob("*.png")
    }
    for file in files:
        assert (root / file).read_bytes() == (without / file).read_bytes()


def test_same_seed_writes_the_same_bytes(dataset, tmp_path):
    root, key = dataset
    again = tmp_path / "raw"
    assert write(again) == key
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(again) for p in again.rglob("*") if p.is_file()
    )
    for file in files:
        assert (root / file).read_bytes() == (again / file).read_bytes()


def test_another_seed_draws_other_images_of_no_class(dataset, tmp_path):
    root, key = dataset
    other = write(tmp_path / "raw", seed=8)
    for mine, theirs in zip(
        no_class_pixels(root, key),
        no_class_pixels(tmp_path / "raw", other),
        strict=True,
    ):
        assert not np.array_equal(mine, theirs)


def test_a_folder_it_did_not_write_is_never_replaced(tmp_path):
    mine = tmp_path / "photos"
    (mine / "train" / "cat").mkdir(parents=True)
    (mine / "train" / "cat" / "1.png").write_bytes(b"precious")
    with pytest.raises(ValueError, match="not written by `dcp prepare`"):
        write(mine)
    assert (mine / "train" / "cat" / "1.png").read_bytes() == b"precious"
