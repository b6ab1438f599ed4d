"""Find the images of a `split/class/file` folder and check its shape
before any pixel is read."""

import dataclasses
import os
import posixpath
import stat
from collections.abc import Iterator, Mapping
from typing import Any

from tfx.dsl.io import fileio

from core.dataset.etl.image_decoding import (
    FIX_REEXPORT,
    SUPPORTED_EXTENSIONS,
)

# Files the operating system writes into folders, never data: skipped
# and named in a warning. Other hidden files are treated like any file
# (converted if an image, quarantined if not), so nothing the user may
# mean as data is dropped.
OS_JUNK_FILES = frozenset(
    {".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", ".directory"}
)
# macOS writes "._name" beside a file on foreign disks: metadata only.
OS_JUNK_PREFIX = "._"
# Where `dcp fix` keeps the files it removes, by data version, inside the
# image folder (so `dcp fix --undo` can restore them).
FIX_TRASH = "trash"


def is_os_junk(name: str) -> bool:
    return name.lower() in OS_JUNK_FILES or name.startswith(OS_JUNK_PREFIX)


class DatasetError(ValueError):
    """The dataset as a whole cannot be converted; the message says why
    and how to fix it."""


@dataclasses.dataclass(frozen=True)
class SourceImage:
    split: str
    label_name: str  # its class folder's, or what `labels` maps that to
    path: str  # relative to the dataset root, with "/" separators
    # Where a task keeps annotations in files of their own (detection's
    # boxes): what they say of this image, and the file, relative to the
    # root. A class folder needs neither.
    annotation: Any = None
    annotation_file: str | None = None


@dataclasses.dataclass(frozen=True)
class QuarantinedFile:
    path: str  # relative to the dataset root
    reason: str
    fix: str


@dataclasses.dataclass(frozen=True)
class DatasetLayout:
    root: str
    splits: tuple[str, ...]  # the configured splits that have a folder
    classes: tuple[str, ...]  # a label is an index into it
    images: tuple[SourceImage, ...]
    quarantined: tuple[QuarantinedFile, ...]  # found unusable by layout
    warnings: tuple[str, ...]


