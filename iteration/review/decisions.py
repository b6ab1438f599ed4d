"""The reviewer's decisions, saved beside the run's report at once and
atomically: a crash or a closed tab loses none. Two pages on one run
share the file; the later save of a finding wins, and its page is told
that the finding changed elsewhere."""

import dataclasses
import datetime
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from filelock import FileLock

from core.findings.finding import ACTIONS

DECISIONS_FILE = "decisions.json"
# What a decision may be: an issues.csv action, or none (undone).
CLEAR = "clear"


@dataclasses.dataclass(frozen=True)
class Decision:
    action: str  # one of ACTIONS, or CLEAR: undecided again
    label: str  # the new label of a relabel
    revision: int  # how many times this finding was saved
    page: str  # the page that saved it
    saved_at: str


@dataclasses.dataclass(frozen=True)
class Saved:
    decision: Decision
    # Another page saved this finding after this page last saw it.
    changed_elsewhere: bool


class DecisionStore:
    def __init__(self, path: Path):
        self.path = path
        # Two servers on one run take turns; so do a server's threads.
        self._lock = FileLock(str(path) + ".lock")

    def load(self) -> dict[str, Decision]:
        """Every finding saved at least once, cleared ones included."""
        if not self.path.exists():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {card: Decision(**fields) for card, fields in raw.items()}

    def decided(self) -> dict[str, Decision]:
        return {
            card: decision
            for card, decision in self.load().items()
            if decision.action != CLEAR
        }

    def save(
        self, card: str, action: str, label: str, *, seen: int, page: str
    ) -> Saved:
        """Record `action` on the finding `card` (CLEAR undoes it); `seen`
        is the revision of it the page last saw."""
        if action not in (*ACTIONS, CLEAR):
            raise ValueError(f"unknown action {action!r}")
        with self._lock:
            decisions = self.load()
            before = decisions.get(card)
            revision = before.revision if before else 0
            decisions[card] = Decision(
                action=action,
                label=label,
                revision=revision + 1,
                page=page,
                saved_at=datetime.datetime.now(
                    datetime.timezone.utc
                ).isoformat(timespec="seconds"),
            )
            _write_atomically(
                self.path,
                {
                    c: dataclasses.asdict(d)
                    for c, d in sorted(decisions.items())
                },
            )
        elsewhere = (
            before is not None and revision > seen and before.page != page
        )
        return Saved(decisions[card], elsewhere)


def _write_atomically(path: Path, content: dict[str, Any]) -> None:
    """A new file beside `path`, flushed to disk, then renamed over it:
    a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(content, file, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
