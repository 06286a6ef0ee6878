"""Credentials: choose a directory (or the three files), see what was found and whether it works, or create
and start the built-in local KMS instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static
from textual.worker import get_current_worker

from sealtui.screens.base import BACKGROUND, PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.frame import status_text
from sealtui.widgets.wrap_table import Column, WrapTable

if TYPE_CHECKING:
    from sealtui.core.credential_check import CheckReport
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.service.kms import CredentialSource
    from sealtui.service.settings import Settings

__all__ = ["CredentialsScreen"]


class CredentialsScreen(SealtuiScreen):
    """Which client key, password and CA bundle to use, and what is wrong with them."""

    MODE = "credentials"
    CSS_PATH = "credentials.tcss"
    AUTO_FOCUS = "#dir"
    HELP_TEXT = ("Give the directory holding clientKey_<id>.json, its password file and PrivateKmsCA_<id>.pem "
                 "(CDH or Alibaba-console names), or the three files. Each file gets a status and, when "
                 "something is wrong, the fix. With no credentials, create the local KMS instance.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "browse", "Browse", id="credentials.browse", tooltip="Choose the credentials directory"),
        Binding("ctrl+r", "check", "Check", id="credentials.check", tooltip="Check the files in the directory"),
        Binding("ctrl+s", "use", "Use", id="credentials.use", tooltip="Use these credentials from now on"),
        Binding("ctrl+n", "sandbox", "Local KMS", id="credentials.sandbox",
                tooltip="Create (if needed) and start the built-in local KMS instance"),
    ]

    @dataclass
    class Checked(ScreenMessage):
        """A credential check finished."""

        report: CheckReport

    @dataclass
    class Used(ScreenMessage):
        """The credentials were loaded, to be used from now on."""

        source: CredentialSource
        credentials: AliyunCredentials
        settings: Settings

    @dataclass
    class SandboxDescribed(ScreenMessage):
        """What the local KMS instance is doing."""

        info: Text
        running: bool

    def __init__(self) -> None:
        super().__init__()
        self._shown_dir: Path | None = None
        self.report: CheckReport | None = None
        """The last check shown (tests read it)."""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield Label("Credential files", classes="section-title")
            with Horizontal(classes="form-row"):
                yield Label("Directory")
                yield Input(id="dir", placeholder="directory with clientKey_<id>.json, password, CA bundle")
                yield Button("Browse ^o", id="browse")
                yield Button("Check ^r", id="check")
            with Horizontal(classes="form-row"):
                yield Label("…or files")
                yield Input(id="ck", placeholder="clientKey_<id>.json")
                yield Input(id="pw", placeholder="password file")
                yield Input(id="ca", placeholder="PrivateKmsCA_<id>.pem")
                yield Button("Check files", id="check-files")
            with Horizontal(classes="form-row"):
                yield Button("Use these credentials ^s", id="use", variant="primary")
                yield Static(id="in-use", classes="hint")
            yield Label("Local KMS instance", classes="section-title")
            yield Static(id="sandbox-info")
            yield Button("Create and start the local KMS ^n", id="sandbox")
            # last: a long report must not push the local KMS (a new user's way in) out of view
            yield Label("What the check found", classes="section-title")
            yield WrapTable(Column("Status", width=7), Column("File"), Column("Role"), Column("Message"),
                            Column("Fix"), id="report", zebra=True)

    def on_session_changed(self) -> None:
        s = self.session
        self._describe_sandbox()
        in_use = Text("in use: ", style="bold")
        in_use.append(str(s.credentials_dir) if s.credentials_dir else "nothing")
        self.query_one("#in-use", Static).update(in_use)
        if s.credentials_dir is not None and s.credentials_dir != self._shown_dir:
            self._shown_dir = s.credentials_dir
            self.query_one("#dir", Input).value = str(s.credentials_dir)
            self.run_check(s.credentials_dir)

    def palette_commands(self) -> list[PaletteCommand]:
        return [("credentials: check the directory", "Check every credential file", self.action_check),
                ("credentials: use them", "Use the checked credentials", self.action_use)]
        # `local KMS: create and start` is the app's own command (sealtui.screens.palette), on every screen

    # --- actions ------------------------------------------------------------------------------------------

    def action_browse(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        current = self.query_one("#dir", Input).value.strip()

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#dir", Input).value = str(path)
                self.run_check(path)

        start = Path(current).expanduser() if current else Path.home()
        self.app.push_screen(PathDialog(PathRequest("Credentials directory", start, current, want_dir=True)),
                             chosen)

    @on(Button.Pressed, "#browse")
    def _browse(self) -> None:
        self.action_browse()

    @on(Input.Submitted, "#dir")
    @on(Button.Pressed, "#check")
    def action_check(self) -> None:
        """Check the files in the directory given."""
        text = self.query_one("#dir", Input).value.strip()
        if not text:
            self.notify("give a directory first", severity="warning", markup=False)
            return
        self.run_check(Path(text))

    @on(Button.Pressed, "#check-files")
    @on(Input.Submitted, "#ck, #pw, #ca")
    def check_files(self) -> None:
        files = self._files()
        if files is None:
            self.notify("give all three files: client key, password, CA bundle", severity="warning",
                        markup=False)
            return
        self._check_files(*files)

    def _files(self) -> tuple[Path, Path, Path] | None:
        values = [self.query_one(f"#{i}", Input).value.strip() for i in ("ck", "pw", "ca")]
        if not all(values):
            return None
        return Path(values[0]), Path(values[1]), Path(values[2])

    @on(Button.Pressed, "#use")
    def action_use(self) -> None:
        """Use the credentials in the directory (or the three files when given)."""
        files = self._files()
        text = self.query_one("#dir", Input).value.strip()
        if files is None and not text:
            self.notify("give a directory or the three files first", severity="warning", markup=False)
            return
        self._use(Path(text) if text else None, files)

    @on(Button.Pressed, "#sandbox")
    def action_sandbox(self) -> None:
        """Create (if needed) and start the local KMS instance."""
        self.sealtui.start_sandbox()

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=BACKGROUND, description="local KMS")
    def _describe_sandbox(self) -> None:
        from sealtui.service.local_kms import instance_exists

        s = self.session
        info = Text()
        running = s.local is not None
        if s.local is not None:
            st = s.local.status
            info.append("running ", style="bold green")
            info.append(f"instance {st.kms_instance_id} at {s.local.endpoint}")
            info.append(f"\nstate in {st.root_dir}; credentials in {st.credentials_dir}", style="dim")
        elif instance_exists(s.sandbox_root):
            info.append(f"an instance exists in {s.sandbox_root} (not running here): ^n starts it")
        else:
            info.append(f"none yet: ^n creates one in {s.sandbox_root}")
        self.post_message(self.SandboxDescribed(self, info, running))

    def run_check(self, directory: Path) -> None:
        self._check_dir(directory)

    @work(thread=True, exclusive=True, exit_on_error=False, description="checking the credential files")
    def _check_dir(self, directory: Path) -> None:
        from sealtui.core.credential_check import check_credentials

        report = check_credentials(directory.expanduser())
        if not get_current_worker().is_cancelled:
            self.post_message(self.Checked(self, report))

    @work(thread=True, exclusive=True, exit_on_error=False, description="checking the credential files")
    def _check_files(self, ck: Path, pw: Path, ca: Path) -> None:
        from sealtui.core.credential_check import check_files

        report = check_files(ck.expanduser(), pw.expanduser(), ca.expanduser())
        if not get_current_worker().is_cancelled:
            self.post_message(self.Checked(self, report))

    @work(thread=True, exclusive=True, exit_on_error=False, description="loading the credentials")
    def _use(self, directory: Path | None, files: tuple[Path, Path, Path] | None) -> None:
        from dataclasses import replace

        from sealtui.service.kms import CredentialSource, load_credentials

        if files is not None:
            ck, pw, ca = files
            source = CredentialSource(client_key_file=ck, password_file=pw, ca_file=ca)
        else:
            source = CredentialSource(directory=directory.expanduser() if directory is not None else None)
        creds = load_credentials(source)
        settings = self.session.settings
        if source.directory is not None:  # remembered for the next run (explicit files are not)
            settings = self.sealtui.save_settings(replace(settings, credentials_dir=source.directory, endpoint=None,
                                                          sandbox=False))
        if not get_current_worker().is_cancelled:
            self.post_message(self.Used(self, source, creds, settings))

    # --- results ------------------------------------------------------------------------------------------

    @on(Checked)
    def _show_report(self, message: Checked) -> None:
        self.report = message.report
        rows = []
        for item in message.report.items:
            role = item.role + (f" ({item.naming})" if item.naming else "")
            rows.append((status_text(item.status), Text(item.file or "-"), Text(role), Text(item.message),
                         Text(item.fix or "")))
        self.query_one("#report", WrapTable).set_rows(rows)
        errors = sum(1 for i in message.report.items if i.status == "error")
        if errors:
            self.query_one("#in-use", Static).update(Text(f"{errors} problem(s): see the fixes below",
                                                          style="bold red"))

    @on(SandboxDescribed)
    def _sandbox_described(self, message: SandboxDescribed) -> None:
        self.query_one("#sandbox-info", Static).update(message.info)
        self.query_one("#sandbox", Button).display = not message.running

    @on(Used)
    def _used(self, message: Used) -> None:
        creds = message.credentials
        self.sealtui.use_credentials(message.source, creds, None, message.settings)
        self._shown_dir = self.session.credentials_dir
        self.notify(f"using client key {creds.client_key.key_id} of {creds.kms_instance_id}", markup=False)
