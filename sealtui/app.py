"""The sealtui terminal UI: the app, the factory the CLI and the tests share, and `run_app()`.

The app wires the screens of `sealtui.nav` (one Textual *mode* each, imported on first use so the first frame
comes quickly), the help screen and the command palette; it owns the `Session` (the state, no Textual in it) and
the one place where worker errors are shown. Nothing here imports the Alibaba SDK: providers load inside workers.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import App
from textual.binding import BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from sealtui.nav import APP_BINDINGS, NAV, NavEntry
from sealtui.service.settings import DEFAULT_CLIPBOARD_CLEAR_SECONDS
from sealtui.session import Session

if TYPE_CHECKING:
    from textual.command import Provider

    from sealtui.core.credentials import AliyunCredentials
    from sealtui.service.kms import CredentialSource
    from sealtui.service.local_kms import LocalKms
    from sealtui.service.settings import Settings

__all__ = ["SealtuiApp", "copy_message", "create_app", "run_app"]


def _lazy_screen(entry: NavEntry) -> Callable[[], Screen[Any]]:
    def make() -> Screen[Any]:
        from sealtui.screens.base import SealtuiScreen

        screen = getattr(importlib.import_module(entry.module), entry.cls)()
        if isinstance(screen, SealtuiScreen):
            screen.prepare_styles(screen.app)
        return cast("Screen[Any]", screen)

    return make


def _commands() -> type[Provider]:
    from sealtui.screens.palette import SealtuiCommands

    return SealtuiCommands


class SealtuiApp(App[int]):
    """Seal and inspect Confidential Containers sealed secrets."""

    TITLE = "sealtui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {_commands}
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {e.mode: _lazy_screen(e) for e in NAV}
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (Textual types it an instance var)
    """Screens narrower than 100 columns get the class `-narrow` (80 columns is the common default)."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]  # noqa: RUF012
    """Screens shorter than 36 rows get the class `-short`: compact form widgets (`app.tcss`)."""

    session_version: reactive[int] = reactive(0, init=False)
    """Bumped whenever the session changes (credentials, key, signer, sealed values): screens watch it."""

    def __init__(
        self,
        session: Session,
        *,
        start_mode: str | None = None,
        first_run_offer: bool = True,
        cursor_blink: bool = True,
        use_pyperclip: bool = True,
        progressive: bool = False,
        freeze_gc: bool = False,
    ) -> None:
        super().__init__()
        self.session = session
        self.start_mode = start_mode
        self.first_run_offer = first_run_offer
        self.cursor_blink = cursor_blink
        """False in tests and snapshots: no blinking cursor anywhere."""
        self.use_pyperclip = use_pyperclip
        self.errors: list[BaseException] = []
        """Every error shown to the user, oldest first (tests assert on it)."""
        self._clear_token = 0
        self._pending_secret: str | None = None
        self.progressive = progressive
        """Draw a light frame first and the first screen right after (a quick first frame in a terminal)."""
        self.freeze_gc = freeze_gc
        """Exempt what exists once a screen is built from the cyclic garbage collector (`screen_built`)."""

    # --- start and stop -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        configured = self.session.credentials is not None or self.session.settings.is_configured
        mode = self.start_mode or ("seal" if configured else "credentials")
        if self.progressive:
            # The frame (navigation and session bars) costs a few milliseconds; the screen's widgets and
            # their styles most of the start-up. Show the frame, then build the screen.
            from sealtui.widgets.frame import StartScreen

            self.push_screen(StartScreen(mode))
            self.call_after_refresh(self._start, mode, configured)
        else:
            self._start(mode, configured)

    def _start(self, mode: str, configured: bool) -> None:
        self.switch_mode(mode)
        if configured and self.session.credentials is None:
            self.restore_session()
        elif not configured and self.first_run_offer:
            self.call_after_refresh(self.offer_sandbox)

    def offer_sandbox(self) -> None:
        """The first-run offer: create (or start) the local KMS instance."""
        from sealtui.screens.dialogs import FirstRunDialog
        from sealtui.service.local_kms import instance_exists

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_sandbox()

        root = self.session.sandbox_root
        self.push_screen(FirstRunDialog(root, exists=instance_exists(root)), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="session", description="restore session")
    def restore_session(self) -> None:
        """Use what was chosen in an earlier run: the local KMS, or a credentials directory."""
        from sealtui.service.kms import CredentialSource, load_credentials
        from sealtui.service.local_kms import instance_exists

        settings = self.session.settings
        if settings.sandbox and instance_exists(self.session.sandbox_root):
            self._start_local_kms()
        elif settings.credentials_dir is not None:
            source = CredentialSource(directory=settings.credentials_dir)
            creds = load_credentials(source)
            self.call_from_thread(self.use_credentials, source, creds, settings.endpoint)

    @work(thread=True, exclusive=True, exit_on_error=False, group="session", description="start the local KMS")
    def start_sandbox(self) -> None:
        """Create the local KMS instance if needed and serve it while the app runs."""
        local = self._start_local_kms()
        self.call_from_thread(
            self.notify, f"local KMS {local.status.kms_instance_id} running at {local.endpoint}", title="Local KMS",
            markup=False)

    def _start_local_kms(self) -> LocalKms:
        from sealtui.service.kms import CredentialSource, load_credentials
        from sealtui.service.local_kms import start_local_kms

        s = self.session
        local = start_local_kms(s.sandbox_root, s.local.server if s.local is not None else None)
        source = CredentialSource(directory=local.credentials_dir)
        creds = load_credentials(source)
        settings = self.save_settings(replace(s.settings, sandbox=True, credentials_dir=None, endpoint=None))
        self.call_from_thread(self._use_local_kms, local, source, creds, settings)
        return local

    def _use_local_kms(self, local: LocalKms, source: CredentialSource, creds: AliyunCredentials,
                       settings: Settings) -> None:
        self.session.use_local_kms(local, source, creds)
        self.session.settings = settings
        self.session_changed()

    def use_credentials(self, source: CredentialSource, creds: AliyunCredentials, endpoint: str | None,
                        settings: Settings | None = None) -> None:
        """Use these credentials from now on (on the app's thread; `settings`: the saved choice, if changed)."""
        self.session.use_credentials(source, creds, endpoint)
        if settings is not None:
            self.session.settings = settings
        self.session_changed()

    def use_settings(self, settings: Settings) -> None:
        """Keep `settings` (saved by a worker) in the session (on the app's thread)."""
        self.session.settings = settings

    def save_settings(self, settings: Settings) -> Settings:
        """Write `settings` (when this session persists them) and return them. Call from a worker."""
        from sealtui.service.settings import save_settings

        if self.session.persist:
            save_settings(self.session.config_dir, settings)
        return settings

    def session_changed(self) -> None:
        """Tell every screen that the session changed (they watch `session_version`)."""
        self.session_version += 1

    async def action_quit(self) -> None:
        """Quit: clear a copied secret still on the clipboard, stop the local KMS this app started."""
        if self._pending_secret is not None:
            self._clear_clipboard(self._pending_secret, self._clear_token)
        self.session.close()
        self.exit(0)

    def on_unmount(self) -> None:
        self.session.close()

    def screen_built(self) -> None:
        """A screen was built (its first visit). With `freeze_gc`, once it is drawn, the objects alive then go to
        the collector's permanent generation (`gc.freeze`), and the collector runs again if `run_app` paused it
        for the start: the screens, their styles and the modules loaded so far live as long as the app, and a full
        collection that scans them (~200,000 objects once every screen is built) paused the UI for up to ~130 ms
        at a time, in the middle of drawing a screen."""
        if self.freeze_gc:
            self.call_after_refresh(_freeze_gc)

    # --- navigation, help -----------------------------------------------------------------------------------

    def action_go(self, mode: str) -> None:
        """Show the screen of `mode` (keeping each screen's state)."""
        if isinstance(self.screen, _modal_base()):
            self.pop_screen()
        if self.current_mode != mode:
            self.switch_mode(mode)

    async def open_in_inspect(self, text: str, *, source: str | None = None, jwk: str | None = None) -> None:
        """Show the Inspect screen with `text` loaded and inspected (verified with `jwk` when given)."""
        from sealtui.screens.inspect import InspectScreen

        if isinstance(self.screen, _modal_base()):
            self.pop_screen()
        if self.current_mode != "inspect":
            await self.switch_mode("inspect")  # builds the screen the first time
        screen = self.screen
        if isinstance(screen, InspectScreen):
            screen.show_value(text, source=source, jwk=jwk)

    def action_help(self) -> None:
        """Show the help screen (every key of the app and of the current screen)."""
        from sealtui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # --- clipboard ------------------------------------------------------------------------------------------

    def copy_text(self, text: str, *, secret: bool = False, what: str = "text") -> None:
        """Send `text` to the terminal's clipboard (OSC 52) and, when there is one, the local clipboard (pyperclip),
        and say which it reached: a terminal may ignore OSC 52 (tmux does unless `set-clipboard on`), and nothing
        tells sealtui whether it did. A `secret` is cleared from both after `session.clipboard_clear_seconds`."""
        self.copy_to_clipboard(text)
        local = False
        if self.use_pyperclip:
            try:
                import pyperclip

                pyperclip.copy(text)
                local = True
            except Exception:
                self.log.info("no local clipboard for pyperclip")
        self._pending_secret = text if secret else None
        message = copy_message(what, local=local, web=self.is_web, tmux=bool(os.environ.get("TMUX")))
        if secret:
            self._clear_token += 1
            token = self._clear_token
            seconds = self.session.clipboard_clear_seconds
            self.set_timer(seconds, lambda: self._clear_clipboard(text, token))
            message += f"; it is cleared from the clipboard in {seconds:g} s"
        self.notify(message, title="Copy", markup=False, timeout=8 if not local else 4)

    def _clear_clipboard(self, text: str, token: int) -> None:
        if token != self._clear_token or self.clipboard != text:
            return  # something else was copied since: leave it
        self._pending_secret = None
        self.copy_to_clipboard("")
        if self.use_pyperclip:
            try:
                import pyperclip

                if pyperclip.paste() == text:
                    pyperclip.copy("")
            except Exception:
                self.log.info("no local clipboard for pyperclip")
        self.notify("the copied secret was cleared from the clipboard", markup=False)

    # --- errors: the one place ------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure ends here: shown in the app (never as markup), the app keeps running."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        self.show_error(error, event.worker.node)

    def show_error(self, error: BaseException, node: object | None = None) -> None:
        """Notify the user of `error` and let the screen that owns the work show it inline too."""
        from sealtui.core.errors import SealtuiError
        from sealtui.widgets.frame import tui_wording

        self.errors.append(error)
        if isinstance(error, SealtuiError):
            text, title = tui_wording(error.message + (f"\nfix: {error.fix}" if error.fix else "")), "Error"
        else:
            text, title = f"{type(error).__name__}: {error}", "Unexpected error"
            self.log.error(f"unexpected {type(error).__name__} in a worker")
        self.notify(text, title=title, severity="error", markup=False, timeout=8)
        show = getattr(node, "show_error", None)
        if callable(show):
            show(error)


