"""Where a command may write its output folder, and how a folder is
replaced whole.

The rule of every command that writes a folder: nothing the user gave
is destroyed. The output folder must be new, empty, or an earlier output
of the same command, known by the marker file the command writes into
every output; it must not be, contain or lie inside the command's input;
and a place that cannot be written is refused before any work.

staged_directory writes a folder under a temporary name and renames it
into place only when complete, so a reader never sees a half-written
output."""

import contextlib
import json
import os
import posixpath
import uuid
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath

import tensorflow as tf
from tfx.dsl.io import fileio

MARKER_FILE = ".dcp-output"

PathLike = str | os.PathLike[str]


class OutputFolderError(ValueError):
    """The output place would destroy the user's files or cannot be
    written; the message names it and the fix."""


def check_output_folder(
    path: PathLike,
    *,
    kind: str,
    inputs: Sequence[PathLike] = (),
    option: str = "--output",
) -> None:
    """Raise OutputFolderError unless `path` may hold the output of
    `kind` (the command, e.g. "dcp etl"): it must not be, contain or lie
    inside any of `inputs`, and must be new, an empty folder, or a folder
    with `kind`'s marker. `option` is how the user names another place."""
    path = os.fspath(path)
    for given in inputs:
        _refuse_overlap(path, os.fspath(given), option)
    if not fileio.exists(path):
        return
    if not fileio.isdir(path):
        raise OutputFolderError(
            f"{path}: is a file, not a folder, and is left as it is; give"
            f" {option} another path, or remove the file yourself"
        )
    found = output_kind(path)
    if found == kind or not fileio.listdir(path):
        return
    why = (
        f"it is an output of `{found}`"
        if found
        else f"it has no {MARKER_FILE} marker"
    )
    raise OutputFolderError(
        f"{path}: exists and was not written by `{kind}` ({why}); its files"
        f" are left as they are: give {option} another folder, or remove it"
        " yourself"
    )


def make_output_folder(
    path: PathLike,
    *,
    kind: str,
    inputs: Sequence[PathLike] = (),
    option: str = "--output",
) -> None:
    """For a command that writes files into `path`: check it as
    check_output_folder does, then create it with `kind`'s marker."""
    check_output_folder(path, kind=kind, inputs=inputs, option=option)
    folder = os.fspath(path)
    mark_folder(folder, kind=kind, output=folder, option=option)


def mark_folder(folder: str, *, kind: str, output: str, option: str) -> None:
    """Create `folder` if need be and write `kind`'s marker into it. The
    first write of a command, so a place that cannot be written (under a
    file, read-only, not permitted) is refused, naming `output`, before
    any work."""
    try:
        fileio.makedirs(folder)
        with fileio.open(posixpath.join(folder, MARKER_FILE), "w") as file:
            file.write(json.dumps({"output_of": kind}) + "\n")
    except (tf.errors.OpError, OSError) as error:
        reason = str(getattr(error, "message", error)).splitlines()[0]
        raise OutputFolderError(
            f"{output}: cannot be written ({reason}); give {option} a"
            " folder you can write to"
        ) from None


def output_kind(folder: str) -> str | None:
    """The command whose output `folder` is, by its marker; None if it
    has none."""
    marker = posixpath.join(folder, MARKER_FILE)
    if not fileio.exists(marker):
        return None
    try:
        with fileio.open(marker, "r") as file:
            return str(json.load(file)["output_of"])
    except (ValueError, KeyError, TypeError):
        return None


def _refuse_overlap(path: str, given: str, option: str) -> None:
    output, source = _comparable(path), _comparable(given)
    if output == source:
        where = "is the input"
    elif source in output.parents:
        where = "lies inside the input"
    elif output in source.parents:
        where = "contains the input"
    else:
        return
    raise OutputFolderError(
        f"{path}: {where} {given}, and an output never goes over or into"
        f" its input: give {option} a folder outside it"
    )


def _comparable(path: str) -> PurePosixPath:
    """Local paths resolved (symlinks, "..", relative), so two names of
    one folder compare equal; remote ones as written."""
    if "://" in path:
        return PurePosixPath(path.rstrip("/"))
    return PurePosixPath(os.path.realpath(path))


@contextlib.contextmanager
def staged_directory(
    final_dir: str,
    *,
    kind: str,
    inputs: Sequence[str] = (),
    option: str = "--output",
) -> Iterator[str]:
    """Yield a new sibling of `final_dir` holding only `kind`'s marker;
    on success replace `final_dir` with it, on failure remove it and
    leave `final_dir` as it was. `final_dir` must pass
    check_output_folder. Leftovers of a killed run, known by `kind`'s
    marker, are removed on the next one."""
    check_output_folder(final_dir, kind=kind, inputs=inputs, option=option)
    parent, name = posixpath.split(final_dir.rstrip("/"))
    parent = parent or "."
    for leftover in fileio.glob(posixpath.join(parent, f".{name}.*-*")):
        if output_kind(os.fsdecode(leftover)) == kind:
            fileio.rmtree(leftover)
    staging = posixpath.join(parent, f".{name}.staging-{uuid.uuid4().hex}")
    mark_folder(staging, kind=kind, output=final_dir, option=option)
    try:
        yield staging
    except BaseException:
        fileio.rmtree(staging)
        raise
    if fileio.exists(final_dir):
        retired = posixpath.join(parent, f".{name}.retired-{uuid.uuid4().hex}")
        fileio.rename(final_dir, retired)
        fileio.rename(staging, final_dir)
        fileio.rmtree(retired)
    else:
        fileio.rename(staging, final_dir)
