"""What every sealtui screen shares: the frame, the busy state, cancellation, the inline error line and saving.

Workers run in threads (`@work(thread=True, exclusive=True, exit_on_error=False)`), call the session and post a
message; failures go to the app's one handler (`SealtuiApp.on_worker_state_changed`: `Worker.StateChanged`
does not bubble, so this base class forwards it), which notifies and calls `show_error` here so the screen shows
the message and its fix. The error stays until work started after it succeeds (`on_worker_state_changed`, the one
place an error line is cleared), or a newer error replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from sealtui.widgets.frame import BusyBar, ErrorLine, KeysFooter, NavBar, SessionBar

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.service.kms import CredentialSource
    from sealtui.service.settings import Settings
    from sealtui.session import Session

__all__ = ["BACKGROUND", "AppApi", "PaletteCommand", "ScreenMessage", "SealtuiScreen", "no_blink"]


class AppApi(Protocol):
    """What screens use of the app (`sealtui.app.SealtuiApp`), so that nothing imports the app back."""

    session: Session
    cursor_blink: bool

    def session_changed(self) -> None: ...

    def screen_built(self) -> None: ...

    def copy_text(self, text: str, *, secret: bool = False, what: str = "text") -> None: ...

    def start_sandbox(self) -> object: ...

    def use_credentials(self, source: CredentialSource, creds: AliyunCredentials, endpoint: str | None,
                        settings: Settings | None = None) -> None: ...

    def save_settings(self, settings: Settings) -> Settings: ...

    def use_settings(self, settings: Settings) -> None: ...

    async def open_in_inspect(self, text: str, *, source: str | None = None, jwk: str | None = None) -> None: ...

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None: ...


@dataclass
class ScreenMessage(Message):
    """A message a screen's worker posts to the screen; its `control` is the screen, so handlers can filter
    with `@on(Message, "#id")`."""

    screen: Screen[Any]

    @property
    def control(self) -> Screen[Any]:
        return self.screen


BACKGROUND = "background"
"""The worker group of work the screen starts by itself (listing, describing): its success clears no error."""

BUSY_BAR_DELAY = 0.25
"""Seconds of work before the busy bar (with its cancel hint) appears."""

PaletteCommand = tuple[str, str, Callable[[], object]]
"""(title, help, callback) of a command-palette entry a screen offers."""


def no_blink(widgets: Iterable[Any]) -> None:
    """Stop the cursor blinking (deterministic screenshots and tests)."""
    for w in widgets:
        w.cursor_blink = False


class SealtuiScreen(Screen[None]):
    """Base of the six main screens."""

    MODE: ClassVar[str] = ""
    """The app mode this screen is shown in."""
    HELP_TEXT: ClassVar[str] = ""
    """What the screen is for, shown on the help screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="screen.cancel", tooltip="Cancel the KMS call that is running"),
    ]

    busy: reactive[bool] = reactive(False, bindings=True)
    """True while one of this screen's workers runs."""

    def __init__(self) -> None:
        super().__init__()
        self._errors_before: dict[Worker[Any], int] = {}
        """For each running worker, how many errors the error line had shown when it started."""
        self._styled_for: tuple[object, ...] | None = None
        """What the app's styles depended on when this screen's widgets were last styled whole."""

    @property
    def sealtui(self) -> AppApi:
        return cast("AppApi", self.app)

    @property
    def session(self) -> Session:
        return self.sealtui.session

    # --- styles: parsed once, applied once -------------------------------------------------------------------

    def prepare_styles(self, app: App[Any]) -> None:
        """Called by the app when it builds this screen for its mode, before Textual sees it: add the screen's
        styles (`CSS_PATH`) to the app's stylesheet, take the size classes the screen will have, and count the
        screen as styled by the current stylesheet (its widgets get their styles from it as they are mounted).

        Why: on a mode's first screen, Textual 8.2 reads its CSS file, re-parses every source of the stylesheet and
        restyles every screen built so far (`App._load_screen_css`); and, because a new screen counts as styled by
        no version of the styles, it does both twice more (`App.refresh_css`, from `_init_mode` and `switch_mode`),
        which also empties the stylesheet's parse cache, so that the next new widget class re-parses everything once
        more. With the file already a source, only its own rules are parsed (the stylesheet caches the rest). The
        size classes (`-narrow`, `-short`, …) set now spare a restyle of the whole screen when its first resize
        event sets them. A later theme change still restyles the screen (`App.refresh_css` when it is shown)."""
        stylesheet = app.stylesheet
        for path in self.css_path:
            if not stylesheet.has_source(str(path)):
                stylesheet.add_source(Path(path).read_text(encoding="utf-8"), read_from=(str(path), ""))
        self._css_update_count = app._css_update_count
        width, height = app.size
        self.update_classes({**_breakpoint(app.HORIZONTAL_BREAKPOINTS, width),
                             **_breakpoint(app.VERTICAL_BREAKPOINTS, height)}, update=False)
        self._styled_for = _style_state(app)

    def post_message(self, message: Message) -> bool:
        """Restyle on being shown again only when the app's styles may have changed since: Textual restyles every
        widget of a screen each time it is shown (`ScreenResume.refresh_styles`), the largest cost of a switch."""
        if isinstance(message, events.ScreenResume) and message.refresh_styles and self.is_attached:
            state = _style_state(self.app)
            if state == self._styled_for:
                message = events.ScreenResume(refresh_styles=False)
            else:
                self._styled_for = state
        return super().post_message(message)

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield SessionBar()
        yield from self.compose_body()
        yield BusyBar()
        yield ErrorLine()
        yield KeysFooter()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        if not self.is_attached:
            # The app is exiting (quit pressed while this screen was being built): its widgets are being
            # removed, so there is nothing to set up, and querying them would raise.
            return
        if not self.sealtui.cursor_blink:
            no_blink(self.query("Input, TextArea").results())
        self.on_body_ready()
        self.watch(self.app, "session_version", self._session_version_changed, init=True)
        self.sealtui.screen_built()

    def on_body_ready(self) -> None:
        """The screen's widgets are mounted: set them up (table columns, …)."""

    def _session_version_changed(self) -> None:
        if not self.is_attached:
            return  # the app is exiting
        self.query_one(SessionBar).show(self.session)
        self.on_session_changed()

    def on_session_changed(self) -> None:
        """The session changed (credentials, key, signer, sealed values): refresh what depends on it."""

    def palette_commands(self) -> list[PaletteCommand]:
        """Commands this screen adds to the command palette."""
        return []

    # --- busy state and cancellation ----------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.node is not self:
            return
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            # StateChanged does not bubble: hand the failure to the app's one error handler.
            self.sealtui.on_worker_state_changed(event)
        self._clear_error_on_success(event.worker, event.state)
        running = [w for w in self.workers if w.node is self and w.state in (WorkerState.PENDING,
                                                                            WorkerState.RUNNING)]
        self.busy = bool(running)
        bar = self.query_one(BusyBar)
        if running:
            bar.show(running[-1].description or "working")
            # Quick work shows no bar (its animation would only slow the work down); longer work does.
            self.set_timer(BUSY_BAR_DELAY, self._show_busy_bar)
        else:
            bar.display = False  # on the bar only: a class on the screen would restyle every widget

    def _clear_error_on_success(self, worker: Worker[Any], state: WorkerState) -> None:
        """A success clears the error line, unless an error was shown after the work started (a newer one, maybe
        its own: a manifest that does not validate) or the work was the screen's own (`BACKGROUND`)."""
        line = self.query_one(ErrorLine)
        if state == WorkerState.RUNNING:
            self._errors_before[worker] = line.shown_count
        elif state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            before = self._errors_before.pop(worker, None)
            if state == WorkerState.SUCCESS and before == line.shown_count and worker.group != BACKGROUND:
                self.clear_error()

    def _show_busy_bar(self) -> None:
        if self.busy:
            self.query_one(BusyBar).display = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.busy
        return True

    def action_cancel(self) -> None:
        """Cancel this screen's running work. A KMS call already sent finishes, but its result is dropped."""
        cancelled = self.workers.cancel_node(self)
        if cancelled:
            self.notify("cancelled", markup=False)

    # --- files -------------------------------------------------------------------------------------------

    def ask_save_path(self, title: str, filename: str, chosen: Callable[[Path], object], *,
                      plaintext: bool = False) -> None:
        """Ask where to save a new file called `filename` by default: in the directory last saved to (plaintext:
        where a plaintext was last saved), else the home directory (`service.settings.save_directory`)."""
        from sealtui.screens.dialogs import PathDialog, PathRequest
        from sealtui.service.settings import save_directory

        start = save_directory(self.session.settings, plaintext=plaintext)

        def done(path: Path | None) -> None:
            if path is not None:
                chosen(path)

        self.app.push_screen(PathDialog(PathRequest(title, start, str(start / filename), must_exist=False)), done)

    def ask_and_save(self, title: str, filename: str, data: bytes, *, plaintext: bool = False) -> None:
        """Ask where (`ask_save_path`), then write `data` to that new file."""
        self.ask_save_path(title, filename, lambda path: self.save_file(path, data, plaintext=plaintext),
                           plaintext=plaintext)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save", description="saving")
    def save_file(self, path: Path, data: bytes, *, plaintext: bool = False) -> None:
        """Write `data` to the new file `path`: never overwrites, mode 0600 (the rule of `sealtui.core.files`);
        its directory is remembered for the next save dialog (a `plaintext`'s apart)."""
        from sealtui.core.files import write_new_file

        write_new_file(path, data)
        self.remember_saved(path, plaintext=plaintext)
        self.app.call_from_thread(self.notify, f"saved to {path} (mode 0600)", markup=False)

    def remember_saved(self, path: Path, *, plaintext: bool = False) -> None:
        """Remember the directory of the file just saved, for the next save dialog (call from a worker)."""
        settings = self.sealtui.save_settings(self.session.settings.with_saved(path, plaintext=plaintext))
        self.app.call_from_thread(self.sealtui.use_settings, settings)

    # --- errors -------------------------------------------------------------------------------------------

    def show_error(self, error: BaseException) -> None:
        """Show `error` on this screen (called by the app's error handler)."""
        from sealtui.core.errors import SealtuiError

        if isinstance(error, SealtuiError):
            self.query_one(ErrorLine).show(error.message, error.fix)
        else:
            self.query_one(ErrorLine).show(f"{type(error).__name__}: {error}")

    def clear_error(self) -> None:
        self.query_one(ErrorLine).clear()


def _style_state(app: App[Any]) -> tuple[object, ...]:
    """What the styles of a screen's widgets depend on beyond the screen: the app's stylesheet version (bumped
    by a theme change) and the app's classes and pseudo-classes (focus, dark, inline, …)."""
    return app._css_update_count, frozenset(app.classes), app.pseudo_classes


def _breakpoint(breakpoints: list[tuple[int, str]] | None, size: int) -> dict[str, bool]:
    """The size classes of `breakpoints` for `size` cells, as Textual sets them on a resize: the class of the
    largest breakpoint not above `size` on, the others off."""
    pairs = sorted(breakpoints or [], reverse=True)
    on = next((name for at, name in pairs if size >= at), None)
    return {name: name == on for _at, name in pairs}
