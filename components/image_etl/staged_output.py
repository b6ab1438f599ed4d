"""Write a directory under a temporary name and rename it into place only
when complete, so a reader never sees a half-written output."""

import contextlib
import os
import posixpath
import uuid
from collections.abc import Iterator, Sequence

from tfx.dsl.io import fileio

from components.output_folders import (
    check_output_folder,
    mark_folder,
    output_kind,
)


@contextlib.contextmanager
def staged_directory(
    final_dir: str, *, kind: str, inputs: Sequence[str] = ()
) -> Iterator[str]:
    """Yield an empty sibling of `final_dir`, marked as `kind`'s output;
    on success replace `final_dir` with it, on failure remove it and
    leave `final_dir` as it was. `final_dir` must be allowed by
    output_folders.check_output_folder. Leftovers of a killed run, known
    by `kind`'s marker, are removed on the next one."""
    check_output_folder(final_dir, kind=kind, inputs=inputs)
    parent, name = posixpath.split(final_dir.rstrip("/"))
    parent = parent or "."
    for leftover in fileio.glob(posixpath.join(parent, f".{name}.*-*")):
        if output_kind(os.fsdecode(leftover)) == kind:
            fileio.rmtree(leftover)
    staging = posixpath.join(parent, f".{name}.staging-{uuid.uuid4().hex}")
    mark_folder(staging, kind=kind, output=final_dir, option="--output")
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