def copy_message(what: str, *, local: bool, web: bool = False, tmux: bool = False) -> str:
    """What a copy did: reached the local clipboard, or was only sent to the terminal (or browser), which may
    have ignored it; then saving is the way that always works."""
    if local:
        return f"{what} copied to the clipboard"
    if web:
        return f"{what} sent to the browser's clipboard; if the browser did not allow it, save it instead (ctrl+s)"
    note = " (under tmux it arrives only with `set -g set-clipboard on`)" if tmux else ""
    return (f"{what} sent to the terminal's clipboard (OSC 52){note}; if your terminal does not allow it, "
            "save it instead (ctrl+s)")


def _modal_base() -> type:
    from textual.screen import ModalScreen

    return ModalScreen


def create_app(
    *,
    config_dir: Path | None = None,
    sandbox_root: Path | None = None,
    clipboard_clear_seconds: float = DEFAULT_CLIPBOARD_CLEAR_SECONDS,
    persist: bool = True,
    **options: Any,
) -> SealtuiApp:
    """Build the app (shared by `sealtui` and the tests).

    `config_dir`, `sandbox_root`: default to the XDG locations; `clipboard_clear_seconds`: how long a copied
    secret stays on the clipboard; `persist`: write settings and recent keys. Other options go to
    `SealtuiApp`: `start_mode`, `first_run_offer`, `cursor_blink`, `use_pyperclip`, `progressive` (draw the
    first frame before the first screen's body), `freeze_gc` (see `SealtuiApp.screen_built`; not in tests,
    where apps come and go in one process).
    """
    session = Session(config_dir=config_dir, sandbox_root=sandbox_root,
                      clipboard_clear_seconds=clipboard_clear_seconds, persist=persist)
    return SealtuiApp(session, **options)


def _freeze_gc() -> None:
    gc.freeze()
    gc.enable()


def run_app() -> int:
    """Run the UI in the terminal; returns the exit code."""
    # No garbage collection until the first screen is drawn: the start creates ~70,000 objects that live as long
    # as the app (collections scanning them cost ~60-100 ms of the start); `screen_built` freezes them, then
    # turns the collector back on.
    gc.disable()
    app = create_app(progressive=True, freeze_gc=True)
    try:
        code = app.run()
    finally:
        app.session.close()
    return int(code or 0)
