"""Carry out a fix plan: each file moves where the task puts a fixed
file (for classification, a relabelled file to its new class folder),
a removed one to a trash folder. Nothing is deleted."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from core.dataset.etl.dataset_layout import FIX_TRASH
from core.task import Task
from iteration.data_versions import Change
from iteration.fixes.plan import FixStep
from iteration.version_journal import crash_point


@dataclasses.dataclass(frozen=True)
class Move:
    step: FixStep
    old: PurePosixPath  # relative to the folder
    new: PurePosixPath


def plan_moves(
    data_dir: Path, steps: Sequence[FixStep], task: Task, *, version: str
) -> list[Move]:
    """Where each file of `steps` goes, decided before any moves so the
    journal can list them: where `task` puts it, removed ones under
    trash/<version>/; never onto a file there now or another move's
    target."""
    moves: list[Move] = []
    taken: set[PurePosixPath] = set()
    trash = PurePosixPath(FIX_TRASH, version)
    for step in steps:
        old = PurePosixPath(step.path)
        wanted = task.fixed_path(old, step.action, step.label, trash)
        new = _free_name(data_dir, wanted, taken)
        taken.add(new)
        moves.append(Move(step, old, new))
    return moves


def apply_moves(
    data_dir: Path, moves: Sequence[Move], task: Task, *, source: str
) -> list[Change]:
    """Move the files of `moves`; `source` names the issues file, `task`
    words each change."""
    changes = []
    for number, move in enumerate(moves):
        if number == len(moves) // 2:
            crash_point("mid-moves")
        (data_dir / move.new).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / move.old).rename(data_dir / move.new)
        changes.append(
            Change(
                action=move.step.action,
                path=move.old.as_posix(),
                new_path=move.new.as_posix(),
                reason=task.fix_reason(
                    move.old,
                    move.step.action,
                    move.step.label,
                    move.step.reason,
                ),
                source=f"{source} line {move.step.line}",
            )
        )
    return changes


def _free_name(
    data_dir: Path, path: PurePosixPath, taken: set[PurePosixPath]
) -> PurePosixPath:
    """`path`, or `name-2.png`, `name-3.png`, ... if it is taken."""
    candidate, n = path, 1
    while (data_dir / candidate).exists() or candidate in taken:
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
