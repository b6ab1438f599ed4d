"""Tables as data for the `table` macro: the page modules say what is in
each cell, the template how it looks."""

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple


class Column(NamedTuple):
    key: str  # the name a #sort= link uses
    label: str
    sortable: bool = True


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    png: bytes | None  # shown as "no preview" unless a PNG
    title: str


@dataclasses.dataclass(frozen=True)
class Cell:
    text: object = ""
    sort_value: object = None  # data-value, what the sorter compares
    css: str = ""
    thumbnails: Sequence[Thumbnail] = ()  # shown instead of the text


@dataclasses.dataclass(frozen=True)
class Row:
    cells: Sequence[Cell]
    css: str = ""


@dataclasses.dataclass(frozen=True)
class Table:
    id: str
    columns: Sequence[Column]
    rows: Sequence[Row]
    # (key, "ascending" or "descending"): the order the rows already have
    sorted_by: tuple[str, str] | None = None
    footer: Row | None = None  # its first cell is a header


def num(value: float, shown: str, css: str = "") -> Cell:
    """A number, sorted by its value whatever its format."""
    return Cell(shown, value, f"num {css}".strip())


def image(png: bytes | None, title: str) -> Cell:
    return Cell(thumbnails=[Thumbnail(png, title)])


def row(*cells: Cell | str, css: str = "") -> Row:
    """A row; plain strings become text cells."""
    return Row([c if isinstance(c, Cell) else Cell(c) for c in cells], css)
