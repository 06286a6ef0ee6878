"""The frame every screen shares: navigation bar, session bar, busy bar and error line.

All text is built as `rich.text.Text`: names and messages come from files, KMS answers and sealed blobs, and
never go through markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Label, LoadingIndicator, Static
from textual.widgets._footer import FooterKey

from sealtui.nav import NAV

if TYPE_CHECKING:
    from sealtui.session import Session

__all__ = ["BusyBar", "ErrorLine", "KeysFooter", "NavBar", "SessionBar", "StartScreen", "nav_line", "status_text",
           "tui_wording"]

_CLI_FLAGS = (("--endpoint host:port", "the endpoint (Instance & key, F3)"),
              ("--endpoint", "the endpoint (Instance & key, F3)"), ("--signing-kid", "the kid"),
              ("--output-dir", "the directory"), ("--jwk", "the public JWK"))
"""CLI options that messages from the core and the providers name, and what they are called in the UI."""


def tui_wording(text: str) -> str:
    """`text` with the CLI options it names put as the UI calls them (the core speaks for both front ends,
    and some of its fixes name the CLI's options)."""
    for flag, words in _CLI_FLAGS:
        text = text.replace(flag, words)
    return text

_STATUS_STYLE = {"ok": "bold green", "warning": "bold yellow", "error": "bold red", "skipped": "dim",
                 "accepted": "bold green", "rejected": "bold red", "needs-key": "bold yellow",
                 "info": "cyan"}


def status_text(status: str) -> Text:
    """A status word (`ok`, `error`, `accepted`, …) styled by what it means."""
    return Text(status, style=_STATUS_STYLE.get(status, ""))


def nav_line(current: str, width: int) -> Text:
    """The screens and their keys in `width` columns: every key and F1 always, titles as far as they fit (full,
    then short, then only the current screen's)."""
    line = Text()
    for brand, titles in ((True, "full"), (False, "full"), (False, "short"), (False, "current")):
        line = Text(" sealtui ", style="bold reverse") if brand else Text()
        for entry in NAV:
            on = entry.mode == current
            line.append(" ")
            line.append(entry.key.upper(), style="dim")
            title = {"full": entry.title, "short": entry.short_title}.get(titles, entry.title if on else "")
            if title:
                line.append(" ")
                line.append(title, style="bold underline" if on else "")
            if titles != "current":
                line.append(" ")
        line.append("  F1 help", style="dim")  # ^p commands: in the footer
        if line.cell_len <= width:
            break
    return line


class NavBar(Widget):
    """The screens and their keys, the current one highlighted; titles shortened to fit the width."""

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def render(self) -> Text:
        return nav_line(self.current, self.size.width)


@dataclass
class _Field:
    """One part of the session bar: a label and its value, which may be shortened to fit."""

    label: str
    value: str
    style: str = ""
    optional: bool = False
    """Dropped first when the line does not fit."""
    short: str | None = None
    """What to show instead of `value` when the line does not fit (before any value is shortened)."""
    short_label: str | None = None
    """A shorter label, for when the line does not fit."""
    shrink: int = 0
    """Values are shortened lowest `shrink` first, each down to `keep` characters."""
    keep: int = 12


def _elide(text: str, width: int) -> str:
    """`text` in at most `width` characters, its middle replaced by `…` (the start and the end of a kid, a key or
    an instance id are what tell them apart)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2 + (width - 1) % 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def fit_fields(fields: list[_Field], width: int) -> Text:
    """The fields on one line of `width` columns: optional ones dropped, then short values and labels used, then
    the values shortened in the middle, in their `shrink` order, each to no fewer than `keep` characters."""
    def length(fs: list[_Field]) -> int:
        return sum(len(f.label) + len(f.value) for f in fs)

    shown = list(fields)
    while length(shown) > width and any(f.optional for f in shown):
        shown.remove(next(f for f in reversed(shown) if f.optional))
    if length(shown) > width:
        shown = [replace(f, value=f.short) if f.short is not None else f for f in shown]
    if length(shown) > width:
        shown = [replace(f, label=f.short_label) if f.short_label is not None else f for f in shown]
    for i in sorted(range(len(shown)), key=lambda i: shown[i].shrink):
        over = length(shown) - width
        if over <= 0:
            break
        f = shown[i]
        shown[i] = replace(f, value=_elide(f.value, max(f.keep, len(f.value) - over)))
    line = Text()
    for f in shown:
        line.append(f.label, style="bold")
        line.append(f.value, style=f.style)
    return line


class SessionBar(Widget):
    """One line: the KMS instance and key in use, the signing key and how many values are sealed; long values
    are shortened in the middle to fit the width."""

    def __init__(self, placeholder: Text | None = None) -> None:
        super().__init__()
        self._fields: list[_Field] = []
        self._placeholder = placeholder or Text()

    def show(self, session: Session) -> None:
        creds = session.credentials
        if creds is None:
            kms = _Field("KMS ", "none: choose credentials or create the local KMS (F2)", "yellow",
                         short="none (F2)")
            fields = [kms]
        else:
            fields = [_Field("KMS ", creds.kms_instance_id, keep=10)]
            if session.using_local_kms and session.local_endpoint_changed:
                fields.append(_Field(" ", "(local KMS credentials at another endpoint)", "bold yellow",
                                     short="(not the local KMS's endpoint)"))
            elif session.using_local_kms:
                fields.append(_Field(" ", "(local)"))
            if session.endpoint:
                fields.append(_Field(" @ ", session.endpoint, "dim", optional=True))
        fields.append(_Field("  key ", session.key or "none", "" if session.key else "yellow", shrink=2, keep=16))
        kid = session.signing_kid
        fields.append(_Field("  signing ", kid or "none", "" if kid else "yellow", short_label="  kid ", shrink=1,
                             keep=16))
        if session.sealed:
            fields.append(_Field("  sealed ", str(len(session.sealed)), "bold green"))
        self._fields = fields
        self.refresh()

    def render(self) -> Text:
        if not self._fields:
            return self._placeholder
        return fit_fields(self._fields, max(self.size.width - 2, 1))  # minus the bar's padding


class BusyBar(Horizontal):
    """Shown while the screen's worker runs: what it does, and that escape cancels it."""

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label(id="busy-label")

    def show(self, what: str) -> None:
        self.query_one("#busy-label", Label).update(Text(f"{what}… (esc cancels)"))


class ErrorLine(Static):
    """The last error of this screen, with its fix; hidden until there is one."""

    def __init__(self) -> None:
        super().__init__()
        self.shown_count = 0
        """How many errors this line has shown: work that started before the last one cannot clear it."""

    def show(self, message: str, fix: str | None = None) -> None:
        self.shown_count += 1
        text = Text("✖ ", style="bold red")
        text.append(tui_wording(message))
        if fix:
            text.append("\n  fix: ", style="bold")
            text.append(tui_wording(fix))
        self.update(text)
        self.add_class("-shown")

    def clear(self) -> None:
        self.update("")
        self.remove_class("-shown")


class StartScreen(Screen[None]):
    """The first frame: the navigation and session bars while the first screen is built."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield NavBar(self.mode)
        yield SessionBar(Text("starting...", style="dim"))


class KeysFooter(Footer):
    """Textual's footer, rebuilt only when the keys it shows change.

    Textual's rebuilds its keys (new widgets, mounted and styled) whenever its screen's bindings are updated: each
    time the screen is shown and at each focus change, most often with the very same keys; and each new key is
    styled three times over as it mounts."""

    def __init__(self) -> None:
        super().__init__()
        self._composed_for: tuple[object, ...] | None = None
        """The keys (binding, enabled, tooltip) the shown footer was built for."""

    def compose(self) -> ComposeResult:
        self._composed_for = _keys(self.screen.active_bindings.values()) if self._bindings_ready else None
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # A key starts compact (restyled as it mounts) and is then bound to the footer's own `compact`
                # (restyled again): start it as the footer is. (The command palette's key is not bound: it stays
                # compact.)
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is not self.screen:
            return
        if self._composed_for is None and self.is_attached and screen.app.app_focus:
            # The first keys of a new screen: build them now rather than after the next refresh (Textual's way),
            # so that the screen's first frame has them, instead of a second frame for the footer alone.
            self._bindings_ready = True
            self.call_later(self.recompose)
            return
        if self._composed_for == _keys(screen.active_bindings.values()):
            return
        super().bindings_changed(screen)


def _keys(active: Iterable[tuple[Any, ...]]) -> tuple[object, ...]:
    """What a footer shows of a screen's active bindings: each (binding, enabled, tooltip)."""
    return tuple((binding, enabled, tooltip) for _node, binding, enabled, tooltip in active)
