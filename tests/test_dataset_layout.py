from pathlib import Path

import pytest
from PIL import Image

from core.dataset.etl.dataset_layout import DatasetError, scan_dataset
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
    layout = scan_dataset(str(root), SPLITS)
    reasons = {q.path: q.reason for q in layout.quarantined}
    assert reasons == {
        "train/loose.png": "not inside a class folder",
        "train/a/notes.txt": reasons["train/a/notes.txt"],
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


def test_os_junk_files_are_skipped_and_named(tmp_path, digit_images):
    root = digit_folder(tmp_path, digit_images, {"train": ["a"]})
    (root / "train" / "a" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "train" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "train" / "a" / "desktop.ini").write_text("[.ShellClassInfo]")
    (root / "train" / "a" / ".hidden.png").write_bytes(b"not a png")
    layout = scan_dataset(str(root), ("train",))
    assert [i.path for i in layout.images] == [
        "train/a/.hidden.png",  # hidden but maybe data: read, not skipped
        "train/a/0.png",
    ]
    assert layout.quarantined == ()
    assert layout.warnings == (
        "skipped, as operating-system files and not data: train/Thumbs.db,"
        " train/a/.DS_Store, train/a/desktop.ini",
    )


def test_symlink_out_of_the_dataset_is_read_with_a_warning(
    tmp_path, digit_images
):
    root = digit_folder(tmp_path / "data", digit_images, {"train": ["a"]})
    outside = tmp_path / "elsewhere.png"
    Image.fromarray(digit_images[1]).save(outside)
    (root / "train" / "a" / "1.png").symlink_to(outside)
    (root / "train" / "a" / "2.png").symlink_to(root / "train" / "a" / "0.png")
    layout = scan_dataset(str(root), ("train",))
    assert [i.path for i in layout.images] == [
        "train/a/0.png",
        "train/a/1.png",
        "train/a/2.png",
    ]
    assert layout.warnings == (
        f"train/a/1.png: a symlink to {outside}, outside {root}; it is read,"
        " but a data version may not include it: copy it in",
    )


def test_empty_class_folder_is_a_warning_naming_it(tmp_path, digit_images):
    root = digit_folder(tmp_path, digit_images, {"train": ["a"]})
    (root / "train" / "b").mkdir()
    (root / "train" / "c").mkdir()
    (root / "train" / "c" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    layout = scan_dataset(str(root), ("train",))
    assert layout.classes == ("a",)
    assert layout.warnings[:2] == (
        "train/b/: empty class folder; add images to it or remove it",
        "train/c/: empty class folder; add images to it or remove it",
    )


def test_label_map_gives_class_folders_a_super_category(
    tmp_path, digit_images
):
    root = digit_folder(
        tmp_path,
        digit_images,
        {"train": ["bus", "car", "cat"], "val": ["bus", "car", "cat"]},
    )
    layout = scan_dataset(
        str(root), SPLITS, {"bus": "vehicle", "car": "vehicle", "van": "x"}
    )
    assert layout.classes == ("cat", "vehicle")
    assert {
        i.path: i.label_name for i in layout.images if i.split == "val"
    } == {
        "val/bus/0.png": "vehicle",
        "val/car/1.png": "vehicle",
        "val/cat/2.png": "cat",
    }
    # A key that names no folder is most likely a typo.
    assert layout.warnings == (
        "labels: 'van' → 'x' maps no class folder of any split; check the"
        " name in params.yaml",
    )


def test_the_files_dcp_fix_removed_are_named_as_such(tmp_path, digit_images):
    root = digit_folder(
        tmp_path, digit_images, {"train": ["a", "b"], "val": ["a", "b"]}
    )
    save(
        root / "trash" / "data-v2" / "train" / "a" / "9.png",
        Image.fromarray(digit_images[9]),
    )
    layout = scan_dataset(str(root), SPLITS)
    assert layout.warnings == (
        "trash/: 1 files that dcp fix removed, kept for dcp fix --undo;"
        " not converted",
    )
    assert all(not i.path.startswith("trash/") for i in layout.images)
