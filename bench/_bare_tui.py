"""The floor of `bench/screens.py`: a bare Textual app with one mode per sealtui screen, each screen built lazily
on its first visit and holding as many widgets as the sealtui screen it stands for (all `Static`s in one grid,
the last of them the marker the benchmark waits for), switched by the same function keys through `switch_mode`;
when asked, a modal of the first-run offer's widget count is pushed after the first screen's first refresh, as
sealtui does for a new user. No styles of its own beyond the grid that keeps every widget in view. Like
sealtui in a terminal, it pauses the garbage collector until its first screen is built and moves what is alive
once a screen is built to the collector's permanent generation (`gc.freeze`), so that neither side pays full
garbage collections the other does not.

Run by `bench/screens.py` as `python -P bench/_bare_tui.py SPEC`, SPEC a JSON object: `start` (the first mode),
`modal` (widget count of the modal, 0 for none) and `screens` (mode -> [key, widget count]).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

SPEC: dict[str, Any] = json.loads(sys.argv[1])


def _widgets(count: int, marker: str) -> ComposeResult:
    """`count` widgets: a grid (1) and `count - 1` Statics, the marker last."""
    with Grid():
        for i in range(count - 2):
            yield Static(f"w{i}")
        yield Static(marker)


class BareScreen(Screen[None]):
    def __init__(self, mode: str, count: int) -> None:
        super().__init__()
        self.mode, self.count = mode, count

    def compose(self) -> ComposeResult:
        yield from _widgets(self.count, f"bare-{self.mode}-ready")

    def on_mount(self) -> None:
        self.app.call_after_refresh(_freeze_gc)


class BareModal(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield from _widgets(SPEC["modal"], "bare-welcome-ready")


def _factory(mode: str, count: int) -> Callable[[], Screen[None]]:
    return lambda: BareScreen(mode, count)


class Bare(App[None]):
    CSS = "Grid { grid-size: 4; grid-rows: 1; height: auto; }"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        mode: _factory(mode, count) for mode, (_key, count) in SPEC["screens"].items()}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, f"go('{mode}')", mode, priority=True) for mode, (key, _count) in SPEC["screens"].items()]

    def on_mount(self) -> None:
        self.switch_mode(SPEC["start"])
        if SPEC["modal"]:
            self.call_after_refresh(self.push_screen, BareModal())

    def action_go(self, mode: str) -> None:
        if isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if self.current_mode != mode:
            self.switch_mode(mode)


def _freeze_gc() -> None:
    gc.freeze()
    gc.enable()


if __name__ == "__main__":
    gc.disable()  # until the first screen is built, as sealtui does in a terminal
    Bare().run()
