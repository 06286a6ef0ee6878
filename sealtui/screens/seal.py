"""Seal: plaintext from a masked input, a file, or KEY=value pairs (typed or a .env file, sealed in parallel with
a progress bar); a signing JWK loaded or generated, or an EC P-256 key held in the KMS; the sealed strings with
copy and save. KMS calls run in a worker with a busy bar; escape cancels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, ContentSwitcher, Input, Label, ProgressBar, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState, get_current_worker

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.service.signing import DEFAULT_JWK_KID, DEFAULT_KMS_KID
from sealtui.session import DEFAULT_NAME
from sealtui.widgets.text_box import TextBox

if TYPE_CHECKING:
    from sealtui.service.sealing import SealedValue
    from sealtui.service.signing import SigningKey

__all__ = ["SealScreen"]


class SealScreen(SealtuiScreen):
    """Seal values with the KMS key in use and sign them."""

    MODE = "seal"
    CSS_PATH = "seal.tcss"
    AUTO_FOCUS = "#value"
    HELP_TEXT = ("Type a value (masked), choose a file, or write KEY=value lines (or load a .env file); each "
                 "becomes a sealed string under its name in this session's manifest. Pairs are sealed in "
                 "parallel, all or nothing. The signing key is a private P-256 JWK (load or generate one) or an "
                 "EC P-256 key held in the KMS (ctrl+b; ctrl+t exports its public JWK). Each key needs its own kid, "
                 "best a kbs:///<repo>/<type>/<tag> URI: CDH then fetches the public half from Trustee, where the "
                 "screen says how to upload it. A value never silently replaces another of the same name.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "seal", "Seal", id="seal.run", tooltip="Seal the plaintext with the KMS key in use"),
        Binding("ctrl+g", "generate", "Generate signer", id="seal.generate",
                tooltip="Generate a signing key pair for the kid given (or load the one made earlier)"),
        Binding("ctrl+b", "kms_signer", "KMS signer", id="seal.kms-signer",
                tooltip="Sign with the EC P-256 key held in the KMS named under '…or KMS key', as its kid"),
        Binding("ctrl+t", "export_public", "Export public JWK", id="seal.export-public",
                tooltip="Write the KMS signing key's public JWK to a new file, to provision for CDH"),
        Binding("ctrl+o", "browse", "Open file", id="seal.browse",
                tooltip="Choose the plaintext file (or the .env file, in KEY=value mode)"),
        Binding("ctrl+y", "copy", "Copy", id="seal.copy", tooltip="Copy the sealed strings", priority=True),
        Binding("ctrl+s", "save", "Save", id="seal.save", tooltip="Save the sealed strings to a new file"),
    ]

    @dataclass
    class Sealed(ScreenMessage):
        """Values were sealed (one, or every pair at once)."""

        values: list[SealedValue]

    @dataclass
    class SignerReady(ScreenMessage):
        """A signing key is ready to use."""

        key: SigningKey

    @dataclass
    class Progress(ScreenMessage):
        """`done` of `total` values sealed (posted from the sealing threads)."""

        done: int
        total: int

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
                    yield Input(DEFAULT_NAME, id="name", placeholder="Secret key name")
                    yield Input(id="value", password=True, placeholder="the value (masked)")
                with Horizontal(id="file", classes="form-row"):
                    yield Label("Name")
                    yield Input(DEFAULT_NAME, id="file-name", placeholder="Secret key name")
                    yield Input(id="file-path", placeholder="plaintext file")
                    yield Button("Browse ^o", id="browse")
                with Vertical(id="pairs"):
                    yield TextBox(id="pairs-text", soft_wrap=True)
                    yield Static("KEY=value per line (.env grammar), visible as typed; or a .env file:",
                                 classes="hint")
                    with Horizontal(classes="form-row"):
                        yield Label(".env file")
                        yield Input(id="env-path", placeholder="KEY=value file (used instead of the text above)")
                        yield Button("Browse ^o", id="browse-env")
                    yield ProgressBar(id="progress", show_eta=False)
            yield Label("Signing key", classes="section-title")
            with Horizontal(classes="form-row"):
                yield Label("Private JWK")
                yield Input(id="jwk", placeholder="path of a private P-256 JWK (…-private.json)")
                yield Button("Load", id="load-jwk")
            with Horizontal(classes="form-row"):
                yield Label("…or generate kid")
                yield Input(DEFAULT_JWK_KID, id="kid", placeholder="kid: kbs:///<repo>/<type>/<tag>")
                yield Button("Generate ^g", id="generate")
            with Horizontal(classes="form-row"):
                yield Label("…or KMS key")
                yield Input(id="kms-key", placeholder="EC P-256 key id, alias/… or URI")
                yield Button("Use ^b", id="use-kms")
                yield Button("Export ^t", id="export-public")
            with Horizontal(classes="form-row"):
                yield Label("  its kid")
                yield Input(DEFAULT_KMS_KID, id="kms-kid", placeholder="kid: kbs:///<repo>/<type>/<tag>")
            yield Static(id="provision")
            with Horizontal(classes="form-row"):
                yield Button("Seal ^r", id="seal", variant="primary")
                yield Static(id="seal-hint", classes="hint")
            yield Label("Sealed", classes="section-title")
            yield TextBox(id="results", read_only=True, soft_wrap=True)

    def on_session_changed(self) -> None:
        s = self.session
        hint = Text()
        if s.credentials is None:
            hint.append("no KMS yet: choose credentials or create the local KMS (F2)", style="yellow")
        elif not s.key:
            hint.append("no key yet: choose one (F3)", style="yellow")
        else:
            hint.append(f"seals with {s.key} of {s.credentials.kms_instance_id}")
        if s.signing_kid is None:
            hint.append("; no signing key yet: load or generate one (ctrl+g)", style="yellow")
        self.query_one("#seal-hint", Static).update(hint)
        from sealtui.service.local_kms import suggested_signing_key

        kms_key = self.query_one("#kms-key", Input)
        suggested = suggested_signing_key(s.using_local_kms)
        if suggested and not kms_key.value:
            kms_key.value = suggested
        for field in self.query("#name, #file-name").results(Input):  # the default name never replaces a value
            field.value = s.default_name_after(field.value)

    def palette_commands(self) -> list[PaletteCommand]:
        return [("seal: run", "Seal the plaintext", self.action_seal),
                ("seal: generate a signing key", "Generate (or reuse) a key pair", self.action_generate),
                ("seal: use the KMS signing key", "Sign with an EC P-256 key held in the KMS", self.action_kms_signer),
                ("seal: export the KMS signing key's public JWK", "Write it to a new file",
                 self.action_export_public),
                ("copy: sealed strings", "Copy the results", self.action_copy)]

    # --- inputs -------------------------------------------------------------------------------------------

    @on(RadioSet.Changed, "#source")
    def _source(self, event: RadioSet.Changed) -> None:
        ids = {"src-one": "one", "src-file": "file", "src-pairs": "pairs"}
        self.query_one("#inputs", ContentSwitcher).current = ids.get(event.pressed.id or "", "one")

    def action_browse(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        env = self.query_one("#inputs", ContentSwitcher).current == "pairs"
        field = "#env-path" if env else "#file-path"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one(field, Input).value = str(path)
                if not env:
                    self.query_one("#src-file", RadioButton).value = True

        title = "KEY=value (.env) file" if env else "Plaintext file"
        self.app.push_screen(PathDialog(PathRequest(title, Path.cwd())), chosen)

    @on(Button.Pressed, "#browse")
    @on(Button.Pressed, "#browse-env")
    def _browse(self) -> None:
        self.action_browse()

    def _plaintexts(self) -> tuple[str, str, str]:
        """(kind, name, data): data is the value, the file path, or the KEY=value text."""
        current = self.query_one("#inputs", ContentSwitcher).current
        if current == "file":
            return ("file", self.query_one("#file-name", Input).value.strip(),
                    self.query_one("#file-path", Input).value.strip())
        if current == "pairs":
            env = self.query_one("#env-path", Input).value.strip()
            return ("env", "", env) if env else ("pairs", "", self.query_one("#pairs-text", TextBox).text)
        return "one", self.query_one("#name", Input).value.strip(), self.query_one("#value", Input).value

    # --- actions ------------------------------------------------------------------------------------------

    @on(Input.Submitted, "#value")
    @on(Button.Pressed, "#seal")
    def action_seal(self) -> None:
        """Seal what the plaintext section holds."""
        kind, name, data = self._plaintexts()
        self.query_one("#results", TextBox).text = ""
        self.results = []
        self._seal(kind, name, data)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """After a failed or cancelled seal the value stays, selected: enter seals it again (most failures are the
        KMS's, not the value's), and typing replaces it instead of adding to the end of it."""
        super().on_worker_state_changed(event)
        value = self.query_one("#value", Input)
        if (event.worker.node is self and event.worker.name == "_seal" and value.value
                and event.state in (WorkerState.ERROR, WorkerState.CANCELLED)):
            value.focus()
            value.select_all()

    @on(Input.Submitted, "#kid")
    @on(Button.Pressed, "#generate")
    def action_generate(self) -> None:
        """Generate a signing key pair for the kid (or load the one generated before)."""
        self._signer(None, self.query_one("#kid", Input).value.strip() or DEFAULT_JWK_KID, self._in_use())

    @on(Input.Submitted, "#jwk")
    @on(Button.Pressed, "#load-jwk")
    def _load_jwk(self) -> None:
        path = self.query_one("#jwk", Input).value.strip()
        if path:
            self._signer(Path(path), None, self._in_use())

    @on(Input.Submitted, "#kms-key")
    @on(Input.Submitted, "#kms-kid")
    @on(Button.Pressed, "#use-kms")
    def action_kms_signer(self) -> None:
        """Sign with the EC P-256 key held in the KMS (its public key is fetched to check it)."""
        self._kms_signer(self.query_one("#kms-key", Input).value, self.query_one("#kms-kid", Input).value,
                         self._in_use())

    def _in_use(self) -> dict[str, SigningKey]:
        """The signing keys used this session by kid (a copy, for a worker)."""
        return dict(self.session.signing_keys)

    @on(Button.Pressed, "#export-public")
    def action_export_public(self) -> None:
        """Write the KMS signing key's public JWK to a new file."""
        key = self.session.signing
        if key is None or key.kms_key is None:
            self.notify("no KMS signing key in use: ctrl+b first", severity="warning", markup=False)
            return
        from sealtui.core.jws import key_file_stem

        self.ask_save_path("Save the public JWK as", f"{key_file_stem(key.kid)}-public.json",
                           lambda path: self._export_public(key, path))

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
        default = f"{self.results[0].name}.sealed" if len(self.results) == 1 else "sealed.env"
        self.ask_and_save("Save the sealed strings as", default, self._export().encode("utf-8"))

    def _export(self) -> str:
        if len(self.results) == 1:
            return self.results[0].sealed
        return "".join(f"{v.name}={v.sealed}\n" for v in self.results)

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="sealing through the KMS")
    def _seal(self, kind: str, name: str, data: str) -> None:
        from sealtui.core.errors import InvalidInputError, UsageError
        from sealtui.core.files import read_bytes, read_text
        from sealtui.service.sealing import seal_value, seal_values

        worker = get_current_worker()
        s = self.session
        if kind == "file" and not data:
            raise InvalidInputError("no plaintext file given", fix="type its path or press ctrl+o")
        if kind == "one" and not data:
            raise InvalidInputError("the value is empty", fix="type the value to seal")
        target, signing = s.require_target(), s.signing
        if signing is None:
            raise UsageError("no signing key",
                             fix="load a private JWK, generate one (ctrl+g) or use a KMS signing key (ctrl+b)")
        if kind in ("pairs", "env"):
            from sealtui.core.bulk import parse_env

            text = read_text(data, "the KEY=value (.env) file") if kind == "env" else data
            values = parse_env(text, data if kind == "env" else "KEY=value lines")

            def progress(done: int, total: int) -> None:  # called from the sealing threads
                self.post_message(self.Progress(self, done, total))

            progress(0, len(values))
            # All or nothing: the session keeps no value when one fails (the error names its key).
            sealed = seal_values(target, signing, values, progress=progress, credentials=s.credentials)
        elif kind == "file":
            sealed = [seal_value(target, signing, read_bytes(data, "the plaintext file"), name=name,
                                 credentials=s.credentials)]
        else:
            sealed = [seal_value(target, signing, data.encode("utf-8"), name=name, credentials=s.credentials)]
        if not worker.is_cancelled:
            self.post_message(self.Sealed(self, sealed))

    @work(thread=True, exclusive=True, exit_on_error=False, group="signer", description="loading the signing key")
    def _signer(self, path: Path | None, kid: str | None, in_use: dict[str, SigningKey]) -> None:
        from sealtui.service.signing import check_kid_free, generate_signing_key, load_signing_jwk

        keys_dir = self.session.keys_dir
        if path is not None:
            key = load_signing_jwk(path)
            check_kid_free(key, in_use, keys_dir)
        else:
            key = generate_signing_key(keys_dir, kid or DEFAULT_JWK_KID, in_use)
        self.post_message(self.SignerReady(self, key))

    @work(thread=True, exclusive=True, exit_on_error=False, group="signer",
          description="checking the KMS signing key")
    def _kms_signer(self, key_text: str, kid: str, in_use: dict[str, SigningKey]) -> None:
        from sealtui.service.signing import check_kid_free, kms_signing_key

        key, _public = kms_signing_key(self.session.require_target(), key_text, kid, self.session.credentials)
        check_kid_free(key, in_use, self.session.keys_dir)
        self.post_message(self.SignerReady(self, key))

    @work(thread=True, exclusive=True, exit_on_error=False, group="save", description="exporting the public JWK")
    def _export_public(self, key: SigningKey, path: Path) -> None:
        from sealtui.service.signing import export_public_jwk

        s = self.session
        exported = export_public_jwk(key, s.require_target(), path, s.credentials)
        self.remember_saved(path)
        self.post_message(self.SignerReady(self, exported))

    # --- results ------------------------------------------------------------------------------------------

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True  # hidden until the first bulk seal: room for the rest at 80×24
        bar.update(total=message.total, progress=message.done)

    @on(Sealed)
    def _sealed(self, message: Sealed) -> None:
        self.results.extend(message.values)
        area = self.query_one("#results", TextBox)
        area.text = "\n\n".join(f"{v.name} (key {v.key_id}, kid {v.kid}):\n{v.sealed}" for v in self.results)
        area.scroll_visible()
        self.query_one("#value", Input).value = ""
        taken = [v.name for v in message.values if v.name in self.session.sealed]
        if not taken:
            self._keep(message.values)
            return
        from sealtui.screens.dialogs import ConfirmDialog

        question = Text("Replace in the manifest?\n\n", style="bold")
        question.append(f"This session already has a sealed value named {', '.join(taken)}. Replace it with the "
                        "new one, or keep the earlier one (the new sealed string stays shown below)?")

        def answered(replace: bool | None) -> None:
            kept = message.values if replace else [v for v in message.values if v.name not in taken]
            self._keep(kept)
            if not replace:
                self.notify(f"kept the earlier {', '.join(taken)}", markup=False)

        self.app.push_screen(ConfirmDialog(question, "Replace", "Keep the earlier one"), answered)

    def _keep(self, values: list[SealedValue]) -> None:
        """Put `values` in this session's manifest."""
        self.session.sealed.update({v.name: v for v in values})
        self.sealtui.session_changed()

    @on(SignerReady)
    def _signer_ready(self, message: SignerReady) -> None:
        key = message.key
        self.session.use_signing_key(key)
        text = Text()
        text.append("signing as kid ", style="bold")
        text.append(key.kid)
        if key.kms_key:
            text.append(" with KMS key ", style="bold")
            text.append(key.kms_key)
            text.append(" (the private key never leaves the KMS)", style="dim")
        if key.warning:
            text.append("\n⚠ ", style="bold yellow")
            text.append(key.warning, style="yellow")
            self.notify(key.warning, title="kid", severity="warning", markup=False, timeout=8)
        if key.upload:
            text.append("\nupload its public JWK to Trustee: ", style="bold")
            text.append(key.upload)
            if key.kms_key and key.public_path is None:
                text.append(" (ctrl+t writes the file)", style="dim")
        elif key.public_path is not None:
            text.append("\npublic half: ", style="bold")
            text.append(str(key.public_path))
        self.query_one("#provision", Static).update(text)
        self.sealtui.session_changed()

