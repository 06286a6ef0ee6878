"""The help screen: what the current screen is for, its keys, and the keys that work everywhere."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from sealtui.nav import APP_BINDINGS, NAV

__all__ = ["HelpScreen"]


def _bindings_table(title: str, bindings: list[Binding]) -> Table:
    table = Table(title=Text(title, style="bold"), title_justify="left", show_header=False, box=None,
                  padding=(0, 2, 0, 0), expand=True)
    table.add_column(width=12, overflow="fold")
    table.add_column(width=16, overflow="fold")
    table.add_column(ratio=1, overflow="fold")
    for b in bindings:
        table.add_row(Text(b.key.replace(",", " / "), style="bold cyan"), Text(b.description or b.action),
                      Text(b.tooltip))
    return table


def _class_bindings(cls: type) -> list[Binding]:
    """The bindings a class declares and inherits (subclass first; one per key)."""
    seen: set[str] = set()
    out: list[Binding] = []
    for klass in cls.__mro__:
        for b in klass.__dict__.get("BINDINGS", []):
            binding = b if isinstance(b, Binding) else Binding(*b)
            if binding.key not in seen:
                seen.add(binding.key)
                out.append(binding)
    return out


class HelpScreen(ModalScreen[None]):
    """Keys of the screen underneath and of the whole app."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100%; max-width: 96; height: 100%; max-height: 40; padding: 0 1; border: thick $accent;
        background: $surface;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close", tooltip="Close the help screen"),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under
        self.screen_bindings = _class_bindings(type(under)) if type(under).__name__ != "Screen" else []
        """The keys of the screen underneath."""
        self.app_bindings = [
            *[b for b in APP_BINDINGS if isinstance(b, Binding)],
            Binding("ctrl+p", "command_palette", "Commands", tooltip="Search every command (go:, seal:, copy:…)"),
            Binding("ctrl+q", "quit", "Quit", tooltip="Quit sealtui (stops the local KMS it started)"),
            Binding("tab", "focus_next", "Next field", tooltip="Move between fields (shift+tab: back)"),
        ]
        """The keys that work everywhere."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            title = next((e.title for e in NAV if e.mode == getattr(self.under, "MODE", "")), "sealtui")
            intro = Text()
            intro.append(f"{title}\n", style="bold")
            intro.append(getattr(self.under, "HELP_TEXT", "") or "")
            yield Static(intro)
            yield Static(_bindings_table("\nThis screen", self.screen_bindings))
            yield Static(_bindings_table("\nEverywhere", self.app_bindings))
            note = Text("\nPlaintext is masked until revealed, never logged, and written to disk only when you save "
                        "it (mode 0600, never overwriting). Copied secrets are cleared from the clipboard after "
                        "a timeout. Press escape to close.", style="dim")
            yield Static(note)
