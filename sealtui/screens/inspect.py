"""Inspect: any string, no credentials needed. Its form, what each consumer would do with it, the findings,
and the decoded header and payload as a lazily expanded JSON tree; verify against a public JWK; re-sign it into
the canonical form with the session's signer (`core.resign`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static
from textual.worker import get_current_worker

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.frame import status_text
from sealtui.widgets.json_tree import JsonTree
from sealtui.widgets.text_box import TextBox
from sealtui.widgets.wrap_table import Column, WrapTable

if TYPE_CHECKING:
    from sealtui.core.report import Fix, InspectionReport
    from sealtui.core.resign import Resigned

__all__ = ["InspectScreen"]

SHOW_LIMIT = 100_000
"""Loaded text longer than this is kept in memory but not put in the text area."""
CELL_LIMIT = 300
"""Characters of untrusted text (a kid, a finding about a huge value) shown in one place."""
FIX_LIMIT = 2_000
"""Characters of a fix shown: every fix the core writes is shorter, so a fix is always shown (and copied) whole."""


def _displayable(text: str) -> bool:
    """Whether the text area can show `text` as it is: UTF-8 (no lone surrogate) and no control characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r" for c in text)


TUI_ACTIONS: dict[str, str] = {
    "verify-with-jwk": "give the public JWK above, then ctrl+r",
    "resign": "ctrl+n re-signs it here",
    "reseal": "F4 seals it again",
    "strip-whitespace": "ctrl+n re-signs it without the whitespace",
}
"""A finding's fix action (`sealtui.core.report.ACTIONS`) → the key that does it in the UI; an action the UI
has no key for (export-guest-bundle) is shown as the fix's text alone."""


def _fix_text(fix: Fix | None) -> Text:
    if fix is None:
        return Text("")
    text = Text(_clip(fix.text, FIX_LIMIT))
    key = TUI_ACTIONS.get(fix.action or "")
    if key:
        text.append(f" ({key})", style="bold")
    return text


