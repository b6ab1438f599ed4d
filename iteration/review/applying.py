"""The decisions as `dcp fix` takes them: a reviewed copy of issues.csv
with the `action` column filled, applied by the same code."""

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.findings.finding import ISSUE_COLUMNS, RELABEL
from core.task import Task
from iteration.fixes.fix_job import FixResult, fix_data
from iteration.review.cards import Card
from iteration.review.decisions import CLEAR, Decision

REVIEWED_FILE = "reviewed-issues.csv"


def reviewed_rows(
    cards: Sequence[Card], decisions: Mapping[str, Decision]
) -> list[dict[str, str]]:
    """The cards' rows, each with the action decided on it; a relabel to
    another class than suggested carries that class as suggested_label."""
    rows = []
    for card in cards:
        row = {column: card.row.get(column, "") for column in ISSUE_COLUMNS}
        decision = decisions.get(card.id)
        row["action"] = ""
        if decision is not None and decision.action != CLEAR:
            row["action"] = decision.action
            if decision.action == RELABEL:
                row["suggested_label"] = decision.label
        rows.append(row)
    return rows


def write_reviewed(rows: Sequence[Mapping[str, str]], path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ISSUE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def apply_decisions(
    cards: Sequence[Card],
    decisions: Mapping[str, Decision],
    *,
    report_dir: Path,
    data_dir: Path,
    changelog: str,
    task: Task,
) -> FixResult:
    """`dcp fix` of the reviewed issues.csv, written beside the report:
    the same checks (a file changed since the report is refused, naming
    it), the same data version, the same undo."""
    reviewed = write_reviewed(
        reviewed_rows(cards, decisions), report_dir / REVIEWED_FILE
    )
    return fix_data(
        str(reviewed),
        str(data_dir),
        changelog=changelog,
        accept_suggestions=False,
        min_confidence=1.0,
        splits=None,
        task=task,
    )
