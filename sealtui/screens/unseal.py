"""Unseal: paste or load a sealed string, verify it (or explicitly skip), unseal it through the KMS. The
plaintext stays masked until revealed; copying clears the clipboard after a timeout; saving writes a new
file with mode 0600."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Static
from textual.worker import get_current_worker

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.secret_view import SecretView
from sealtui.widgets.text_box import TextBox

if TYPE_CHECKING:
    from sealtui.service.unsealing import Unsealed as UnsealResult

__all__ = ["UnsealScreen"]


class UnsealScreen(SealtuiScreen):
    """Unseal a sealed string with the KMS credentials in use."""

    MODE = "unseal"
    CSS_PATH = "unseal.tcss"
    AUTO_FOCUS = "#sealed"
    HELP_TEXT = ("Paste a sealed string or load it from a file. Give the signer's public JWK to verify it as "
                 "CDH does, or tick 'skip verification'. The plaintext stays hidden until you reveal it; a "
                 "copy is cleared from the clipboard after the timeout; saving never overwrites (mode 0600).")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "unseal", "Unseal", id="unseal.run", tooltip="Verify and unseal through the KMS"),
        Binding("ctrl+o", "load", "Open file", id="unseal.load", tooltip="Load the sealed string from a file"),
        Binding("ctrl+t", "reveal", "Reveal/hide", id="unseal.reveal", tooltip="Show or hide the plaintext"),
        Binding("ctrl+y", "copy", "Copy", id="unseal.copy", priority=True,
                tooltip="Copy the plaintext; it is cleared from the clipboard after the timeout"),
        Binding("ctrl+s", "save", "Save", id="unseal.save", tooltip="Save the plaintext to a new file (mode 0600)"),
    ]

    @dataclass
    class Unsealed(ScreenMessage):
        """The plaintext came back from the KMS, with its notes."""

        result: UnsealResult = field(repr=False)

    @dataclass
    class Loaded(ScreenMessage):
        """A sealed string was read from a file."""

        text: str

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield Label("Sealed string (paste, or ctrl+o to load a file)", classes="section-title")
            yield TextBox(id="sealed", soft_wrap=True)
            with Horizontal(classes="form-row"):
                yield Label("Public JWK")
                yield Input(id="jwk", placeholder="the signer's public JWK, to verify before unsealing")
                yield Checkbox("skip verification", id="skip")
            with Horizontal(classes="form-row"):
                yield Button("Unseal ^r", id="unseal", variant="primary")
                yield Button("Open file ^o", id="load")
            yield Label("Plaintext", classes="section-title")
            yield Static(id="notes")  # shown once something is unsealed
            yield SecretView(id="plain")
            with Horizontal(classes="form-row"):
                yield Button("Reveal ^t", id="reveal")
                yield Button("Copy ^y", id="copy")
                yield Button("Save ^s", id="save")
            yield Static(id="clipboard-hint", classes="hint")

    def on_session_changed(self) -> None:
        seconds = self.session.clipboard_clear_seconds
        self.query_one("#clipboard-hint", Static).update(
            Text(f"a copied plaintext is cleared from the clipboard after {seconds:g} s"))

    def palette_commands(self) -> list[PaletteCommand]:
        return [("unseal: run", "Verify and unseal", self.action_unseal),
                ("unseal: reveal or hide the plaintext", "Toggle the mask", self.action_reveal),
                ("copy: plaintext", "Copy (cleared after the timeout)", self.action_copy)]

    def __init__(self) -> None:
        super().__init__()
        self.result: UnsealResult | None = None
        """The last unseal, with its notes (tests read it)."""

    @property
    def plaintext(self) -> bytes | None:
        return self.query_one("#plain", SecretView).data

    # --- actions ------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#unseal")
    def action_unseal(self) -> None:
        """Verify (unless skipped) and unseal the string through the KMS."""
        self.query_one("#plain", SecretView).set_data(None)
        self.query_one("#notes", Static).display = False
        self.result = None
        jwk = self.query_one("#jwk", Input).value.strip()
        skip = self.query_one("#skip", Checkbox).value
        self._unseal(self.query_one("#sealed", TextBox).text, Path(jwk) if jwk else None, skip)

    @on(Button.Pressed, "#load")
    def action_load(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._load(path)

        self.app.push_screen(PathDialog(PathRequest("Sealed string file", Path.cwd())), chosen)

    @on(Button.Pressed, "#reveal")
    def action_reveal(self) -> None:
        view = self.query_one("#plain", SecretView)
        if view.data is not None:
            view.revealed = not view.revealed

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        """Copy the plaintext; it is cleared from the clipboard after the timeout."""
        data = self.plaintext
        if data is None:
            self.notify("nothing unsealed yet", severity="warning", markup=False)
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.notify("the plaintext is binary: save it to a file instead", severity="warning", markup=False)
            return
        self.sealtui.copy_text(text, secret=True, what="plaintext")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Save the plaintext to a new file, mode 0600."""
        data = self.plaintext
        if data is None:
            self.notify("nothing unsealed yet", severity="warning", markup=False)
            return
        self.ask_and_save("Save the plaintext as (mode 0600, never overwrites)", "plaintext", data, plaintext=True)

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="unsealing through the KMS")
    def _unseal(self, text: str, jwk: Path | None, skip: bool) -> None:
        from sealtui.service.unsealing import unseal

        target = self.session.require_target()
        result = unseal(text, target.source, endpoint=target.endpoint, jwk=jwk, skip_verification=skip)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Unsealed(self, result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="file", description="loading")
    def _load(self, path: Path) -> None:
        from sealtui.core.files import read_text

        text = read_text(path, "the sealed string")
        self.post_message(self.Loaded(self, text))

    # --- results ------------------------------------------------------------------------------------------

    @on(Unsealed)
    def _unsealed(self, message: Unsealed) -> None:
        result = self.result = message.result
        notes = Text()
        for note in result.notes:
            notes.append("⚠ " if note.level == "warning" else "• ", style="bold yellow" if note.level == "warning"
                         else "dim")
            notes.append(note.text + "\n")
        self.query_one("#notes", Static).update(notes)
        self.query_one("#notes", Static).display = True
        self.query_one("#plain", SecretView).set_data(result.plaintext)
        self.notify(f"unsealed {len(result.plaintext):,} bytes (hidden: ctrl+t reveals)", markup=False)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.query_one("#sealed", TextBox).text = message.text
        jwk = self.query_one("#jwk", Input)
        if not jwk.value and not self.query_one("#skip", Checkbox).value:
            jwk.focus()  # what the string needs next: the key to verify it with
