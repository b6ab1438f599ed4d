"""Data versions: every change to an image folder is recorded by DVC,
committed to git with a changelog entry and tagged `data-vN`, so any
version comes back with `git checkout data-vN && dvc checkout`.

The folder is either the output of a stage in dvc.yaml (the embedded
dataset, `data/raw` of `prepare`) or tracked by its own `.dvc` file
(`dvc add`); a folder tracked by neither gets a `.dvc` file.
"""

import contextlib
import csv
import dataclasses
import datetime
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import yaml

from iteration import version_journal
from iteration.dataset_lock import dataset_lock
from iteration.version_journal import Journal, crash_point

TAG_PREFIX = "data-v"
# Every change of every version, inside the folder, so it is versioned
# with the images it describes.
CHANGES_FILE = "changes.csv"
CHANGE_COLUMNS = ("version", "action", "path", "new_path", "reason", "source")
_DVC = str(Path(sys.executable).with_name("dvc"))
# Rows of a version shown in the changelog; all of them are in changes.csv.
_CHANGELOG_ROWS = 20


@dataclasses.dataclass(frozen=True)
class Change:
    action: str  # e.g. "relabel", "remove", "augment", "autolabel"
    path: str  # before, relative to the folder ("" for a new file)
    new_path: str  # after, relative to the folder ("" if none)
    reason: str  # why, in words
    source: str  # what asked for it, e.g. "issues.csv row 12"


@dataclasses.dataclass(frozen=True)
class DataVersion:
    tag: str  # e.g. "data-v3"
    commit: str


@dataclasses.dataclass(frozen=True)
class _Tracking:
    """How DVC tracks the folder: `target` is what `dvc status` and
    `dvc checkout` take, `pointer` the git file holding the folder's
    hash (dvc.lock or the .dvc file), `out` the folder relative to the
    repository."""

    root: Path
    target: str
    pointer: str
    out: str

    @property
    def is_stage_output(self) -> bool:
        return self.pointer == "dvc.lock"


@contextlib.contextmanager
def sole_writer(
    data_dir: str | Path, *, wait: float | None = None
) -> Iterator[None]:
    """Hold the lock of the folder's repository (see dataset_lock), and
    first finish or roll back a change that a killed command left."""
    tracking = _tracking(Path(data_dir))
    with dataset_lock(tracking.root, Path(data_dir), wait=wait):
        recovered = recover(tracking.root)
        if recovered:
            print(recovered, file=sys.stderr)
        yield


def ensure_recorded(data_dir: str | Path, *, changelog: str | Path) -> str:
    """Call before changing the folder: record the data as found as a
    data version, unless it is one already; return its tag."""
    tracking = _tracking(Path(data_dir))
    tags = _version_tags(tracking.root)
    if _is_recorded(tracking) and tags:
        latest = tags[-1]
        if _data_hash(tracking, _git_show(tracking, latest)) == _data_hash(
            tracking, (tracking.root / tracking.pointer).read_text()
        ):
            return latest
    version, _ = _commit_version(
        tracking, command="the data as found", changelog=Path(changelog)
    )
    return version.tag


def record_change(
    data_dir: str | Path,
    *,
    command: str,
    changelog: str | Path,
    change: Callable[[], Sequence[Change]],
    moves: Sequence[tuple[str, str]] = (),
    added: Sequence[str] = (),
    appended: Sequence[str] = (),
) -> tuple[DataVersion, list[Change]]:
    """Make the change `change` does and record it as the next data
    version: DVC records the folder, the changes go to changes.csv and
    the changelog, git commits and tags it. `moves` (from, to), `added`
    and `appended` (files it appends to) name, relative to the folder,
    every file `change` touches, so that a killed change rolls back."""
    return _commit_version(
        _tracking(Path(data_dir)),
        command=command,
        changelog=Path(changelog),
        change=change,
        moves=moves,
        added=added,
        appended=appended,
    )


def next_tag(data_dir: str | Path) -> str:
    """The tag the next recorded version of the folder will get."""
    return _next_tag(_tracking(Path(data_dir)).root)


def versions(data_dir: str | Path) -> list[str]:
    """The data-version tags of the folder's repository, oldest first."""
    return _version_tags(_tracking(Path(data_dir)).root)


