"""Plaintext shown masked until the user reveals it."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

__all__ = ["SecretView"]


class SecretView(Static):
    """Holds unsealed bytes; renders `••••` with the size until `revealed`."""

    DEFAULT_CSS = """
    SecretView {
        height: auto;
        min-height: 3;
        max-height: 12;
        padding: 1;
        border: round $primary;
        overflow-y: auto;
    }
    """

    revealed: reactive[bool] = reactive(False)
    """Whether the plaintext is shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._data: bytes | None = None

    @property
    def data(self) -> bytes | None:
        return self._data

    def set_data(self, data: bytes | None) -> None:
        """Hold new plaintext (masked again), or nothing."""
        self._data = data
        self.revealed = False
        self._show()

    def watch_revealed(self) -> None:
        self._show()

    def _show(self) -> None:
        if self._data is None:
            self.update(Text("nothing unsealed yet", style="dim"))
            return
        n = len(self._data)
        if not self.revealed:
            text = Text("•" * min(max(n, 8), 24), style="bold")
            text.append(f"  {n:,} bytes, hidden (ctrl+t reveals)", style="dim")
            self.update(text)
            return
        try:
            shown = Text(self._data.decode("utf-8"))
        except UnicodeDecodeError:
            shown = Text(f"(binary, {n:,} bytes; hex) ", style="dim")
            shown.append(self._data[:4096].hex(" "))
        self.update(shown)
