"""A read-only table that shows every character: long cells wrap inside their column (a word longer than the
column is folded, never cut), and the columns share the width the table has, so nothing is clipped at 80
columns. For tables that are read, not navigated (findings, verdicts, credential checks); a table with a cursor
stays a `DataTable`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

__all__ = ["Column", "WrapTable"]


@dataclass(frozen=True)
class Column:
    """One column: a fixed `width`, a share (`ratio`) of the width left, or (neither) as wide as its content
    asks, shrunk with the others when the table is too wide; at least `min_width`."""

    label: str
    width: int | None = None
    ratio: int | None = None
    min_width: int = 6
    wrap: bool = True
    """False: one line per cell, cut with an ellipsis (for previews of values shown whole elsewhere)."""


class WrapTable(Widget):
    """Rows of `Text` cells under a header; height follows the content."""

    DEFAULT_CSS = """
    WrapTable {
        height: auto;
    }
    WrapTable > .wrap-table--header {
        text-style: bold;
        color: $text-accent;
    }
    WrapTable > .wrap-table--odd-row {
        background: $surface-lighten-1 40%;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"wrap-table--header", "wrap-table--odd-row"}

    def __init__(self, *columns: Column, zebra: bool = False, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = columns
        self.zebra = zebra
        self._rows: list[tuple[Text, ...]] = []

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, index: int) -> tuple[Text, ...]:
        """The cells of row `index`."""
        return self._rows[index]

    def add_row(self, *cells: Text) -> None:
        self._rows.append(tuple(cells))
        self.refresh(layout=True)

    def set_rows(self, rows: Sequence[Sequence[Text]]) -> None:
        """Replace every row."""
        self._rows = [tuple(r) for r in rows]
        self.refresh(layout=True)

    def clear(self) -> None:
        self.set_rows([])

    def render(self) -> Table:
        header = self.get_component_rich_style("wrap-table--header", partial=True)
        odd = self.get_component_rich_style("wrap-table--odd-row", partial=True)
        table = Table(box=None, expand=True, padding=(0, 1), pad_edge=False, show_edge=False,
                      header_style=header, row_styles=["", odd] if self.zebra else None)
        for c in self.columns:
            table.add_column(Text(c.label), width=c.width, ratio=c.ratio,
                             min_width=c.width or c.min_width, no_wrap=not c.wrap,
                             overflow="fold" if c.wrap else "ellipsis")
        for row in self._rows:
            table.add_row(*row)
        return table
