"""Find the images of a `split/class/file` folder and check its shape
before any pixel is read."""

import dataclasses
import os
import posixpath

from tfx.dsl.io import fileio

from components.image_etl.image_decoding import (
    FIX_REEXPORT,
    SUPPORTED_EXTENSIONS,
)


class DatasetError(ValueError):
    """The dataset as a whole cannot be converted; the message says why
    and how to fix it."""


@dataclasses.dataclass(frozen=True)
class SourceImage:
    split: str
    label_name: str
    path: str  # relative to the dataset root, with "/" separators


@dataclasses.dataclass(frozen=True)
class QuarantinedFile:
    path: str  # relative to the dataset root
    reason: str
    fix: str


@dataclasses.dataclass(frozen=True)
class DatasetLayout:
    root: str
    splits: tuple[str, ...]  # the configured splits that have a folder
    classes: tuple[str, ...]  # sorted; a label is an index into it
    images: tuple[SourceImage, ...]
    quarantined: tuple[QuarantinedFile, ...]  # found unusable by layout
    warnings: tuple[str, ...]


def scan_dataset(root: str, splits: tuple[str, ...]) -> DatasetLayout:
    """List `root/<split>/<class>/<file>` for the given splits.

    Files in the wrong place or with a foreign extension are quarantined;
    folders that are not a split, and splits without a folder, are
    reported as warnings; a dataset, or a split folder, without images is
    an error.
    """
    if not fileio.isdir(root):
        raise DatasetError(
            f"{root}: no such folder; point --data at a folder laid out as"
            " <split>/<class>/<image>.png"
        )
    images: list[SourceImage] = []
    quarantined: list[QuarantinedFile] = []
    warnings: list[str] = []
    for entry in sorted(
        os.fsdecode(e).rstrip("/") for e in fileio.listdir(root)
    ):
        if entry not in splits and fileio.isdir(posixpath.join(root, entry)):
            count = _count_files(posixpath.join(root, entry))
            warnings.append(
                f"{entry}/: {count} files not converted, since {entry!r} is"
                f" not one of the splits {', '.join(splits)}"
            )
    present = [
        split for split in splits if fileio.isdir(posixpath.join(root, split))
    ]
    for split in splits:
        if split not in present:
            warnings.append(f"{split}/: no such folder; the split is left out")
    for split in present:
        _scan_split(root, split, images, quarantined)
    if not images:
        raise DatasetError(
            f"{root}: no images found in any of the splits"
            f" {', '.join(splits)}; expected files such as"
            f" {root}/{splits[0]}/<class>/<image>.png"
        )
    found_splits = {image.split for image in images}
    for split in present:
        if split not in found_splits:
            raise DatasetError(
                f"{root}/{split}: the split has no images; add images as"
                f" {root}/{split}/<class>/<image>.png or leave {split!r} out"
                " of the configured splits"
            )
    classes = tuple(sorted({image.label_name for image in images}))
    for split in present:
        in_split = {i.label_name for i in images if i.split == split}
        missing = [name for name in classes if name not in in_split]
        if missing:
            warnings.append(
                f"{split}: no images of class {', '.join(missing)}"
            )
    return DatasetLayout(
        root=root,
        splits=tuple(present),
        classes=classes,
        images=tuple(images),
        quarantined=tuple(quarantined),
        warnings=tuple(warnings),
    )


def _scan_split(
    root: str,
    split: str,
    images: list[SourceImage],
    quarantined: list[QuarantinedFile],
) -> None:
    split_dir = posixpath.join(root, split)
    for directory, _, files in fileio.walk(split_dir):
        relative_dir = posixpath.relpath(os.fsdecode(directory), root)
        depth = len(relative_dir.split("/"))
        for name in sorted(os.fsdecode(file) for file in files):
            path = posixpath.join(relative_dir, name)
            if depth != 2:
                quarantined.append(
                    QuarantinedFile(
                        path,
                        "not inside a class folder",
                        f"move it to {split}/<class>/{name}",
                    )
                )
            elif not name.lower().endswith(SUPPORTED_EXTENSIONS):
                quarantined.append(
                    QuarantinedFile(
                        path,
                        "not an image file name (expected .png, .jpg or"
                        " .jpeg)",
                        FIX_REEXPORT,
                    )
                )
            else:
                label_name = relative_dir.split("/")[1]
                images.append(SourceImage(split, label_name, path))


def _count_files(directory: str) -> int:
    return sum(len(files) for _, _, files in fileio.walk(directory))
