import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from components.embedded_dataset.digits import (
    NEAR_DUPLICATE_TRANSFORMS,
    DefectCounts,
    render_digit,
    write_embedded_dataset,
)
from components.image_etl.image_decoding import BadImageError, decode_image

DEFECTS = DefectCounts(
    label_flip_fraction=0.05,
    exact_duplicates=6,
    near_duplicates=4,
    blank_images=3,
    broken_files=3,
)


def write(output: Path, seed: int = 7) -> dict:
    return write_embedded_dataset(
        output,
        seed=seed,
        image_size=32,
        val_fraction=0.15,
        test_fraction=0.15,
        unlabeled_fraction=0.1,
        defects=DEFECTS,
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
    # the injected copies, blanks and broken files.
    assert counts == {"train": 1077 + 3 + 3, "val": 270 + 3 + 2, "test": 275}
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


def test_same_seed_writes_the_same_bytes(dataset, tmp_path):
    root, _ = dataset
    again = tmp_path / "raw"
    write(again)
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(again) for p in again.rglob("*") if p.is_file()
    )
    for file in files:
        assert (root / file).read_bytes() == (again / file).read_bytes()


def test_a_folder_it_did_not_write_is_never_replaced(tmp_path):
    mine = tmp_path / "photos"
    (mine / "train" / "cat").mkdir(parents=True)
    (mine / "train" / "cat" / "1.png").write_bytes(b"precious")
    with pytest.raises(ValueError, match="not written by `dcp prepare`"):
        write(mine)
    assert (mine / "train" / "cat" / "1.png").read_bytes() == b"precious"
