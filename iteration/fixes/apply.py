"""Carry out a fix plan: relabelled files move to their new class
folder, removed files to a trash folder. Nothing is deleted."""

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from components.image_etl.dataset_layout import FIX_TRASH
from iteration.data_versions import Change
from iteration.fixes.plan import RELABEL, FixStep


def apply_fixes(
    data_dir: Path, steps: Sequence[FixStep], *, version: str, source: str
) -> list[Change]:
    """Move the files of `steps`; removed ones go to
    trash/<version>/<their path>. `source` names the issues file."""
    changes = []
    for step in steps:
        old = PurePosixPath(step.path)
        if step.action == RELABEL:
            split = old.parts[0]
            new = _free_name(
                data_dir, PurePosixPath(split, step.label, old.name)
            )
            reason = f"relabelled {old.parts[1]} → {step.label}: {step.reason}"
        else:
            new = _free_name(data_dir, PurePosixPath(FIX_TRASH, version, old))
            reason = f"removed: {step.reason}"
        (data_dir / new).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / old).rename(data_dir / new)
        changes.append(
            Change(
                action=step.action,
                path=old.as_posix(),
                new_path=new.as_posix(),
                reason=reason,
                source=f"{source} line {step.line}",
            )
        )
    return changes


def _free_name(data_dir: Path, path: PurePosixPath) -> PurePosixPath:
    """`path`, or `name-2.png`, `name-3.png`, ... if it is taken."""
    candidate, n = path, 1
    while (data_dir / candidate).exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
