"""Seal: plaintext from a masked input, a file, or KEY=value pairs; a signing JWK loaded or generated; the
sealed strings with copy and save. KMS calls run in a worker with a busy bar; escape cancels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, ContentSwitcher, Input, Label, RadioButton, RadioSet, Static, TextArea
from textual.worker import get_current_worker

from sealtui.screens.base import PaletteCommand, SealtuiScreen
from sealtui.session import DEFAULT_KID

if TYPE_CHECKING:
    from sealtui.session import SealedValue

__all__ = ["SealScreen"]


class SealScreen(SealtuiScreen):
    """Seal values with the KMS key in use and sign them."""

    MODE = "seal"
    CSS_PATH = "seal.tcss"
    AUTO_FOCUS = "#value"
    HELP_TEXT = ("Type a value (masked), choose a file, or write KEY=value lines; each becomes a sealed "
                 "string under its name in this session's manifest. The signing key is a private P-256 JWK: "
                 "load one or generate one; its public half must be provisioned where CDH looks for its kid.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "seal", "Seal", id="seal.run", tooltip="Seal the plaintext with the KMS key in use"),
        Binding("ctrl+g", "generate", "Generate signer", id="seal.generate",
                tooltip="Generate a signing key pair for the kid given (or load the one made earlier)"),
        Binding("ctrl+o", "browse", "Open file", id="seal.browse", tooltip="Choose the plaintext file"),
        Binding("ctrl+y", "copy", "Copy", id="seal.copy", tooltip="Copy the sealed strings", priority=True),
        Binding("ctrl+s", "save", "Save", id="seal.save", tooltip="Save the sealed strings to a new file"),
    ]

    @dataclass
    class Sealed(Message):
        """One value was sealed."""

        screen: SealScreen
        value: SealedValue

        @property
        def control(self) -> SealScreen:
            return self.screen

    @dataclass
    class SignerReady(Message):
        """A signing key is loaded."""

        screen: SealScreen
        kid: str
        public_path: Path | None
        location: str | None

        @property
        def control(self) -> SealScreen:
            return self.screen

    def __init__(self) -> None:
        super().__init__()
        self.results: list[SealedValue] = []
        """The values sealed on this screen in the last run."""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield Label("Plaintext", classes="section-title")
            with RadioSet(id="source"):
                yield RadioButton("Value", value=True, id="src-one")
                yield RadioButton("File", id="src-file")
                yield RadioButton("KEY=value pairs", id="src-pairs")
            with ContentSwitcher(initial="one", id="inputs"):
                with Horizontal(id="one", classes="form-row"):
                    yield Label("Name")
                    yield Input("secret", id="name", placeholder="Secret key name")
                    yield Input(id="value", password=True, placeholder="the value (masked)")
                with Horizontal(id="file", classes="form-row"):
                    yield Label("Name")
                    yield Input("secret", id="file-name", placeholder="Secret key name")
                    yield Input(id="file-path", placeholder="plaintext file")
                    yield Button("Browse ^o", id="browse")
                with Vertical(id="pairs"):
                    yield TextArea(id="pairs-text", soft_wrap=True)
                    yield Static("one KEY=value per line (# comments allowed); visible as typed", classes="hint")
            yield Label("Signing key", classes="section-title")
            with Horizontal(classes="form-row"):
                yield Label("Private JWK")
                yield Input(id="jwk", placeholder="path of a private P-256 JWK (…-private.json)")
                yield Button("Load", id="load-jwk")
            with Horizontal(classes="form-row"):
                yield Label("…or generate kid")
                yield Input(DEFAULT_KID, id="kid", placeholder="kid: a file name or kbs:///repo/type/tag")
                yield Button("Generate ^g", id="generate")
            yield Static(id="provision")
            with Horizontal(classes="form-row"):
                yield Button("Seal ^r", id="seal", variant="primary")
                yield Static(id="seal-hint", classes="hint")
            yield Label("Sealed", classes="section-title")
            yield TextArea(id="results", read_only=True, soft_wrap=True)

    def on_session_changed(self) -> None:
        s = self.session
        hint = Text()
        if s.credentials is None:
            hint.append("no KMS yet: choose credentials or create the local KMS (F2)", style="yellow")
        elif not s.key:
            hint.append("no key yet: choose one (F3)", style="yellow")
        else:
            hint.append(f"seals with {s.key} of {s.credentials.kms_instance_id}")
        if s.signing_jwk is None:
            hint.append("; no signing key yet: load or generate one (ctrl+g)", style="yellow")
        self.query_one("#seal-hint", Static).update(hint)

    def palette_commands(self) -> list[PaletteCommand]:
        return [("seal: run", "Seal the plaintext", self.action_seal),
                ("seal: generate a signing key", "Generate (or reuse) a key pair", self.action_generate),
                ("copy: sealed strings", "Copy the results", self.action_copy)]

    # --- inputs -------------------------------------------------------------------------------------------

    @on(RadioSet.Changed, "#source")
    def _source(self, event: RadioSet.Changed) -> None:
        ids = {"src-one": "one", "src-file": "file", "src-pairs": "pairs"}
        self.query_one("#inputs", ContentSwitcher).current = ids.get(event.pressed.id or "", "one")

    def action_browse(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#file-path", Input).value = str(path)
                self.query_one("#src-file", RadioButton).value = True

        self.app.push_screen(PathDialog(PathRequest("Plaintext file", Path.cwd())), chosen)

    @on(Button.Pressed, "#browse")
    def _browse(self) -> None:
        self.action_browse()

    def _plaintexts(self) -> tuple[str, str, str]:
        """(kind, name, data): data is the value, the file path, or the KEY=value text."""
        current = self.query_one("#inputs", ContentSwitcher).current
        if current == "file":
            return ("file", self.query_one("#file-name", Input).value.strip(),
                    self.query_one("#file-path", Input).value.strip())
        if current == "pairs":
            return "pairs", "", self.query_one("#pairs-text", TextArea).text
        return "one", self.query_one("#name", Input).value.strip(), self.query_one("#value", Input).value

    # --- actions ------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#value")
    @on(Button.Pressed, "#seal")
    def action_seal(self) -> None:
        """Seal what the plaintext section holds."""
        self.clear_error()
        kind, name, data = self._plaintexts()
        self.query_one("#results", TextArea).text = ""
        self.results = []
        self._seal(kind, name, data)

    @on(Input.Submitted, "#kid")
    @on(Button.Pressed, "#generate")
    def action_generate(self) -> None:
        """Generate a signing key pair for the kid (or load the one generated before)."""
        self.clear_error()
        self._signer(None, self.query_one("#kid", Input).value.strip() or DEFAULT_KID)

    @on(Input.Submitted, "#jwk")
    @on(Button.Pressed, "#load-jwk")
    def _load_jwk(self) -> None:
        self.clear_error()
        path = self.query_one("#jwk", Input).value.strip()
        if path:
            self._signer(Path(path), None)

    def action_copy(self) -> None:
        """Copy the sealed strings (one alone; several as KEY=sealed lines)."""
        if not self.results:
            self.notify("nothing sealed yet", severity="warning", markup=False)
            return
        self.sealtui.copy_text(self._export(), what="sealed string" if len(self.results) == 1 else "sealed strings")

    def action_save(self) -> None:
        """Save the sealed strings to a new file (never overwrites)."""
        if not self.results:
            self.notify("nothing sealed yet", severity="warning", markup=False)
            return
        from sealtui.screens.dialogs import PathDialog, PathRequest

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._save(path, self._export())

        default = f"{self.results[0].name}.sealed" if len(self.results) == 1 else "sealed.env"
        self.app.push_screen(PathDialog(PathRequest("Save the sealed strings as", Path.cwd(),
                                                    str(Path.cwd() / default), must_exist=False)), chosen)

    def _export(self) -> str:
        if len(self.results) == 1:
            return self.results[0].sealed
        return "".join(f"{v.name}={v.sealed}\n" for v in self.results)

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="sealing through the KMS")
    def _seal(self, kind: str, name: str, data: str) -> None:
        from sealtui.core.errors import InvalidInputError
        from sealtui.session import parse_plaintext_pairs

        if kind == "pairs":
            values = parse_plaintext_pairs(data)
            if not values:
                raise InvalidInputError("no KEY=value lines", fix="write one KEY=value per line")
        elif kind == "file":
            if not data:
                raise InvalidInputError("no plaintext file given", fix="type its path or press ctrl+o")
            values = {name: _read_file(Path(data))}
        else:
            if not data:
                raise InvalidInputError("the value is empty", fix="type the value to seal")
            values = {name: data.encode("utf-8")}
        worker = get_current_worker()
        for key, plaintext in values.items():
            if worker.is_cancelled:
                return
            sealed = self.session.seal_value(key, plaintext)
            if not worker.is_cancelled:
                self.post_message(self.Sealed(self, sealed))

    @work(thread=True, exclusive=True, exit_on_error=False, group="signer", description="loading the signing key")
    def _signer(self, path: Path | None, kid: str | None) -> None:
        public = None
        if path is not None:
            self.session.load_signing_key(path)
        else:
            public = self.session.generate_signing_key(kid or DEFAULT_KID)
        jwk = self.session.signing_jwk
        assert jwk is not None and jwk.kid
        self.post_message(self.SignerReady(self, jwk.kid, public, self.session.provisioning_note()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="save", description="saving")
    def _save(self, path: Path, text: str) -> None:
        from sealtui.core.files import write_new_file

        write_new_file(path, text.encode("utf-8"))
        self.app.call_from_thread(self.notify, f"saved to {path}", markup=False)

    # --- results ------------------------------------------------------------------------------------------

    @on(Sealed)
    def _sealed(self, message: Sealed) -> None:
        self.results.append(message.value)
        area = self.query_one("#results", TextArea)
        area.text = "\n\n".join(f"{v.name} (key {v.key_id}, kid {v.kid}):\n{v.sealed}" for v in self.results)
        area.scroll_visible()
        self.query_one("#value", Input).value = ""
        self.sealtui.session_changed()

    @on(SignerReady)
    def _signer_ready(self, message: SignerReady) -> None:
        text = Text("signing as kid ", style="bold")
        text.append(message.kid)
        if message.public_path is not None:
            text.append("\npublic half: ", style="bold")
            text.append(str(message.public_path))
        if message.location:
            text.append("\nprovision it: ", style="bold")
            text.append(message.location)
        self.query_one("#provision", Static).update(text)
        self.sealtui.session_changed()


def _read_file(path: Path) -> bytes:
    from sealtui.core.errors import InvalidInputError

    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file", fix="check the path of the plaintext file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a directory", fix="give a file") from None
    except OSError as e:
        raise InvalidInputError(f"{path}: {e.strerror}") from None