def restore_version(
    data_dir: str | Path, tag: str, *, command: str, changelog: str | Path
) -> DataVersion:
    """Bring back the exact files of version `tag` and record them as a
    new version, so nothing after `tag` is lost either."""
    tracking = _tracking(Path(data_dir))
    if tag not in _version_tags(tracking.root):
        raise ValueError(
            f"{tag}: no such data version in {tracking.root}; the versions"
            f" are {', '.join(_version_tags(tracking.root)) or 'none'}"
        )
    if not _is_recorded(tracking):
        raise ValueError(
            f"{tracking.out} has changes that are not a data version yet:"
            " record them first (e.g. `dcp fix` of an empty issues.csv), or"
            f" bring back the last version with `dvc checkout"
            f" {tracking.target}`"
        )

    def check_out() -> Sequence[Change]:
        pointer = tracking.root / tracking.pointer
        current = pointer.read_text()
        # DVC checks out what the pointer says: point it at `tag` for the
        # checkout, then back, and record the restored files as new.
        pointer.write_text(
            _with_data_hash(tracking, current, _git_show(tracking, tag))
        )
        try:
            _run(tracking.root, "dvc", "checkout", "--force", tracking.target)
        finally:
            pointer.write_text(current)
        return ()

    version, _ = _commit_version(
        tracking,
        command=command,
        changelog=Path(changelog),
        change=check_out,
        checkout=True,
    )
    return version


def recover(root: Path) -> str | None:
    """Finish or roll back the change a killed command left in `root`
    (see version_journal); say what was done, None if nothing was left.
    Finished: its commit exists, so the tag is added. Rolled back: the
    moved files go back, the added ones go, appended files and the
    pointer are as before, so the folder is its last version again."""
    journal = version_journal.read(root)
    if journal is None:
        return None
    if journal.tag in _version_tags(root):
        outcome = "it was recorded"
    elif commit := _commit_of(root, journal):
        _run(
            root,
            "git",
            "tag",
            "-a",
            journal.tag,
            commit,
            "-m",
            journal.message,
        )
        outcome = "its commit is tagged now"
    else:
        _roll_back(root, journal)
        outcome = "rolled back, the data is its last version again"
    version_journal.delete(root)
    return (
        f"recovered the interrupted {journal.tag} of {journal.data_dir}:"
        f" {outcome}"
    )


def _commit_version(
    tracking: _Tracking,
    *,
    command: str,
    changelog: Path,
    change: Callable[[], Sequence[Change]] = lambda: (),
    moves: Sequence[tuple[str, str]] = (),
    added: Sequence[str] = (),
    appended: Sequence[str] = (),
    checkout: bool = False,
) -> tuple[DataVersion, list[Change]]:
    """`checkout`: `change` is a `dvc checkout` of the folder, rolled
    back by another one."""
    root, out = tracking.root, tracking.out
    changelog = _checked_changelog(tracking, changelog)
    tracked = [tracking.pointer, changelog.relative_to(root).as_posix()]
    if not tracking.is_stage_output:
        tracked.append((Path(out).parent / ".gitignore").as_posix())
    tag = _next_tag(root)
    pointer = root / tracking.pointer
    version_journal.write(
        root,
        Journal(
            tag=tag,
            message=f"{tag}: {command}",
            head=_head(root),
            data_dir=out,
            moves=tuple(moves),
            added=tuple(added),
            sizes=version_journal.file_sizes(
                root,
                [f"{out}/{name}" for name in (CHANGES_FILE, *appended)]
                + tracked[1:],
            ),
            pointer=tracking.pointer,
            pointer_text=pointer.read_text() if pointer.is_file() else None,
            checkout=tracking.target if checkout else "",
        ),
    )
    crash_point("after-journal")
    changes = list(change())
    crash_point("after-moves")
    if changes:
        _append_changes(root / out / CHANGES_FILE, tag, changes)
    if tracking.is_stage_output:
        _run(root, "dvc", "commit", "--force", "--quiet", tracking.target)
    else:
        _run(root, "dvc", "add", "--quiet", out)
    crash_point("after-dvc")
    _append_changelog(changelog, tag, command, changes, out)
    tracked = [path for path in tracked if (root / path).exists()]
    summary = _summary(changes)
    _run(root, "git", "add", "--", *tracked)
    _run(
        root,
        "git",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        f"{tag}: {command}{f' ({summary})' if summary else ''}",
        "--",
        *tracked,
    )
    crash_point("after-commit")
    _run(root, "git", "tag", "-a", tag, "-m", f"{tag}: {command}")
    version_journal.delete(root)
    commit = _run(root, "git", "rev-parse", "HEAD").strip()
    return DataVersion(tag=tag, commit=commit), changes


