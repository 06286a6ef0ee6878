"""Scan: every sealed value in Kubernetes YAML/JSON files, with its form, the chosen consumer's verdict and its
signature state (`core.scan.scan`); enter opens a value in the Inspect screen. No credentials are needed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.frame import status_text

if TYPE_CHECKING:
    from sealtui.core.scan import ScannedValue, ScanResult

__all__ = ["CONSUMERS", "ScanScreen"]

CONSUMERS = ("cdh", "cdh-skip-verification", "kata-agent", "openanolis-cdh")
"""The consumers whose verdict the table shows (the same choice as `sealtui scan --consumer`)."""

_SIGNATURE = {True: ("verified", "bold green"), False: ("BAD SIGNATURE", "bold red"), None: ("not checked", "dim")}

COLUMNS = (("File:line", 26), ("Resource", 16), ("Key path", 24), ("Form", 15), ("Verdict", 10), ("Signature", 13))
"""The results' columns and their widths on a wide screen; on a narrower one the first four share what is left
(`column_widths`), and their cells wrap."""


def column_widths(width: int) -> list[int]:
    """The results' column widths for a table `width` columns wide (each column has a cell padding of 2)."""
    preferred = [w for _label, w in COLUMNS]
    room = width - 2 * len(COLUMNS) - 2  # minus the cells' padding and the scroll bar
    if room >= sum(preferred):
        return preferred
    form = 10  # "signed-jws": a form name reads badly when it wraps
    fixed = preferred[4:]
    flexible = max(room - sum(fixed) - form, 18)
    wanted = sum(preferred[:3])
    return [max(9, w * flexible // wanted) for w in preferred[:3]] + [form, *fixed]


class ScanScreen(SealtuiScreen):
    """Find and check the sealed values of manifests."""

    MODE = "scan"
    CSS_PATH = "scan.tcss"
    AUTO_FOCUS = "#path"
    HELP_TEXT = ("Give a manifest file or a directory (YAML/JSON, searched recursively) and scan it: every sealed "
                 "value in Secret data/stringData, env values or any other string starting with sealed., with "
                 "its form, the chosen consumer's verdict and the signature state. Give a public JWK, or a kid "
                 "map (kid: public JWK file), to verify signatures. Enter on a row opens it in Inspect.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "scan", "Scan", id="scan.run", tooltip="Scan the path (and verify with the key given)"),
        Binding("ctrl+o", "browse", "Browse", id="scan.browse", tooltip="Choose the file or directory to scan"),
        Binding("ctrl+t", "focus_table", "Results", id="scan.table", tooltip="Move to the results table"),
        Binding("ctrl+l", "open", "Inspect row", id="scan.open",
                tooltip="Open the selected value in the Inspect screen (also: enter on a row)"),
    ]

    @dataclass
    class Scanned(ScreenMessage):
        """The scan finished."""

        result: ScanResult

    def __init__(self) -> None:
        super().__init__()
        self.result: ScanResult | None = None
        """The last scan's result (tests read it)."""
        self._widths: list[int] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            with Horizontal(classes="form-row"):
                yield Label("Path")
                yield Input(id="path", placeholder="a manifest file or a directory of them")
                yield Button("Browse ^o", id="browse")
            with Horizontal(classes="form-row"):
                yield Label("Public JWK")
                yield Input(id="jwk", placeholder="verify with this key (optional)")
                yield Input(id="kid-map", placeholder="…or a kid map file (optional)")
            with Horizontal(classes="form-row"):
                yield Label("Consumer")
                yield Select([(c, c) for c in CONSUMERS], value="cdh", allow_blank=False, id="consumer")
                yield Button("Scan ^r", id="scan", variant="primary")
            yield Static(id="summary")
            yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
            yield Label("Files that could not be scanned", id="errors-title", classes="section-title")
            yield DataTable(id="errors", show_cursor=False)

    def on_body_ready(self) -> None:
        self._columns(self.size.width)
        self.query_one("#errors", DataTable).add_columns("File", "Problem")
        self._show_errors(False)
        super().on_body_ready()

    def on_resize(self, event: events.Resize) -> None:
        self._columns(event.size.width)

    def _columns(self, screen_width: int) -> None:
        """Size the results' columns to the screen (minus the page's padding)."""
        widths = column_widths(screen_width - 2)
        if widths == self._widths:
            return
        self._widths = widths
        results = self.query_one("#results", DataTable)
        results.clear(columns=True)
        for (label, _w), width in zip(COLUMNS, widths, strict=True):
            results.add_column(label, width=width)
        if self.result is not None:
            self._show(self.result)

    def palette_commands(self) -> list[PaletteCommand]:
        return [("scan: run", "Scan the manifests of the path", self.action_scan),
                ("scan: open the row in Inspect", "Inspect the selected value", self.action_open)]

    # --- actions ------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#path")
    @on(Input.Submitted, "#jwk")
    @on(Input.Submitted, "#kid-map")
    @on(Button.Pressed, "#scan")
    def action_scan(self) -> None:
        """Scan the path given."""
        self._scan(self.query_one("#path", Input).value.strip(), self.query_one("#jwk", Input).value.strip(),
                   self.query_one("#kid-map", Input).value.strip())

    @on(Button.Pressed, "#browse")
    def action_browse(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#path", Input).value = str(path)
                self.action_scan()

        self.app.push_screen(PathDialog(PathRequest("File or directory to scan", Path.cwd(), want_dir=True)),
                             chosen)

    def action_focus_table(self) -> None:
        self.query_one("#results", DataTable).focus()

    @on(DataTable.RowSelected, "#results")
    def action_open(self) -> None:
        """Open the value under the cursor in the Inspect screen."""
        value = self.selected()
        if value is None:
            self.notify("no value selected: scan first", severity="warning", markup=False)
            return
        jwk = self.query_one("#jwk", Input).value.strip() or None
        self.run_worker(self.sealtui.open_in_inspect(value.value, source=f"{value.file}:{value.line}", jwk=jwk),
                        exclusive=True, group="open", exit_on_error=False)

    def selected(self) -> ScannedValue | None:
        """The scanned value on the table's cursor row."""
        table = self.query_one("#results", DataTable)
        if self.result is None or not self.result.values or table.row_count == 0:
            return None
        return self.result.values[min(table.cursor_row, len(self.result.values) - 1)]

    @on(Select.Changed, "#consumer")
    def _consumer(self) -> None:
        if self.result is not None:
            self._show(self.result)

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="scanning")
    def _scan(self, path: str, jwk: str, kid_map: str) -> None:
        from sealtui.service.review import scan_manifests

        self.post_message(self.Scanned(self, scan_manifests([path], jwk or None, kid_map or None)))

    # --- results ------------------------------------------------------------------------------------------

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        self.result = message.result
        self._show(message.result)

    def _show(self, result: ScanResult) -> None:
        consumer = str(self.query_one("#consumer", Select).value)
        table = self.query_one("#results", DataTable)
        table.clear()
        for v in result.values:
            r = v.report
            sig_word, sig_style = _SIGNATURE[r.signature.verified]
            signature = Text(sig_word, style=sig_style) if r.signature.alg or r.signature.kid else \
                Text("unsigned", style="yellow")
            table.add_row(Text(f"{v.file}:{v.line}"), Text(v.resource), Text(v.path), Text(r.form),
                          status_text(r.verdicts.get(consumer, "?")), signature, height=None)
        rejected = len(result.rejected(consumer))
        summary = Text(f"{len(result.values)} sealed value(s) in {result.files} file(s); ", style="bold")
        summary.append(f"{rejected} rejected by {consumer}", style="bold red" if rejected else "bold green")
        if result.errors:
            summary.append(f"; {len(result.errors)} file(s) could not be scanned", style="bold yellow")
        if result.values:
            summary.append("   enter on a row opens it in Inspect", style="dim")
        self.query_one("#summary", Static).update(summary)
        errors = self.query_one("#errors", DataTable)
        errors.clear()
        for e in result.errors:
            errors.add_row(Text(e.file), Text(e.message))
        self._show_errors(bool(result.errors))

    def _show_errors(self, shown: bool) -> None:
        self.query_one("#errors-title").display = shown
        self.query_one("#errors").display = shown