def _clip(text: str, limit: int = CELL_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class InspectScreen(SealtuiScreen):
    """Explain a sealed string."""

    MODE = "inspect"
    CSS_PATH = "inspect.tcss"
    AUTO_FOCUS = "#input"
    HELP_TEXT = ("Paste any string (or load a file) and inspect it: the form it is in, whether upstream CDH, "
                 "CDH with verification skipped, the kata agent and the OpenAnolis CDH accept it, each finding "
                 "with its fix, and the decoded header and payload. Give a public JWK to verify the signature. "
                 "No credentials are needed.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "inspect", "Inspect", id="inspect.run", tooltip="Inspect the string (and verify it)"),
        Binding("ctrl+o", "load", "Open file", id="inspect.load", tooltip="Load the string from a file"),
        Binding("ctrl+l", "clear", "Clear", id="inspect.clear",
                tooltip="Clear the input and the results, to paste the next string"),
        Binding("ctrl+t", "focus_tree", "Tree", id="inspect.tree", tooltip="Move to the JSON tree"),
        Binding("ctrl+n", "resign", "Re-sign", id="inspect.resign",
                tooltip="Re-sign the string into the canonical signed form with the session's signing key"),
        Binding("ctrl+y", "copy_resigned", "Copy re-signed", id="inspect.copy", priority=True,
                tooltip="Copy the re-signed string"),
        Binding("ctrl+s", "save_resigned", "Save re-signed", id="inspect.save",
                tooltip="Save the re-signed string to a new file"),
    ]

    @dataclass
    class Inspected(ScreenMessage):
        """The report is ready."""

        report: InspectionReport

    @dataclass
    class Loaded(ScreenMessage):
        """A file was read."""

        path: Path
        text: str

    @dataclass
    class ResignDone(ScreenMessage):
        """The string was re-signed."""

        result: Resigned

    def __init__(self) -> None:
        super().__init__()
        self.resigned: Resigned | None = None
        """The last re-signing result (tests read it)."""
        self.report: InspectionReport | None = None
        """The report shown (tests read it)."""
        self._loaded: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="body"):
            with VerticalScroll(id="left"):
                yield Label("Input (paste, or ctrl+o to load a file)", classes="section-title")
                yield TextBox(id="input", soft_wrap=True)
                yield Static(id="loaded", classes="hint")
                with Horizontal(classes="form-row"):
                    yield Label("Public JWK")
                    yield Input(id="jwk", placeholder="verify with this public JWK (optional)")
                    yield Button("Inspect ^r", id="inspect", variant="primary")
                yield Static(id="form")
                yield WrapTable(Column("Consumer", width=21), Column("Verdict", width=9),
                                Column("Why (step: the consumer's error)", ratio=1, min_width=20), id="verdicts")
                yield Label("Findings", classes="section-title")
                yield WrapTable(Column("Level", width=7), Column("Finding", ratio=3), Column("Fix", ratio=2),
                                id="findings", zebra=True)
                yield Label("Re-signed (ctrl+y copies, ctrl+s saves)", id="resigned-title", classes="section-title")
                yield Static(id="changes")
                yield TextBox(id="resigned", read_only=True, soft_wrap=True)
            with Vertical(id="right"):
                yield Label("Decoded (enter expands)", classes="section-title")
                yield JsonTree(id="tree")

    def on_body_ready(self) -> None:
        self._show_resigned(False)
        super().on_body_ready()

    def palette_commands(self) -> list[PaletteCommand]:
        return [("inspect: run", "Inspect the string", self.action_inspect),
                ("inspect: re-sign", "Re-sign into the canonical form with the session's signer",
                 self.action_resign),
                ("copy: re-signed string", "Copy the re-signed string", self.action_copy_resigned),
                ("inspect: clear", "Clear the input and the results", self.action_clear)]

    # --- input --------------------------------------------------------------------------------------------

    def set_input(self, text: str, *, source: str | None = None) -> None:
        """Put `text` in the input (long text is kept aside, not shown in the text area)."""
        area = self.query_one("#input", TextBox)
        if len(text) > SHOW_LIMIT or not _displayable(text):
            self._loaded = text
            area.text = ""
            why = "" if len(text) > SHOW_LIMIT else ", some not printable"
            self._note(Text(f"{_clip(source or 'input', 80)}: {len(text):,} characters{why} (not shown; typing "
                            "above replaces it)"))
        else:
            self._loaded = None
            area.text = text
            self._note(None)

    def show_value(self, text: str, *, source: str | None = None, jwk: str | None = None) -> None:
        """Load `text` (from another screen: Scan) and inspect it, verifying with `jwk` when given."""
        self.set_input(text, source=source)
        if jwk is not None:
            self.query_one("#jwk", Input).value = jwk
        if source and self._loaded is None:
            self._note(Text(f"from {source}", style="dim"))
        self.action_inspect()

    def _note(self, text: Text | None) -> None:
        """Say under the input where its text came from (hidden when there is nothing to say)."""
        note = self.query_one("#loaded", Static)
        note.update(text or "")
        note.display = text is not None

    @on(TextBox.Changed, "#input")
    def _typed(self, event: TextBox.Changed) -> None:
        if event.text_area.text and self._loaded is not None:  # the user typed or pasted over a loaded file
            self._loaded = None
            self._note(None)

    def input_text(self) -> str:
        return self._loaded if self._loaded is not None else self.query_one("#input", TextBox).text

    # --- actions ------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#jwk")
    @on(Button.Pressed, "#inspect")
    def action_inspect(self) -> None:
        """Inspect the input (and verify it when a public JWK is given)."""
        jwk = self.query_one("#jwk", Input).value.strip()
        self._inspect(self.input_text(), jwk or None)

    def action_clear(self) -> None:
        """Clear the input (and a loaded file) and every result, and put the cursor in the input."""
        self.workers.cancel_group(self, "default")
        self.set_input("")
        self.report = self.resigned = None
        self.query_one("#form", Static).update("")
        for table in self.query(WrapTable).results():
            table.clear()
        self.query_one("#tree", JsonTree).reset(Text("nothing inspected yet", style="dim"))
        self._show_resigned(False)
        self.clear_error()
        self.query_one("#input", TextBox).focus()

    def action_load(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._load(path)

        self.app.push_screen(PathDialog(PathRequest("File to inspect", Path.cwd())), chosen)

    def action_resign(self) -> None:
        """Re-sign the input with the session's signer (a JWK, or the KMS-held key)."""
        self.resigned = None
        self._show_resigned(False)
        self._resign(self.input_text())

    def action_copy_resigned(self) -> None:
        if self.resigned is None:
            self.notify("nothing re-signed yet (ctrl+n)", severity="warning", markup=False)
            return
        self.sealtui.copy_text(self.resigned.sealed, what="re-signed string")

    def action_save_resigned(self) -> None:
        if self.resigned is None:
            self.notify("nothing re-signed yet (ctrl+n)", severity="warning", markup=False)
            return
        self.ask_and_save("Save the re-signed string as", "resigned.sealed", self.resigned.sealed.encode())

    def action_focus_tree(self) -> None:
        self.query_one("#tree", JsonTree).focus()

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="inspecting")
    def _inspect(self, text: str, jwk: str | None) -> None:
        from sealtui.core.lint import inspect

        report = inspect(text, jwk)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Inspected(self, report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="resign", description="re-signing")
    def _resign(self, text: str) -> None:
        from sealtui.core.errors import UsageError
        from sealtui.core.resign import resign
        from sealtui.service.signing import signer_for

        s = self.session
        if s.signing is None:
            raise UsageError("no signing key", fix="load, generate or choose one on the Seal screen (F4)")
        signer = signer_for(s.signing, s.target, s.credentials)
        result = resign(text, signer)  # refuses, with the reason, an invalid payload
        self.post_message(self.ResignDone(self, result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="file", description="loading")
    def _load(self, path: Path) -> None:
        from sealtui.core.files import read_text

        text = read_text(path, "the text to inspect")
        self.post_message(self.Loaded(self, path, text))

    # --- results ------------------------------------------------------------------------------------------

    @on(Loaded)
    def _loaded_file(self, message: Loaded) -> None:
        self.set_input(message.text, source=str(message.path))
        self.action_inspect()

    @on(ResignDone)
    def _resigned(self, message: ResignDone) -> None:
        r = self.resigned = message.result
        text = Text(f"from {r.from_form}:", style="bold")
        for change in r.changes:
            text.append(f"\n• {change}")
        self.query_one("#changes", Static).update(text)
        self.query_one("#resigned", TextBox).text = r.sealed
        self._show_resigned(True)
        self.query_one("#resigned", TextBox).scroll_visible()

    def _show_resigned(self, shown: bool) -> None:
        for selector in ("#resigned-title", "#changes", "#resigned"):
            self.query_one(selector).display = shown

    @on(Inspected)
    def _inspected(self, message: Inspected) -> None:
        r = self.report = message.report
        form = Text("form ", style="bold")
        form.append(r.form, style="bold cyan")
        form.append(f"  {r.form_description}\n", style="dim")
        form.append("type ", style="bold")
        form.append(r.kind or "?")
        sig = r.signature
        if sig.alg or sig.kid:
            form.append("   signature ", style="bold")
            state = {True: ("verified", "bold green"), False: ("DOES NOT VERIFY", "bold red"),
                     None: ("not checked (no key given)", "yellow")}[sig.verified]
            form.append(f"{_clip(sig.alg or '?', 40)} kid={_clip(sig.kid or '(none)', 80)}: ")
            form.append(*state)
            if sig.key_location:
                form.append(f"\nkey: {_clip(sig.key_location)}", style="dim")
        self.query_one("#form", Static).update(form)
        verdicts = []
        for consumer, verdict in r.verdicts.items():
            d = r.decisions.get(consumer)
            why = Text()
            if d is not None:  # the step alone bold (a base style would make the whole cell bold)
                why.append(d.step, style="bold")
                why.append(f": {_clip(d.error or d.detail)}")
            verdicts.append((Text(consumer), status_text(verdict), why))
        self.query_one("#verdicts", WrapTable).set_rows(verdicts)
        findings = []
        for f in r.findings:
            what = Text()
            what.append(f.code, style="bold")
            what.append(f": {_clip(f.message)}")
            what.append(f" (for {', '.join(f.consumers) or 'sealtui'})", style="dim")
            findings.append((status_text(f.severity), what, _fix_text(f.fix)))
        self.query_one("#findings", WrapTable).set_rows(findings)
        parts = {k: v for k, v in (("header", r.header), ("payload", r.payload)) if v is not None}
        tree = self.query_one("#tree", JsonTree)
        tree.show_document(parts, label=r.summary)