def _checked_changelog(tracking: _Tracking, changelog: Path) -> Path:
    changelog = tracking.root / changelog  # unless absolute
    if not changelog.resolve().is_relative_to(tracking.root.resolve()):
        raise ValueError(
            f"the changelog {changelog} is outside the repository"
            f" {tracking.root} of {tracking.out}: give fix.changelog"
            " relative to that repository"
        )
    return tracking.root / changelog.resolve().relative_to(
        tracking.root.resolve()
    )


def _roll_back(root: Path, journal: Journal) -> None:
    folder = root / journal.data_dir
    for source, target in reversed(journal.moves):
        if (folder / target).exists() and not (folder / source).exists():
            (folder / source).parent.mkdir(parents=True, exist_ok=True)
            (folder / target).rename(folder / source)
            _remove_empty_folders(folder, (folder / target).parent)
    for path in journal.added:
        (folder / path).unlink(missing_ok=True)
        _remove_empty_folders(folder, (folder / path).parent)
    for path, size in journal.sizes.items():
        if size is None:
            (root / path).unlink(missing_ok=True)
        elif (root / path).exists():
            os.truncate(root / path, size)
    pointer = root / journal.pointer
    if journal.pointer_text is None:
        pointer.unlink(missing_ok=True)
    else:
        pointer.write_text(journal.pointer_text)
    if journal.head:  # `git add` may have staged them
        in_git = [p for p in journal.sizes if (root / p).exists()]
        in_git = [journal.pointer, *in_git]
        _run(root, "git", "reset", "--quiet", "HEAD", "--", *in_git)
    if journal.checkout and journal.pointer_text is not None:
        _run(root, "dvc", "checkout", "--force", journal.checkout)


def _remove_empty_folders(top: Path, folder: Path) -> None:
    """Remove `folder` and its parents below `top` while they are empty:
    the rollback leaves no class folder a change made."""
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _commit_of(root: Path, journal: Journal) -> str:
    """The commit of the journal's version made after its `head`, if
    any; "" if there is none."""
    if not _head(root):
        return ""
    since = f"{journal.head}..HEAD" if journal.head else "HEAD"
    for line in _run(root, "git", "log", "--format=%H %s", since).splitlines():
        commit, _, subject = line.partition(" ")
        if subject.startswith(f"{journal.tag}: "):
            return commit
    return ""


def _head(root: Path) -> str:
    """The commit at HEAD, "" in a repository without one."""
    try:
        return _run(root, "git", "rev-parse", "--verify", "HEAD").strip()
    except ValueError:
        return ""


def _tracking(data_dir: Path) -> _Tracking:
    if not data_dir.is_dir():
        raise ValueError(f"{data_dir}: no such folder")
    try:
        root = Path(
            _run(data_dir, "git", "rev-parse", "--show-toplevel").strip()
        )
    except ValueError:
        raise ValueError(
            f"{data_dir} is not inside a git repository: data versions are"
            " git commits; run `git init` (and `dvc init`) in the project"
        ) from None
    if not (root / ".dvc").is_dir():
        raise ValueError(
            f"{root} is a git repository without DVC: run `dvc init` there"
        )
    out = data_dir.resolve().relative_to(root.resolve()).as_posix()
    stage = _producing_stage(root, out)
    if stage:
        return _Tracking(root, target=stage, pointer="dvc.lock", out=out)
    return _Tracking(root, target=f"{out}.dvc", pointer=f"{out}.dvc", out=out)


def _producing_stage(root: Path, out: str) -> str | None:
    """The dvc.yaml stage whose output is the folder `out`, if any."""
    dvc_yaml = root / "dvc.yaml"
    if not dvc_yaml.is_file():
        return None
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    for name, stage in stages.items():
        for entry in stage.get("outs", []):
            path = entry if isinstance(entry, str) else next(iter(entry))
            if Path(path).as_posix().rstrip("/") == out:
                return str(name)
    return None


