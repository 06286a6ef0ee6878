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
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Label, Static, TextArea

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen

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
                 "decrypted and no plaintext is shown.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "compare", "Compare", id="diff.run", tooltip="Compare A and B"),
        Binding("ctrl+o", "load", "Open file", id="diff.load", tooltip="Load a file into the focused side (A or B)"),
        Binding("ctrl+t", "focus_table", "Results", id="diff.table", tooltip="Move to the comparison table"),
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
                        yield TextArea(id=side, soft_wrap=True)
            with Horizontal(classes="form-row"):
                yield Button("Compare ^r", id="compare", variant="primary")
                yield Checkbox("show fields that are the same", id="all")
                yield Static(id="summary")
            yield DataTable(id="table", show_cursor=False, zebra_stripes=True)

    def on_body_ready(self) -> None:
        table = self.query_one("#table", DataTable)
        for label, width in (("Field", 22), ("A", 38), ("B", 38), ("", 8)):
            table.add_column(label, width=width)
        super().on_body_ready()

    def palette_commands(self) -> list[PaletteCommand]:
        return [("diff: compare", "Compare A and B by metadata", self.action_compare)]

    # --- actions ------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#compare")
    def action_compare(self) -> None:
        """Compare A and B."""
        self.clear_error()
        self._compare(self.query_one("#a", TextArea).text, self.query_one("#b", TextArea).text)

    def action_load(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        side = "b" if self.focused is self.query_one("#b") else "a"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._load(side, path)

        self.app.push_screen(PathDialog(PathRequest(f"File for {side.upper()}", Path.cwd())), chosen)

    def action_focus_table(self) -> None:
        self.query_one("#table", DataTable).focus()

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
        self.query_one(f"#{message.side}", TextArea).text = message.text

    @on(Compared)
    def _compared(self, message: Compared) -> None:
        self.rows, self.entries = message.rows, message.entries
        self._show()

    def _show(self) -> None:
        show_all = self.query_one("#all", Checkbox).value
        table = self.query_one("#table", DataTable)
        table.clear()
        summary = Text()
        if self.rows is not None:
            differ = [r for r in self.rows if not r.same]
            for r in self.rows:
                if show_all or not r.same:
                    table.add_row(Text(r.field), _cell(r.a), _cell(r.b), _same(r.same))
            summary.append(f"{len(differ)} of {len(self.rows)} fields differ" if differ else "the same metadata",
                           style="bold yellow" if differ else "bold green")
        elif self.entries is not None:
            changed = [e for e in self.entries if e.status != "same"]
            for e in self.entries:
                if not show_all and e.status == "same":
                    continue
                table.add_row(Text(e.key, style="bold"), Text(""), Text(""), _status(e.status))
                for r in e.rows:
                    if show_all or not r.same:
                        table.add_row(Text(f"  {r.field}"), _cell(r.a), _cell(r.b), _same(r.same))
            summary.append(f"manifests: {len(changed)} of {len(self.entries)} sealed values differ",
                           style="bold yellow" if changed else "bold green")
        self.query_one("#summary", Static).update(summary)


def _same(same: bool) -> Text:
    return Text("same", style="dim") if same else Text("differs", style="bold yellow")


def _status(status: str) -> Text:
    style = {"same": "dim", "changed": "bold yellow", "added": "bold green", "removed": "bold red"}
    return Text(status, style=style.get(status, ""))
