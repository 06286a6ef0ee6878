"""Manifest: the Kubernetes Secret carrying this session's sealed values, the equivalent `kubectl create
secret` command, and the pod snippet that consumes it; copy or save each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, RadioButton, RadioSet, TabbedContent, TabPane

from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.text_box import TextBox
from sealtui.widgets.wrap_table import Column, WrapTable

__all__ = ["ManifestScreen"]

TABS = {"yaml": ("Secret YAML", ".yaml"), "kubectl": ("kubectl command", "-kubectl.sh"),
        "pod": ("Pod snippet", "-pod.yaml")}
"""Output tab id → (title, file-name suffix)."""

NOTHING_SEALED = ("nothing sealed yet in this session", "seal a value first (F4)")
"""What the screen says (message, fix) while the session has sealed nothing."""


class ManifestScreen(SealtuiScreen):
    """The Secret for this session's sealed values."""

    MODE = "manifest"
    CSS_PATH = "manifest.tcss"
    AUTO_FOCUS = "#secret-name"
    HELP_TEXT = ("Every value sealed in this session goes into one Secret. Set its name and namespace, and "
                 "whether values go under stringData (as is) or data (base64). Copy or save the YAML, the "
                 "kubectl command or the pod snippet (env vars and a volume, which the kata agent hands to "
                 "CDH because the values start with `sealed.`).")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+y", "copy", "Copy", id="manifest.copy", priority=True, tooltip="Copy the tab shown"),
        Binding("ctrl+s", "save", "Save", id="manifest.save", tooltip="Save the tab shown to a new file"),
        Binding("ctrl+r", "build", "Rebuild", id="manifest.build", tooltip="Build the manifest again"),
    ]

    @dataclass
    class Built(ScreenMessage):
        """The manifest was built (or could not be: `error`)."""

        texts: dict[str, str]
        error: str | None = None
        fix: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        """The last built outputs by tab id (tests read them)."""

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            with Horizontal(classes="form-row"):
                yield Label("Secret name")
                yield Input("sealed-secrets", id="secret-name")
                yield Label("Namespace", classes="ns-label")
                yield Input(id="namespace", placeholder="(none)")
            with Horizontal(classes="form-row", id="form-line"):
                yield Label("Values under")
                with RadioSet(id="form"):
                    yield RadioButton("stringData (as is)", value=True, id="form-stringData")
                    yield RadioButton("data (base64)", id="form-data")
            yield Label("Sealed values of this session", classes="section-title")
            with VerticalScroll(id="values-box"):
                yield WrapTable(Column("Key", ratio=2), Column("Sealed (start)", ratio=4, wrap=False),
                                Column("Size", width=12), Column("KMS key", ratio=3, wrap=False), id="values")
            with TabbedContent(id="outputs"):
                for tab, (title, _suffix) in TABS.items():
                    with TabPane(title, id=f"tab-{tab}"):
                        yield TextBox(id=tab, read_only=True, soft_wrap=True)

    def on_session_changed(self) -> None:
        # the sealed strings are shown whole in the outputs below; the table says which is which
        self.query_one("#values", WrapTable).set_rows([
            (Text(v.name), Text(v.sealed[:200]), Text(f"{len(v.sealed):,} chars"), Text(v.key_id))
            for v in self.session.sealed.values()])
        self.action_build()

    def palette_commands(self) -> list[PaletteCommand]:
        return [(f"copy: {title}", f"Copy the {title}", lambda t=tab: self.copy_tab(t))  # type: ignore[misc]
                for tab, (title, _s) in TABS.items()]

    # --- actions ------------------------------------------------------------------------------------------

    @on(Input.Changed, "#secret-name, #namespace")
    @on(RadioSet.Changed, "#form")
    def action_build(self) -> None:
        """Build the outputs from the name, namespace, form and the sealed values."""
        if not self.is_mounted:
            return
        name = self.query_one("#secret-name", Input).value.strip()
        namespace = self.query_one("#namespace", Input).value.strip() or None
        form = "data" if self.query_one("#form-data", RadioButton).value else "stringData"
        if not self.session.sealed:
            # Nothing to build: say so now, with no worker, so that the screen's first frame shows it (sealed
            # values are only ever added, so no earlier build can still be running).
            self._built(self.Built(self, {}, *NOTHING_SEALED))
            return
        self._build(name, namespace, form)

    def _current_tab(self) -> str:
        active = self.query_one("#outputs", TabbedContent).active
        return active.removeprefix("tab-") or "yaml"

    def copy_tab(self, tab: str) -> None:
        text = self.texts.get(tab)
        if not text:
            self.notify("nothing to copy: seal a value first (F4)", severity="warning", markup=False)
            return
        self.sealtui.copy_text(text, what=TABS[tab][0])

    def action_copy(self) -> None:
        """Copy the output shown."""
        self.copy_tab(self._current_tab())

    def action_save(self) -> None:
        """Save the output shown to a new file."""
        tab = self._current_tab()
        text = self.texts.get(tab)
        if not text:
            self.notify("nothing to save: seal a value first (F4)", severity="warning", markup=False)
            return
        name = self.query_one("#secret-name", Input).value.strip() or "secret"
        self.ask_and_save(f"Save the {TABS[tab][0]} as", f"{name}{TABS[tab][1]}", text.encode("utf-8"))

    # --- workers ------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="build", description="building the manifest")
    def _build(self, name: str, namespace: str | None, form: str) -> None:
        from sealtui.core.errors import SealtuiError
        from sealtui.core.manifest import build_manifest

        values = {v.name: v.sealed for v in self.session.sealed.values()}
        try:  # validation as you type: shown inline, not as an error notification
            m = build_manifest(name, values, namespace or None, "data" if form == "data" else "stringData")
        except SealtuiError as e:
            self.post_message(self.Built(self, {}, e.message, e.fix))
            return
        self.post_message(self.Built(self, {"yaml": m.to_yaml(), "kubectl": m.kubectl_command() + "\n",
                                            "pod": m.pod_snippet()}))

    @on(Built)
    def _built(self, message: Built) -> None:
        self.texts = message.texts
        for tab in TABS:
            self.query_one(f"#{tab}", TextBox).text = message.texts.get(tab, "")
        if message.error:  # shown after this build started, so its success does not clear it (screens.base)
            from sealtui.widgets.frame import ErrorLine

            self.query_one(ErrorLine).show(message.error, message.fix)