def _is_recorded(tracking: _Tracking) -> bool:
    """The folder is as its pointer says, and the pointer is committed."""
    if not (tracking.root / tracking.pointer).is_file():
        return False
    if tracking.is_stage_output and not _data_hash(
        tracking, (tracking.root / tracking.pointer).read_text()
    ):
        return False
    status = json.loads(
        _run(tracking.root, "dvc", "status", "--json", tracking.target) or "{}"
    )
    committed = not _run(
        tracking.root, "git", "status", "--porcelain", "--", tracking.pointer
    ).strip()
    return not status and committed


def _data_hash(tracking: _Tracking, pointer_text: str) -> str:
    """The folder's DVC hash in a dvc.lock or .dvc file ("" if absent)."""
    document = yaml.safe_load(pointer_text) or {}
    if tracking.is_stage_output:
        stage = document.get("stages", {}).get(tracking.target, {})
        outs = stage.get("outs", [])
    else:
        outs = document.get("outs", [])
    for entry in outs:
        if tracking.is_stage_output and entry.get("path") != tracking.out:
            continue
        return str(entry.get("md5", ""))
    return ""


def _with_data_hash(
    tracking: _Tracking, current: str, old_pointer: str
) -> str:
    """`current` pointer text with the folder's entry taken from
    `old_pointer`; the other stages of a dvc.lock stay as they are."""
    if not tracking.is_stage_output:
        return old_pointer
    document = yaml.safe_load(current)
    old = yaml.safe_load(old_pointer)
    document["stages"][tracking.target]["outs"] = old["stages"][
        tracking.target
    ]["outs"]
    return yaml.safe_dump(document, sort_keys=False)


def _version_tags(root: Path) -> list[str]:
    tags = _run(root, "git", "tag", "--list", f"{TAG_PREFIX}*").split()
    return sorted(
        (tag for tag in tags if re.fullmatch(rf"{TAG_PREFIX}\d+", tag)),
        key=_number,
    )


def _next_tag(root: Path) -> str:
    tags = _version_tags(root)
    return f"{TAG_PREFIX}{_number(tags[-1]) + 1 if tags else 1}"


def _number(tag: str) -> int:
    return int(tag.removeprefix(TAG_PREFIX))


def _git_show(tracking: _Tracking, tag: str) -> str:
    return _run(tracking.root, "git", "show", f"{tag}:{tracking.pointer}")


def _append_changes(file: Path, tag: str, changes: Sequence[Change]) -> None:
    new = not file.exists()
    with file.open("a", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(CHANGE_COLUMNS)
        for change in changes:
            writer.writerow(
                (
                    tag,
                    change.action,
                    change.path,
                    change.new_path,
                    change.reason,
                    change.source,
                )
            )


def _append_changelog(
    changelog: Path,
    tag: str,
    command: str,
    changes: Sequence[Change],
    out: str,
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        f"## {tag} ({now:%Y-%m-%d %H:%M} UTC)",
        "",
        f"`{command}`: {_summary(changes) or 'no file changed'}.",
    ]
    if changes:
        lines += [
            "",
            "| action | path | now | why | asked by |",
            "| --- | --- | --- | --- | --- |",
            *(
                f"| {c.action} | {c.path or '(new)'} |"
                f" {c.new_path or '(none)'} | {_cell(c.reason)} |"
                f" {_cell(c.source)} |"
                for c in changes[:_CHANGELOG_ROWS]
            ),
        ]
        if len(changes) > _CHANGELOG_ROWS:
            lines.append(
                f"\n... and {len(changes) - _CHANGELOG_ROWS} more: all"
                f" changes are in {out}/{CHANGES_FILE}."
            )
    if not changelog.exists():
        changelog.write_text(
            "# Data versions\n\nEach entry is a git tag: `git checkout TAG"
            " && dvc checkout` brings its data back.\n"
        )
    ends_a_line = changelog.read_text().endswith("\n")
    # Appended only, so that a rollback cuts it back to its size.
    with changelog.open("a") as file:
        file.write(
            ("" if ends_a_line else "\n") + "\n" + "\n".join(lines) + "\n"
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary(changes: Sequence[Change]) -> str:
    counts = Counter(change.action for change in changes)
    return ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))


def _run(cwd: Path, *command: str) -> str:
    if command[0] == "dvc":  # the one installed beside this Python
        command = (_DVC, *command[1:])
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ValueError(
            f"`{' '.join(command)}` failed in {cwd}:"
            f" {(result.stderr or result.stdout).strip()}"
        )
    return result.stdout
