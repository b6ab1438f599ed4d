"""`dcp fix`: a reviewed issues.csv applied to the image folder as a
new data version; `dcp fix --undo`: the version before it, restored."""

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from core.findings.issues_csv import read_issues_csv
from core.task import Task
from iteration import data_versions
from iteration.fixes.apply import apply_moves, plan_moves
from iteration.fixes.plan import plan_fixes

_SKIPPED_SHOWN = 5  # rows skipped that the summary lists


@dataclasses.dataclass(frozen=True)
class FixResult:
    before: str  # the data version the fixes were applied to
    version: data_versions.DataVersion | None  # None: nothing to change
    changes: tuple[data_versions.Change, ...]
    skipped: tuple[tuple[int, str], ...]
    left_for_review: tuple[tuple[int, str], ...] = ()

    def format(self, data_dir: str, changelog: str) -> str:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        done = ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
        lines = []
        if self.version is None:
            lines.append(f"Nothing to change in {data_dir} ({self.before}).")
        else:
            lines += [
                f"{self.version.tag}: {done} in {data_dir}"
                f" (was {self.before}).",
                f"  changelog: {changelog}",
                f"  undo: dcp fix --undo, or git checkout {self.before}"
                " && dvc checkout",
            ]
        lines += _listed(
            f"{len(self.skipped)} rows skipped ({_by_reason(self.skipped)})",
            self.skipped,
        )
        left = self.left_for_review
        if left:
            lines += _listed(
                f"{len(self.changes)} applied, {len(left)} images left for"
                f" review ({_by_reason(left)})",
                left,
            )
        return "\n".join(lines)


def _listed(title: str, rows: tuple[tuple[int, str], ...]) -> list[str]:
    """`title` and the first rows of `rows`, or nothing if it is empty."""
    if not rows:
        return []
    lines = [f"  {title}:"]
    lines += [f"    line {n}: {why}" for n, why in rows[:_SKIPPED_SHOWN]]
    if len(rows) > _SKIPPED_SHOWN:
        lines.append(f"    ... and {len(rows) - _SKIPPED_SHOWN} more")
    return lines


def _by_reason(rows: tuple[tuple[int, str], ...]) -> str:
    """How many `rows` have each kind of reason, most first."""
    reasons = Counter(_reason(why) for _, why in rows)
    return ", ".join(f"{n} {why}" for why, n in reasons.most_common())


def _reason(why: str) -> str:
    """The kind of a reason, without its path and figures: "suggested
    review", "relabel below the confidence", "removed by another row"..."""
    text = why.split(": ", 1)[-1]
    if " at confidence " in text:
        return text.split(" at confidence ")[0] + " below the confidence"
    if text.startswith("removed by line "):
        return "removed by another row"
    return text


def fix_data(
    issues_csv: str,
    data_dir: str,
    *,
    changelog: str,
    accept_suggestions: bool,
    min_confidence: float,
    splits: Sequence[str] | None,
    task: Task,
    wait: float | None = None,
) -> FixResult:
    """Apply the rows of `issues_csv` to `data_dir` (see plan_fixes) as
    `task` writes fixes back, as the folder's only writer (see
    data_versions.sole_writer)."""
    folder = Path(data_dir)
    rows = read_issues_csv(issues_csv)
    with data_versions.sole_writer(folder, wait=wait):
        plan = plan_fixes(
            rows,
            folder,
            accept_suggestions=accept_suggestions,
            min_confidence=min_confidence,
            splits=splits,
        )
        before = data_versions.ensure_recorded(folder, changelog=changelog)
        if not plan.steps:
            return FixResult(
                before, None, (), plan.skipped, plan.left_for_review
            )
        logging.info("Applying %d fixes to %s", len(plan.steps), data_dir)
        moves = plan_moves(
            folder, plan.steps, task, version=data_versions.next_tag(folder)
        )
        version, changes = data_versions.record_change(
            folder,
            command=_command(
                issues_csv, accept_suggestions, min_confidence, splits
            ),
            changelog=changelog,
            change=lambda: apply_moves(
                folder, moves, task, source=Path(issues_csv).name
            ),
            moves=[
                (move.old.as_posix(), move.new.as_posix()) for move in moves
            ],
        )
    return FixResult(
        before, version, tuple(changes), plan.skipped, plan.left_for_review
    )


def undo_last_version(
    data_dir: str, *, changelog: str, wait: float | None = None
) -> tuple[str, data_versions.DataVersion]:
    """Restore the version before the latest one, exactly, as a new
    version; return the restored tag and the new version."""
    with data_versions.sole_writer(data_dir, wait=wait):
        tags = data_versions.versions(data_dir)
        if len(tags) < 2:
            raise ValueError(
                f"{data_dir} has {len(tags)} data version(s); there is"
                " nothing to undo"
            )
        previous = tags[-2]
        return previous, data_versions.restore_version(
            data_dir,
            previous,
            command=f"dcp fix --undo: {tags[-1]} undone, back to {previous}",
            changelog=changelog,
        )


def _command(
    issues_csv: str,
    accept_suggestions: bool,
    min_confidence: float,
    splits: Sequence[str] | None,
) -> str:
    command = f"dcp fix {issues_csv}"
    if accept_suggestions:
        command += f" --accept-suggestions --min-confidence {min_confidence}"
    if splits is not None:
        command += f" --splits {','.join(splits)}"
    return command
