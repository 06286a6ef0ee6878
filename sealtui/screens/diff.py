"""Diff: two sealed values (or two manifests) side by side by their decoded metadata (`core.diff`), never by
plaintext: which key, instance, kid, sizes and form differ. No credentials are needed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Label, Static

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.text_box import TextBox
from sealtui.widgets.wrap_table import Column, WrapTable

if TYPE_CHECKING:
    from sealtui.core.diff import DiffRow, ManifestDiff

__all__ = ["DiffScreen"]


def _cell(value: Any) -> Text:
    return Text("—" if value is None else str(value))


class DiffScreen(SealtuiScreen):
    """Compare two sealed values or two manifests."""

    MODE = "diff"
    CSS_PATH = "diff.tcss"
    AUTO_FOCUS = "#a"
    HELP_TEXT = ("Paste (or load with ctrl+o into the focused side) two sealed values, or two manifests, and "
                 "compare them: every decoded metadata field side by side (form, kid, key, instance, sizes, "
                 "IV…), or for manifests each sealed value paired by resource and key path. Nothing is "
                 "decrypted and no plaintext is shown. ctrl+l clears the focused side (or both).")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "compare", "Compare", id="diff.run", tooltip="Compare A and B"),
        Binding("ctrl+o", "load", "Open file", id="diff.load", tooltip="Load a file into the focused side (A or B)"),
        Binding("ctrl+t", "focus_table", "Results", id="diff.table", tooltip="Move to the comparison table"),
        Binding("ctrl+l", "clear", "Clear", id="diff.clear",
                tooltip="Clear the focused side (both when neither has the focus) and the comparison"),
    ]

    @dataclass
    class Compared(ScreenMessage):
        """The comparison is ready: `rows` for two values, `entries` for two manifests."""

        rows: list[DiffRow] | None
        entries: list[ManifestDiff] | None

    @dataclass
    class Loaded(ScreenMessage):
        """A file was read into one side."""

        side: str
        text: str

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DiffRow] | None = None
        """The last comparison of two values (tests read it)."""
        self.entries: list[ManifestDiff] | None = None
        """The last comparison of two manifests."""

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            with Horizontal(id="sides"):
                for side in ("a", "b"):
                    with Vertical(classes="side"):
                        yield Label(f"{side.upper()} (paste, or ctrl+o to load a file)", classes="section-title")
                        yield TextBox(id=side, soft_wrap=True)
            with Horizontal(classes="form-row"):
                yield Button("Compare ^r", id="compare", variant="primary")
                yield Checkbox("show fields that are the same", id="all")
                yield Static(id="summary")
            with VerticalScroll(id="results"):
                yield WrapTable(Column("Field", ratio=2), Column("A", ratio=3), Column("B", ratio=3),
                                Column("", width=7), id="table", zebra=True)

    def palette_commands(self) -> list[PaletteCommand]:
        return [("diff: compare", "Compare A and B by metadata", self.action_compare),
                ("diff: clear", "Clear the focused side and the comparison", self.action_clear)]

    # --- actions ------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#compare")
    def action_compare(self) -> None:
        """Compare A and B."""
        self._compare(self.query_one("#a", TextBox).text, self.query_one("#b", TextBox).text)

    def action_clear(self) -> None:
        """Clear the side that has the focus (both when neither has it) and the comparison."""
        sides = [w for w in self.query(TextBox).results() if w.has_focus] or list(self.query(TextBox).results())
        for side in sides:
            side.clear()
        self.rows = self.entries = None
        self._show()
        self.clear_error()
        sides[0].focus()

    def action_load(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        side = "b" if self.focused is self.query_one("#b") else "a"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._load(side, path)

        self.app.push_screen(PathDialog(PathRequest(f"File for {side.upper()}", Path.cwd())), chosen)

    def action_focus_table(self) -> None:
        self.query_one("#results", VerticalScroll).focus()

    @on(Checkbox.Changed, "#all")
    def _all(self) -> None:
        self._show()

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="comparing")
    def _compare(self, a: str, b: str) -> None:
        from sealtui.service.review import compare

        comparison = compare(a, b)
        self.post_message(self.Compared(self, comparison.rows, comparison.entries))

    @work(thread=True, exclusive=True, exit_on_error=False, group="file", description="loading")
    def _load(self, side: str, path: Path) -> None:
        from sealtui.core.files import read_text

        text = read_text(path, "a sealed value or manifest")
        self.post_message(self.Loaded(self, side, text))

    # --- results ------------------------------------------------------------------------------------------

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.query_one(f"#{message.side}", TextBox).text = message.text

    @on(Compared)
    def _compared(self, message: Compared) -> None:
        self.rows, self.entries = message.rows, message.entries
        self._show()

    def _show(self) -> None:
        show_all = self.query_one("#all", Checkbox).value
        rows: list[tuple[Text, ...]] = []
        summary = Text()
        if self.rows is not None:
            differ = [r for r in self.rows if not r.same]
            for r in self.rows:
                if show_all or not r.same:
                    rows.append((Text(r.field), _cell(r.a), _cell(r.b), _same(r.same)))
            summary.append(f"{len(differ)} of {len(self.rows)} fields differ" if differ else "the same metadata",
                           style="bold yellow" if differ else "bold green")
        elif self.entries is not None:
            changed = [e for e in self.entries if e.status != "same"]
            for e in self.entries:
                if not show_all and e.status == "same":
                    continue
                rows.append((Text(e.key, style="bold"), Text(""), Text(""), _status(e.status)))
                for r in e.rows:
                    if show_all or not r.same:
                        rows.append((Text(f"  {r.field}"), _cell(r.a), _cell(r.b), _same(r.same)))
            summary.append(f"manifests: {len(changed)} of {len(self.entries)} sealed values differ",
                           style="bold yellow" if changed else "bold green")
        self.query_one("#table", WrapTable).set_rows(rows)
        self.query_one("#summary", Static).update(summary)


def _same(same: bool) -> Text:
    return Text("same", style="dim") if same else Text("differs", style="bold yellow")


def _status(status: str) -> Text:
    style = {"same": "dim", "changed": "bold yellow", "added": "bold green", "removed": "bold red"}
    return Text(status, style=style.get(status, ""))
