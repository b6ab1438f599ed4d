"""Tables as data for the `table` macro: each column says what its cell
shows of an item, the template how it looks."""

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


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
class Column(Generic[Item]):
    key: str  # the name a #sort= link uses
    label: str
    cell: Callable[[Item], Cell | str]  # plain strings are text cells
    sortable: bool = True


@dataclasses.dataclass(frozen=True)
class Row:
    cells: Sequence[Cell]
    css: str = ""
    id: str = ""  # the element id a link's #fragment reaches


@dataclasses.dataclass(frozen=True)
class Table:
    id: str
    columns: Sequence[Column[Any]]
    rows: Sequence[Row]
    # (key, "ascending" or "descending"): the order the rows already have
    sorted_by: tuple[str, str] | None = None
    footer: Row | None = None  # its first cell is a header


def table(
    table_id: str,
    columns: Sequence[Column[Item]],
    items: Iterable[Item],
    *,
    sorted_by: tuple[str, str] | None = None,
    row_css: Callable[[Item], str] = lambda _: "",
    row_id: Callable[[Item], str] = lambda _: "",
    footer: Item | None = None,
) -> Table:
    """A row per item, and `footer` as the last row, apart."""

    def row(item: Item) -> Row:
        cells = [column.cell(item) for column in columns]
        return Row([c if isinstance(c, Cell) else Cell(c) for c in cells])

    rows = [
        dataclasses.replace(row(i), css=row_css(i), id=row_id(i))
        for i in items
    ]
    last = None if footer is None else row(footer)
    return Table(table_id, columns, rows, sorted_by, last)


def num(value: float, shown: str, css: str = "") -> Cell:
    """A number, sorted by its value whatever its format."""
    return Cell(shown, value, f"num {css}".strip())


def image(png: bytes | None, title: str) -> Cell:
    return Cell(thumbnails=[Thumbnail(png, title)])


def number(
    key: str,
    label: str,
    value: Callable[[Item], float | None],
    spec: str = "",
    *,
    missing: str = "",
) -> Column[Item]:
    """A column of numbers shown in the format `spec`, e.g. ".1%";
    `missing` where the value is None."""

    def cell(item: Item) -> Cell:
        found = value(item)
        if found is None:
            return Cell(missing, "", "num")
        return num(found, format(found, spec))

    return Column(key, label, cell)


def pictures(
    key: str, label: str, picture: Callable[[Item], Cell]
) -> Column[Item]:
    """A column of thumbnails, which do not sort."""
    return Column(key, label, picture, sortable=False)
