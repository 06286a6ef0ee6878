"""The command palette provider: go to any screen, run the current screen's actions, copy results."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sealtui.nav import NAV

__all__ = ["SealtuiCommands"]


class SealtuiCommands(Provider):
    """`go: …`, `help: keys`, `local KMS: …` and whatever the current screen offers (`seal: …`, `copy: …`)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: Any = self.app  # the SealtuiApp: its action_go, action_help and start_sandbox
        out: list[tuple[str, str, Callable[[], object]]] = [
            (f"go: {e.title}", f"{e.description} ({e.key.upper()})", partial(app.action_go, e.mode)) for e in NAV
        ]
        out.append(("help: keys", "Every key of this screen and of the app (F1)", app.action_help))
        out.append(("local KMS: create and start", "Run the built-in local KMS instance", app.start_sandbox))
        screen_commands = getattr(self.screen, "palette_commands", None)
        if callable(screen_commands):
            out.extend(screen_commands())
        titles: set[str] = set()
        unique = []
        for command in out:  # one entry per title: a screen may offer what the app already does
            if command[0] not in titles:
                titles.add(command[0])
                unique.append(command)
        return unique

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