def scan_dataset(
    root: str, splits: tuple[str, ...], labels: Mapping[str, str] = {}
) -> DatasetLayout:
    """List `root/<split>/<class>/<file>` for the given splits; an
    image's label is its class folder's name, or what `labels` maps that
    name to (super-categories, e.g. {"bus": "vehicle", "car": "vehicle"}).

    Files in the wrong place or with a foreign extension are quarantined;
    operating-system files (`.DS_Store`, `Thumbs.db`, ...) are skipped;
    those skipped files, folders that are not a split, splits without a
    folder, empty class folders and symlinks that point outside `root`
    (still read) and `labels` keys that name no class folder are
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
            count = _count_files(root, entry)
            warnings.append(
                f"{entry}/: {count} files that dcp fix removed, kept for"
                " dcp fix --undo; not converted"
                if entry == FIX_TRASH
                else f"{entry}/: {count} files not converted, since"
                f" {entry!r} is not one of the splits {', '.join(splits)}"
            )
    present = [
        split for split in splits if fileio.isdir(posixpath.join(root, split))
    ]
    for split in splits:
        if split not in present:
            warnings.append(f"{split}/: no such folder; the split is left out")
    for split in present:
        _scan_split(root, split, images, quarantined, warnings)
    folders = {image.path.split("/")[1] for image in images}
    for folder in sorted(set(labels) - folders):
        warnings.append(
            f"labels: {folder!r} → {labels[folder]!r} maps no class folder"
            " of any split; check the name in params.yaml"
        )
    images = [
        dataclasses.replace(
            image, label_name=labels.get(image.label_name, image.label_name)
        )
        for image in images
    ]
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
    warnings: list[str],
) -> None:
    skipped: list[str] = []
    for folder in _walk(root, split):
        depth = len(folder.path.split("/"))
        for name in folder.folders:
            _warn_outside_link(
                root, posixpath.join(folder.path, name), warnings
            )
        for name in folder.loops:
            warnings.append(
                _loop_warning(root, posixpath.join(folder.path, name))
            )
        for name, error in folder.unresolved.items():
            quarantined.append(
                _unresolved_entry(
                    root, posixpath.join(folder.path, name), error
                )
            )
        if (
            depth == 2
            and not folder.folders
            and not folder.unresolved
            and all(map(is_os_junk, folder.files))
        ):
            warnings.append(
                f"{folder.path}/: empty class folder; add images to it or"
                " remove it"
            )
        for name in folder.files:
            path = posixpath.join(folder.path, name)
            if is_os_junk(name):
                skipped.append(path)
                continue
            _warn_outside_link(root, path, warnings)
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
                label_name = folder.path.split("/")[1]
                images.append(SourceImage(split, label_name, path))
    if skipped:
        warnings.append(
            "skipped, as operating-system files and not data:"
            f" {', '.join(skipped)}"
        )


@dataclasses.dataclass
class _Folder:
    """One folder of the walk, its entries (sorted names) by kind."""

    path: str  # relative to the dataset root
    folders: list[str] = dataclasses.field(default_factory=list)
    files: list[str] = dataclasses.field(default_factory=list)
    # Folder links back to a folder the walk is inside: not followed.
    loops: list[str] = dataclasses.field(default_factory=list)
    # Entries that cannot be stat'ed, such as links to nothing: why not.
    unresolved: dict[str, OSError] = dataclasses.field(default_factory=dict)


# A local folder's (st_dev, st_ino); None on object stores.
_Identity = tuple[int, int] | None


def _walk(root: str, top: str) -> Iterator[_Folder]:
    """The folders under `root/top`, parents first, in name order.

    Unlike fileio.walk, a folder link back to a folder on the way down
    (a link loop) is listed in `loops` instead of being followed, which
    would go on until paths grow too long, and branch at every level if
    there are two such links. Object stores have no links.
    """
    outer = frozenset({_identity(root), _identity(posixpath.join(root, top))})
    pending = [(top, outer)]
    while pending:
        path, ancestors = pending.pop()
        folder, subfolders = _list_folder(root, path, ancestors)
        yield folder
        pending.extend(
            (posixpath.join(path, name), ancestors | {identity})
            for name, identity in reversed(subfolders)
        )


def _list_folder(
    root: str, path: str, ancestors: frozenset[_Identity]
) -> tuple[_Folder, list[tuple[str, _Identity]]]:
    directory = posixpath.join(root, path)
    folder = _Folder(path)
    subfolders: list[tuple[str, _Identity]] = []
    for name in sorted(
        os.fsdecode(e).rstrip("/") for e in fileio.listdir(directory)
    ):
        entry = posixpath.join(directory, name)
        if not _is_local(root):
            if fileio.isdir(entry):
                folder.folders.append(name)
                subfolders.append((name, None))
            else:
                folder.files.append(name)
            continue
        try:
            status = os.stat(entry)  # of a link's target
        except OSError as error:
            folder.unresolved[name] = error
            continue
        identity = (status.st_dev, status.st_ino)
        if not stat.S_ISDIR(status.st_mode):
            folder.files.append(name)
        elif identity in ancestors:
            folder.loops.append(name)
        else:
            folder.folders.append(name)
            subfolders.append((name, identity))
    return folder, subfolders


def _is_local(root: str) -> bool:
    return "://" not in root


def _identity(directory: str) -> _Identity:
    if not _is_local(directory):
        return None
    status = os.stat(directory)
    return (status.st_dev, status.st_ino)


def _loop_warning(root: str, path: str) -> str:
    target = os.path.realpath(posixpath.join(root, path))
    return (
        f"{path}: a symlink to {target}, which contains the link (a loop);"
        " not followed, so each image is read once: remove the link"
    )


def _unresolved_entry(root: str, path: str, error: OSError) -> QuarantinedFile:
    """Quarantine an entry the walk could not stat: a symlink to nothing
    (or to itself), or a file deleted while the folder was read."""
    entry = posixpath.join(root, path)
    if not os.path.islink(entry):
        return QuarantinedFile(
            path,
            f"cannot be read ({error.strerror})",
            "run again when nothing is changing the folder",
        )
    problem = (
        "does not exist"
        if isinstance(error, FileNotFoundError)
        else f"cannot be followed ({error.strerror})"
    )
    return QuarantinedFile(
        path,
        f"a symlink to {os.path.realpath(entry)}, which {problem}",
        "point it at an existing image or folder, or remove it",
    )


def _warn_outside_link(root: str, path: str, warnings: list[str]) -> None:
    """Warn if `root/path` is a symlink out of `root`: it is still read,
    but a DVC data version of `root` may not capture its target."""
    link = posixpath.join(root, path)
    if not os.path.islink(link):
        return
    target = os.path.realpath(link)
    if os.path.commonpath(
        [target, os.path.realpath(root)]
    ) != os.path.realpath(root):
        warnings.append(
            f"{path}: a symlink to {target}, outside {root}; it is read,"
            " but a data version may not include it: copy it in"
        )


def _count_files(root: str, top: str) -> int:
    return sum(
        len(folder.files) + len(folder.unresolved)
        for folder in _walk(root, top)
    )
