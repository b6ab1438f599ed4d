"""Symlinks in the image folder: loops are reported and not followed,
links to nothing are quarantined, and the ETL completes on both."""

import csv
from pathlib import Path

from PIL import Image

from core.dataset.etl.dataset_layout import scan_dataset
from core.dataset.etl.etl import input_fingerprint, run_etl
from tests.conftest import IN_PROCESS_BEAM, save

SPLITS = ("train", "val")
IMAGES = [
    "train/a/0.png",
    "train/a/1.png",
    "train/b/0.png",
    "val/a/0.png",
    "val/b/0.png",
]
DANGLING_FIX = "point it at an existing image or folder, or remove it"


def image_folder(root: Path, digit_images) -> Path:
    for n, path in enumerate(IMAGES):
        save(root / path, Image.fromarray(digit_images[n]))
    return root


def loop_warning(path: str, target: Path) -> str:
    return (
        f"{path}: a symlink to {target}, which contains the link (a loop);"
        " not followed, so each image is read once: remove the link"
    )


def image_paths(layout) -> list[str]:
    return sorted(image.path for image in layout.images)


def test_link_back_to_the_root_is_a_loop_warned_once(tmp_path, digit_images):
    root = image_folder(tmp_path / "data", digit_images)
    (root / "train" / "a" / "loop").symlink_to(root)
    layout = scan_dataset(str(root), SPLITS)
    assert image_paths(layout) == IMAGES
    assert layout.quarantined == ()
    assert layout.warnings == (loop_warning("train/a/loop", root),)


def test_link_to_its_own_parent_deeper_down_is_a_loop(tmp_path, digit_images):
    root = image_folder(tmp_path / "data", digit_images)
    (root / "train" / "a" / "sub").mkdir()
    save(root / "train" / "a" / "sub" / "2.png", Image.new("L", (4, 4)))
    (root / "train" / "a" / "sub" / "up").symlink_to("..")
    layout = scan_dataset(str(root), SPLITS)
    assert image_paths(layout) == IMAGES
    # The real file below the class folder, once; nothing through `up`.
    assert [q.path for q in layout.quarantined] == ["train/a/sub/2.png"]
    assert layout.warnings == (
        loop_warning("train/a/sub/up", root / "train" / "a"),
    )


def test_two_loops_in_one_split_return(tmp_path, digit_images):
    # Every level of the walk would branch in two: endless without the
    # loop check, so this test hangs rather than fails on a regression.
    root = image_folder(tmp_path / "data", digit_images)
    (root / "train" / "a" / "x").symlink_to("..")
    (root / "train" / "b" / "y").symlink_to("..")
    layout = scan_dataset(str(root), SPLITS)
    assert image_paths(layout) == IMAGES
    assert layout.warnings == (
        loop_warning("train/a/x", root / "train"),
        loop_warning("train/b/y", root / "train"),
    )


def test_link_outside_is_followed_but_a_loop_back_is_not(
    tmp_path, digit_images
):
    root = image_folder(tmp_path / "data", digit_images)
    outside = tmp_path / "more"
    save(outside / "2.png", Image.fromarray(digit_images[9]))
    (outside / "back").symlink_to(root)
    (root / "train" / "c").symlink_to(outside)
    layout = scan_dataset(str(root), SPLITS)
    assert image_paths(layout) == sorted([*IMAGES, "train/c/2.png"])
    assert layout.quarantined == ()
    assert layout.warnings == (
        f"train/c: a symlink to {outside}, outside {root}; it is read,"
        " but a data version may not include it: copy it in",
        loop_warning("train/c/back", root),
        "val: no images of class c",
    )


def test_dangling_file_and_folder_links_are_quarantined(
    tmp_path, digit_images
):
    root = image_folder(tmp_path / "data", digit_images)
    (root / "train" / "a" / "gone.png").symlink_to(tmp_path / "gone.png")
    (root / "val" / "c").symlink_to(tmp_path / "gone")
    (root / "val" / "a" / "self.png").symlink_to("self.png")
    layout = scan_dataset(str(root), SPLITS)
    assert image_paths(layout) == IMAGES
    assert {(q.path, q.reason, q.fix) for q in layout.quarantined} == {
        (
            "train/a/gone.png",
            f"a symlink to {tmp_path / 'gone.png'}, which does not exist",
            DANGLING_FIX,
        ),
        (
            "val/c",
            f"a symlink to {tmp_path / 'gone'}, which does not exist",
            DANGLING_FIX,
        ),
        (
            "val/a/self.png",
            f"a symlink to {root / 'val' / 'a' / 'self.png'}, which cannot"
            " be followed (Too many levels of symbolic links)",
            DANGLING_FIX,
        ),
    }
    assert layout.warnings == ()


def test_fingerprint_of_a_dangling_link_changes_when_it_is_fixed(
    tmp_path, digit_images
):
    root = image_folder(tmp_path / "data", digit_images)
    target = tmp_path / "later.png"
    (root / "train" / "a" / "later.png").symlink_to(target)
    dangling = input_fingerprint(scan_dataset(str(root), SPLITS), {})
    save(target, Image.fromarray(digit_images[7]))
    fixed = input_fingerprint(scan_dataset(str(root), SPLITS), {})
    assert dangling != fixed


def test_etl_completes_on_a_loop_and_a_dangling_link(tmp_path, digit_images):
    root = image_folder(tmp_path / "data", digit_images)
    (root / "train" / "a" / "loop").symlink_to(root)
    (root / "val" / "b" / "gone.png").symlink_to(tmp_path / "gone.png")
    output = tmp_path / "out"
    summary = run_etl(
        str(root),
        str(output),
        splits=SPLITS,
        on_bad_file="skip",
        images_per_shard=100,
        parallel_from_images=10_000,
        beam_args=IN_PROCESS_BEAM,
    )
    assert summary.images == {
        "train": {"a": 2, "b": 1},
        "val": {"a": 1, "b": 1},
    }
    assert summary.warnings == (loop_warning("train/a/loop", root),)
    with (output / "quarantine.csv").open() as file:
        assert list(csv.DictReader(file)) == [
            {
                "path": "val/b/gone.png",
                "reason": f"a symlink to {tmp_path / 'gone.png'}, which does"
                " not exist",
                "fix": DANGLING_FIX,
            }
        ]
