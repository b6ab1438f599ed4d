"""Write a directory under a temporary name and rename it into place only
when complete, so a reader never sees a half-written output."""

import contextlib
import posixpath
import uuid
from collections.abc import Iterator

from tfx.dsl.io import fileio


@contextlib.contextmanager
def staged_directory(final_dir: str) -> Iterator[str]:
    """Yield an empty sibling of `final_dir`; on success replace
    `final_dir` with it, on failure remove it and leave `final_dir` as it
    was. Leftovers of a killed run are removed on the next one."""
    parent, name = posixpath.split(final_dir.rstrip("/"))
    parent = parent or "."
    fileio.makedirs(parent)
    for leftover in fileio.glob(posixpath.join(parent, f".{name}.*-*")):
        fileio.rmtree(leftover)
    staging = posixpath.join(parent, f".{name}.staging-{uuid.uuid4().hex}")
    fileio.makedirs(staging)
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
