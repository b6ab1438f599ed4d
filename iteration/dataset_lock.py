"""One writer per dataset: the commands that change an image folder and
record it as a data version (fix, augment, autolabel) hold this lock
from before they look at the folder until its version is tagged."""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

# In .dvc/tmp of the folder's repository: DVC keeps that folder out of
# git, it is outside every versioned data folder, and it is one per
# repository, as the data-v tags and the changelog the writers share are.
LOCK_FILE = Path(".dvc", "tmp", "dcp-data.lock")
# Who holds the lock, for the message of the one waiting; beside the
# lock, since a contender opening the lock file must not read or write it.
_OWNER_SUFFIX = ".owner"


class DatasetBusy(ValueError):
    """Another dcp command held the lock for longer than --wait."""


@contextlib.contextmanager
def dataset_lock(
    repository: Path, data_dir: Path, *, wait: float | None = None
) -> Iterator[None]:
    """Hold the lock of `repository`, whose image folder `data_dir` is to
    change. If another command holds it, say so and wait: for ever, or
    `wait` seconds and then raise DatasetBusy."""
    path = repository / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    owner = path.with_name(path.name + _OWNER_SUFFIX)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(
            f"another dcp command is changing {data_dir}"
            f" ({_holder(owner)}); waiting…",
            file=sys.stderr,
            flush=True,
        )
        _acquire(lock, data_dir, owner, wait)
    try:
        owner.write_text(f"pid {os.getpid()}\n")
        yield
    finally:
        lock.release()


def _acquire(
    lock: FileLock, data_dir: Path, owner: Path, wait: float | None
) -> None:
    try:
        lock.acquire(timeout=-1 if wait is None else wait)
    except Timeout:
        raise DatasetBusy(
            f"{data_dir}: another dcp command ({_holder(owner)}) is still"
            f" changing it after {wait:g} seconds; run again when it has"
            " finished, or give a longer --wait"
        ) from None


def _holder(owner: Path) -> str:
    """ "pid N" of the command holding the lock, as it wrote it."""
    try:
        return owner.read_text().strip() or "pid unknown"
    except FileNotFoundError:
        return "pid unknown"
