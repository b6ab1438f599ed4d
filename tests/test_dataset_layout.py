from pathlib import Path

import pytest
from PIL import Image

from components.image_etl.dataset_layout import DatasetError, scan_dataset
from tests.conftest import save

SPLITS = ("train", "val")


def digit_folder(root: Path, digit_images, layout: dict[str, list[str]]):
    """Write one real digit image per class folder listed per split."""
    for split, classes in layout.items():
        for n, name in enumerate(classes):
            image = Image.fromarray(digit_images[n])
            save(root / split / name / f"{n}.png", image)
    return root


def test_lists_images_and_classes(tmp_path, digit_images):
    root = digit_folder(
        tmp_path, digit_images, {"train": ["a", "b"], "val": ["a", "b"]}
    )
    layout = scan_dataset(str(root), SPLITS)
    assert layout.classes == ("a", "b")
    assert sorted(i.path for i in layout.images) == [
        "train/a/0.png",
        "train/b/1.png",
        "val/a/0.png",
        "val/b/1.png",
    ]
    assert layout.quarantined == ()
    assert layout.warnings == ()


def test_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        scan_dataset(str(tmp_path / "nope"), SPLITS)


def test_empty_dataset_is_an_error(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(DatasetError, match="no images found"):
        scan_dataset(str(tmp_path), SPLITS)


def test_split_without_images_is_an_error(tmp_path, digit_images):
    root = digit_folder(tmp_path, digit_images, {"train": ["a"]})
    (root / "val" / "a").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"/val: the split has no images"):
        scan_dataset(str(root), SPLITS)


def test_class_missing_from_a_split_is_a_warning(tmp_path, digit_images):
    root = digit_folder(
        tmp_path, digit_images, {"train": ["a", "b"], "val": ["a"]}
    )
    layout = scan_dataset(str(root), SPLITS)
    assert layout.warnings == ("val: no images of class b",)


def test_misplaced_and_foreign_files_are_quarantined(tmp_path, digit_images):
    root = digit_folder(tmp_path, digit_images, {"train": ["a"], "val": ["a"]})
    save(root / "train" / "loose.png", Image.fromarray(digit_images[0]))
    (root / "train" / "a" / "notes.txt").write_text("hello")
    (root / "train" / "a" / ".DS_Store").write_bytes(b"\0")
    layout = scan_dataset(str(root), SPLITS)
    reasons = {q.path: q.reason for q in layout.quarantined}
    assert reasons == {
        "train/loose.png": "not inside a class folder",
        "train/a/notes.txt": reasons["train/a/notes.txt"],
        "train/a/.DS_Store": reasons["train/a/.DS_Store"],
    }
    assert "not an image file name" in reasons["train/a/notes.txt"]
    assert [i.path for i in layout.images] == ["train/a/0.png", "val/a/0.png"]


def test_folders_that_are_not_splits_are_reported(tmp_path, digit_images):
    root = digit_folder(
        tmp_path, digit_images, {"train": ["a"], "val": ["a"], "extra": ["a"]}
    )
    layout = scan_dataset(str(root), SPLITS)
    assert len(layout.warnings) == 1
    assert layout.warnings[0].startswith("extra/: 1 files not converted")


def test_a_split_without_a_folder_is_left_out_with_a_warning(
    tmp_path, digit_images
):
    root = digit_folder(tmp_path, digit_images, {"train": ["a"], "val": ["a"]})
    layout = scan_dataset(str(root), ("train", "val", "test"))
    assert {i.split for i in layout.images} == {"train", "val"}
    assert layout.warnings == ("test/: no such folder; the split is left out",)
