"""The frame every screen shares: navigation bar, session bar, busy bar and error line.

All text is built as `rich.text.Text`: names and messages come from files, KMS answers and sealed blobs, and
never go through markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Label, LoadingIndicator, Static

from sealtui.nav import NAV

if TYPE_CHECKING:
    from sealtui.session import Session

__all__ = ["BusyBar", "ErrorLine", "NavBar", "SessionBar", "StartScreen", "status_text", "tui_wording"]

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


class NavBar(Static):
    """The screens and their keys, the current one highlighted."""

    def __init__(self, current: str) -> None:
        line = Text(" sealtui ", style="bold reverse")
        for entry in NAV:
            on = entry.mode == current
            line.append(" ")
            line.append(f"{entry.key.upper()} ", style="dim")
            line.append(f"{entry.title} ", style="bold underline" if on else "")
        line.append("  F1 help", style="dim")  # ^p commands: in the footer
        super().__init__(line)  # drawn in the screen's first frame (no update after mount)
        self.current = current


class SessionBar(Static):
    """One line: the KMS instance and key in use, and the signing key."""

    def show(self, session: Session) -> None:
        line = Text("KMS ", style="bold")
        creds = session.credentials
        if creds is None:
            line.append("none: choose credentials (F2) or create the local KMS", style="yellow")
        else:
            src = " (local)" if session.using_local_kms else ""
            line.append(f"{creds.kms_instance_id}{src}")
            if session.endpoint:
                line.append(f" @ {session.endpoint}", style="dim")
        line.append("  key ", style="bold")
        line.append(session.key or "none", style="" if session.key else "yellow")
        line.append("  signing ", style="bold")
        kid = session.signing_kid
        line.append(kid or "none", style="" if kid else "yellow")
        if session.sealed:
            line.append(f"  sealed {len(session.sealed)}", style="bold green")
        self.update(line)


class BusyBar(Horizontal):
    """Shown while the screen's worker runs: what it does, and that escape cancels it."""

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label(id="busy-label")

    def show(self, what: str) -> None:
        self.query_one("#busy-label", Label).update(Text(f"{what}… (esc cancels)"))


class ErrorLine(Static):
    """The last error of this screen, with its fix; hidden until there is one."""

    def show(self, message: str, fix: str | None = None) -> None:
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
