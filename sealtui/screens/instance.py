"""Instance and key: the KMS instances at hand, the key to seal with, and a connection check that says which
step fails (reachability, trust, client key, permission)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from sealtui.screens.base import BACKGROUND, PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.frame import status_text
from sealtui.widgets.wrap_table import Column, WrapTable

if TYPE_CHECKING:
    from sealtui.providers.aliyun import ConnectionReport
    from sealtui.sandbox.models import KeyInfo
    from sealtui.service.local_kms import Instance
    from sealtui.service.settings import Settings

__all__ = ["InstanceScreen"]


class InstanceScreen(SealtuiScreen):
    """Pick the instance and key; check the connection."""

    MODE = "instance"
    CSS_PATH = "instance.tcss"
    AUTO_FOCUS = "#key"
    HELP_TEXT = ("Instances come from the credentials in use and from the local KMS. A key is a key id "
                 "(key-…), an alias (alias/<name>) or an alibabakms://<endpoint>/[<instance>]/<key> URI. "
                 "The connection check tries reachability, TLS trust with the CA bundle, the client key, "
                 "and permission to encrypt with the key, and stops at the first failure. Enter on the local KMS "
                 "row (or reload) uses it at its own endpoint again.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "check", "Check connection", id="instance.check",
                tooltip="Check reachability, trust, the client key and permission for the key"),
        Binding("ctrl+s", "use_key", "Use key", id="instance.use-key", tooltip="Seal with the key typed above"),
        Binding("ctrl+l", "reload", "Reload", id="instance.reload",
                tooltip="Reload instances and keys; the local KMS is used at its own endpoint again"),
    ]

    @dataclass
    class Listed(ScreenMessage):
        """Instances and the local KMS's keys were listed."""

        instances: list[Instance]
        keys: list[KeyInfo]

    @dataclass
    class Checked(ScreenMessage):
        """The connection check finished."""

        report: ConnectionReport

    @dataclass
    class KeySet(ScreenMessage):
        """The key to seal with was checked (and remembered in `settings`)."""

        key: str
        settings: Settings

    @dataclass
    class EndpointSet(ScreenMessage):
        """The endpoint override was checked (None: the instance's own endpoint)."""

        endpoint: str | None

    def __init__(self) -> None:
        super().__init__()
        self.report: ConnectionReport | None = None
        """The last connection check (tests read it)."""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield Label("KMS instances (enter uses one)", classes="section-title")
            yield DataTable(id="instances", cursor_type="row")
            with Horizontal(classes="form-row"):
                yield Label("Endpoint")
                yield Input(id="endpoint", placeholder="host:port (default: the instance's own)")
                yield Button("Set", id="set-endpoint")
            with Horizontal(classes="form-row"):
                yield Label("Key")
                yield Input(id="key", placeholder="key-…, alias/<name> or alibabakms://…")
                yield Button("Use key ^s", id="use-key", variant="primary")
            with Horizontal(id="key-lists"):
                with Vertical():
                    yield Label("Recently used keys", classes="section-title")
                    yield OptionList(id="recent")
                with Vertical():
                    yield Label("Local KMS keys", classes="section-title")
                    yield DataTable(id="sandbox-keys", cursor_type="row")
            with Horizontal(classes="form-row"):
                yield Label("Connection", classes="section-title")
                yield Button("Check connection ^r", id="check")
            yield WrapTable(Column("Step", width=12), Column("Status", width=7), Column("Message", ratio=4),
                            Column("Fix", ratio=3), id="connection")

    def on_body_ready(self) -> None:
        self.query_one("#instances", DataTable).add_columns("Source", "Instance", "Endpoint", "Client key")
        # the aliases first: they fit a narrow column, the key ids (key-<uuid>) do not
        self.query_one("#sandbox-keys", DataTable).add_columns("Aliases", "Spec", "State", "Key")
        super().on_body_ready()

    def on_session_changed(self) -> None:
        s = self.session
        if s.key and not self.query_one("#key", Input).value:
            self.query_one("#key", Input).value = s.key
        if s.endpoint and not self.query_one("#endpoint", Input).value:
            self.query_one("#endpoint", Input).value = s.endpoint
        recent = self.query_one("#recent", OptionList)
        recent.clear_options()
        recent.add_options([Option(Text(k), id=f"recent-{i}") for i, k in enumerate(s.settings.recent_keys)] or
                           [Option(Text("none yet", style="dim"), disabled=True)])
        self._list()

    def palette_commands(self) -> list[PaletteCommand]:
        return [("connection: check", "Reachability, trust, client key, permission", self.action_check)]

    # --- actions ------------------------------------------------------------------------------------------

    def action_reload(self) -> None:
        """List instances and keys again; the local KMS's credentials go back to its own endpoint."""
        self._restore_local_endpoint()
        self._list()

    def _restore_local_endpoint(self) -> None:
        s = self.session
        if s.local is not None and s.using_local_kms and s.local_endpoint_changed:
            s.endpoint = s.local.endpoint
            self.query_one("#endpoint", Input).value = s.endpoint
            self.notify(f"the local KMS is used at its own endpoint again: {s.endpoint}", markup=False)
            self.sealtui.session_changed()

    @on(Button.Pressed, "#check")
    def action_check(self) -> None:
        """Run the connection check for the instance, endpoint and key in use."""
        self.query_one("#connection", WrapTable).clear()
        self._check(self.query_one("#endpoint", Input).value.strip())

    @on(Input.Submitted, "#key")
    @on(Button.Pressed, "#use-key")
    def action_use_key(self) -> None:
        """Use the key typed in the key field."""
        self._set_key(self.query_one("#key", Input).value.strip())

    @on(Input.Submitted, "#endpoint")
    @on(Button.Pressed, "#set-endpoint")
    def _set_endpoint(self) -> None:
        self._endpoint(self.query_one("#endpoint", Input).value.strip())

    @on(OptionList.OptionSelected, "#recent")
    def _recent(self, event: OptionList.OptionSelected) -> None:
        key = str(event.option.prompt)
        self.query_one("#key", Input).value = key
        self._set_key(key)

    @on(DataTable.RowSelected, "#sandbox-keys")
    def _sandbox_key(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        self.query_one("#key", Input).value = key
        self._set_key(key)

    @on(DataTable.RowSelected, "#instances")
    def _instance(self, event: DataTable.RowSelected) -> None:
        source = str(event.row_key.value)
        s = self.session
        if source == "sandbox" and (s.local is None or not s.using_local_kms):
            self.sealtui.start_sandbox()  # (re)uses the local KMS, at the endpoint it answers on
        elif source == "sandbox" and s.local_endpoint_changed:
            self._restore_local_endpoint()
        else:
            self.notify(f"{source} instance in use", markup=False)

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=BACKGROUND, description="listing instances and keys")
    def _list(self) -> None:
        from sealtui.service.local_kms import instances, local_keys

        s = self.session
        found = instances(s.credentials, s.credentials_dir, s.endpoint, s.local, s.sandbox_root)
        keys = local_keys(s.sandbox_root)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Listed(self, found, keys))

    @work(thread=True, exclusive=True, exit_on_error=False, description="checking the connection")
    def _check(self, endpoint: str) -> None:
        from dataclasses import replace

        from sealtui.service.kms import connect, endpoint_override

        target = self.session.require_target()
        if endpoint != (target.endpoint or ""):
            target = replace(target, endpoint=endpoint_override(endpoint))
            self.post_message(self.EndpointSet(self, target.endpoint))
        report = connect(target, self.session.credentials).check_connection()
        if not get_current_worker().is_cancelled:
            self.post_message(self.Checked(self, report))

    @work(thread=True, exclusive=True, exit_on_error=False, description="setting the key")
    def _set_key(self, key: str) -> None:
        from sealtui.core.keyref import parse_key_ref

        parse_key_ref(key)
        settings = self.sealtui.save_settings(self.session.settings.with_recent_key(key))
        self.post_message(self.KeySet(self, key, settings))

    @work(thread=True, exclusive=True, exit_on_error=False, description="setting the endpoint")
    def _endpoint(self, endpoint: str) -> None:
        from sealtui.service.kms import endpoint_override

        self.post_message(self.EndpointSet(self, endpoint_override(endpoint)))

    # --- results ------------------------------------------------------------------------------------------

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        table = self.query_one("#instances", DataTable)
        table.clear()
        for inst in message.instances:
            if inst.source not in table.rows:
                table.add_row(Text(inst.source), Text(inst.kms_instance_id), Text(inst.endpoint),
                              Text(inst.client_key_id), key=inst.source)
        keys = self.query_one("#sandbox-keys", DataTable)
        keys.clear()
        for k in message.keys:
            ref = k.aliases[0] if k.aliases else k.id
            if ref not in keys.rows:
                keys.add_row(Text(", ".join(k.aliases)), Text(k.spec),
                             Text(k.state, style="green" if k.state == "Active" else "yellow"), Text(k.id), key=ref)

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        self.report = message.report
        self.query_one("#connection", WrapTable).set_rows(
            [(Text(step.name), status_text(step.status), Text(step.message), Text(step.fix or ""))
             for step in message.report.steps])
        if message.report.ok:
            self.notify(f"connection to {message.report.endpoint} works", markup=False)

    @on(KeySet)
    def _key_set(self, message: KeySet) -> None:
        self.session.key = message.key
        self.session.settings = message.settings
        self.sealtui.session_changed()

    @on(EndpointSet)
    def _endpoint_set(self, message: EndpointSet) -> None:
        self.session.endpoint = message.endpoint
        self.sealtui.session_changed()

