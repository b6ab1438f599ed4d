"""The review page's cards: the rows of a run's issues.csv, each with a
stable id the page names it by; the page never sends a path."""

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.findings.finding import ISSUE_COLUMNS


@dataclasses.dataclass(frozen=True)
class Card:
    id: str
    row: Mapping[str, str]  # the issues.csv row, as read

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            **{c: self.row.get(c, "") for c in ISSUE_COLUMNS},
        }


def card_id(row: Mapping[str, str]) -> str:
    """12 hex digits naming a finding: its image, issue and partner."""
    key = "\0".join(row.get(c, "") for c in ("path", "issue", "duplicate_of"))
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def cards_of(rows: Sequence[Mapping[str, str]]) -> list[Card]:
    """One card per row, ranked by score, highest first."""
    cards = [Card(card_id(row), row) for row in rows]
    return sorted(cards, key=lambda card: -_number(card.row.get("score", "")))


def image_file(data_dir: Path, path: str) -> Path | None:
    """The file of a finding's `path` (relative to `data_dir`), or None
    if there is none or it would lie outside `data_dir`."""
    root = data_dir.resolve()
    file = (root / path).resolve()
    if not path or not file.is_relative_to(root) or not file.is_file():
        return None
    return file


def class_examples(
    data_dir: Path, class_names: Sequence[str], per_class: int
) -> dict[str, list[Path]]:
    """The first `per_class` train images of each class, for the strip
    beside a label issue."""
    return {
        name: sorted(
            file
            for file in (data_dir / "train" / name).glob("*")
            if file.is_file() and not file.name.startswith(".")
        )[:per_class]
        for name in class_names
    }


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0
