"""The journal of the data version being recorded: written before the
first file of the folder changes, deleted once the version is tagged,
so that the next command finishes or rolls back one that was killed
half-way (see data_versions.recover)."""

import dataclasses
import json
import os
import signal
from pathlib import Path

# Beside the dataset lock, out of git and of the data folder.
JOURNAL_FILE = Path(".dvc", "tmp", "dcp-version-journal.json")


@dataclasses.dataclass(frozen=True)
class Journal:
    tag: str  # the version being recorded
    message: str  # of its commit and tag: "data-vN: command"
    head: str  # the commit before it ("" if the repository had none)
    data_dir: str  # relative to the repository
    moves: tuple[tuple[str, str], ...]  # (from, to) in the folder, in order
    added: tuple[str, ...]  # new files in the folder, none the user's
    # Files the change appends to, relative to the repository: their
    # size before (None: the change creates them).
    sizes: dict[str, int | None]
    pointer: str  # dvc.lock or the .dvc file, relative to the repository
    pointer_text: str | None  # before the change (None: no such file)
    # The DVC target to check out after the rollback: a change by
    # `dvc checkout` (undo) lists no moves ("" for the others).
    checkout: str = ""


def write(root: Path, journal: Journal) -> None:
    """Write the journal atomically: a reader finds the old one, or none,
    or the whole new one, even after a power cut."""
    path = root / JOURNAL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w") as file:
        json.dump(dataclasses.asdict(journal), file, indent=1)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def read(root: Path) -> Journal | None:
    path = root / JOURNAL_FILE
    if not path.is_file():
        return None
    fields = json.loads(path.read_text())
    fields["moves"] = tuple(tuple(move) for move in fields["moves"])
    fields["added"] = tuple(fields["added"])
    return Journal(**fields)


def delete(root: Path) -> None:
    (root / JOURNAL_FILE).unlink(missing_ok=True)
    _fsync_folder((root / JOURNAL_FILE).parent)


def file_sizes(root: Path, paths: list[str]) -> dict[str, int | None]:
    """Each file's size, None for a file not there (yet)."""
    return {
        path: (root / path).stat().st_size if (root / path).exists() else None
        for path in paths
    }


def crash_point(name: str) -> None:
    """A test hook: tests/test_crash_safe_versions.py kills the command
    here by naming the point in DCP_TEST_CRASH_AT."""
    if os.environ.get("DCP_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
