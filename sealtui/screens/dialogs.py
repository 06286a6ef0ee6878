"""Modal dialogs: the first-run offer of a local KMS, and choosing a file or directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Static

__all__ = ["ConfirmDialog", "FirstRunDialog", "PathDialog", "PathRequest"]


def _blink_off(screen: ModalScreen[object]) -> None:
    if not getattr(screen.app, "cursor_blink", True):
        for w in screen.query(Input):
            w.cursor_blink = False


class FirstRunDialog(ModalScreen[bool]):
    """Nothing is configured: offer to create (or start) the built-in local KMS instance."""

    DEFAULT_CSS = """
    FirstRunDialog { align: center middle; }
    FirstRunDialog > Vertical {
        width: 100%; max-width: 76; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    FirstRunDialog Horizontal { height: auto; margin-top: 1; }
    FirstRunDialog Button { margin-right: 2; }
    """
    AUTO_FOCUS = "#yes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Not now", id="first-run.dismiss",
                tooltip="Close; the Credentials screen (F2) can create the local KMS later"),
    ]

    def __init__(self, root: Path, *, exists: bool) -> None:
        super().__init__()
        self.root = root
        self.exists = exists

    def compose(self) -> ComposeResult:
        verb = "Start" if self.exists else "Create and start"
        text = Text("Welcome to sealtui\n\n", style="bold")
        text.append("No KMS credentials are configured. sealtui can run a local KMS instance that speaks the "
                    "Alibaba Cloud KMS-instance protocol, so you can seal, unseal and inspect right away.\n\n")
        text.append("State directory: ", style="bold")
        text.append(str(self.root))
        text.append("\nIt runs in the background while sealtui is open. Choose real credentials later (F2).",
                    style="dim")
        with Vertical():
            yield Static(text)
            with Horizontal():
                yield Button(f"{verb} the local KMS", id="yes", variant="primary")
                yield Button("Not now", id="no")

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ConfirmDialog(ModalScreen[bool]):
    """A question with two answers; escape is the safe one (`no`)."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 100%; max-width: 76; height: auto; padding: 1 2; border: thick $warning; background: $surface;
    }
    ConfirmDialog Horizontal { height: auto; margin-top: 1; }
    ConfirmDialog Button { margin-right: 2; }
    """
    AUTO_FOCUS = "#no"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "No", id="confirm.no", tooltip="Answer no"),
    ]

    def __init__(self, question: Text, yes: str, no: str) -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            with Horizontal():
                yield Button(self.yes, id="yes", variant="warning")
                yield Button(self.no, id="no", variant="primary")

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


@dataclass(frozen=True)
class PathRequest:
    """What a `PathDialog` asks for."""

    title: str
    start: Path
    """The directory the tree shows first (and the input's initial value if `initial` is empty)."""
    initial: str = ""
    want_dir: bool = False
    """True: a directory; False: a file."""
    must_exist: bool = True


class PathDialog(ModalScreen[Path | None]):
    """Type a path or pick it in the tree; enter accepts, escape cancels (returns None)."""

    DEFAULT_CSS = """
    PathDialog { align: center middle; }
    PathDialog > Vertical {
        width: 90%; height: 80%; padding: 1 2; border: thick $accent; background: $surface;
    }
    PathDialog DirectoryTree { height: 1fr; margin: 1 0; }
    PathDialog Horizontal { height: auto; }
    PathDialog #path-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="path.cancel", tooltip="Close without choosing"),
    ]

    def __init__(self, request: PathRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        r = self.request
        with Vertical():
            yield Label(Text(r.title, style="bold"))
            yield Input(r.initial or str(r.start), id="path", placeholder="a path")
            yield Static(id="path-error")
            tree_root = r.start if r.start.is_dir() else Path.home()
            yield DirectoryTree(tree_root, id="tree")
            with Horizontal():
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        _blink_off(cast("ModalScreen[object]", self))
        self.query_one("#path", Input).focus()

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = str(event.path)
        if not self.request.want_dir:
            self._accept()

    @on(DirectoryTree.DirectorySelected)
    def _dir(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#path", Input).value = str(event.path)

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#ok")
    def _accept(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        path = Path(text).expanduser() if text else None
        problem = None
        if path is None:
            problem = "give a path"
        elif self.request.must_exist and not path.exists():
            problem = f"{path} does not exist"
        elif self.request.must_exist and self.request.want_dir and not path.is_dir():
            problem = f"{path} is not a directory"
        elif self.request.must_exist and not self.request.want_dir and path.is_dir():
            problem = f"{path} is a directory: choose a file"
        if problem:
            self.query_one("#path-error", Static).update(Text(problem))
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
