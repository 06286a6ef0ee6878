"""A JSON tree that never mounts more than the user opens: children are added when a node is expanded, and
long arrays and objects come in pages ("… 1,800 more", select it for the next page).
Every label is bounded and printable whatever the document holds: keys and strings are cut to a preview, control
characters are escaped (`\\u0000`) and lone surrogates written as their escapes, so nothing reaches the terminal
that it cannot encode.

`Tree.add_json` builds every node up front (seconds for a multi-megabyte payload); this tree's first paint
costs the same for 1 KB and 5 MB. Labels are `Text` (JSON from a sealed blob is untrusted: never markup) and
long strings are cut to a preview.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

__all__ = ["JsonTree"]


@dataclass
class _Container:
    """An object or array whose children are added on demand."""

    value: dict[str, Any] | list[Any] = field(repr=False)
    loaded: int = 0
    """How many children have been added so far."""


@dataclass
class _More:
    """The "… N more" leaf at the end of a partly loaded container."""

    parent: TreeNode[Any] = field(repr=False)
    used: bool = False
    """Set once its page is loaded (a node may be selected twice before it is gone)."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _printable(text: str, limit: int) -> str:
    """At most `limit` characters of `text` as a JSON string literal's inside (control characters and lone
    surrogates escaped), ending with `…` when cut."""
    shown = json.dumps(text[:limit], ensure_ascii=False)[1:-1]
    shown = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", shown)
    return shown[:limit] + "…" if len(shown) > limit or len(text) > limit else shown


def _size(value: dict[str, Any] | list[Any]) -> Text:
    n = len(value)
    if isinstance(value, dict):
        return Text(f"{{…}} {n:,} key{'s' if n != 1 else ''}", style="dim")
    return Text(f"[…] {n:,} item{'s' if n != 1 else ''}", style="dim")


class JsonTree(Tree[Any]):
    """A lazily expanded, paged JSON tree."""

    DEFAULT_CSS = """
    JsonTree {
        background: $surface;
    }
    """

    PAGE_SIZE: ClassVar[int] = 200
    """Children added per page."""
    PREVIEW_CHARS: ClassVar[int] = 100
    """Characters of a string shown in its label."""
    KEY_CHARS: ClassVar[int] = 60
    """Characters of a member name shown in its label."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("nothing inspected yet", style="dim"), id=id)
        self.guide_depth = 3

    def show_document(self, parts: dict[str, Any], *, label: str = "decoded") -> None:
        """Replace the tree with `parts` (e.g. header and payload); only the first level is built."""
        self.clear()
        self.root.set_label(Text(label, style="bold"))
        for name, value in parts.items():
            node = self._add(self.root, name, value)
            if node is not None:
                node.expand()
        self.root.expand()

    def _label(self, key: str | int, value: Any) -> Text:
        text = Text()
        if isinstance(key, str):
            text.append(_printable(key, self.KEY_CHARS), style="bold cyan")
        else:
            text.append(f"[{key}]", style="bold cyan")
        text.append(": ")
        if isinstance(value, dict | list):
            text.append_text(_size(value))
        elif isinstance(value, str):
            text.append(f'"{_printable(value, self.PREVIEW_CHARS).removesuffix("…")}"', style="green")
            if len(value) > self.PREVIEW_CHARS:
                text.append(f" … ({len(value):,} chars)", style="dim")
        else:
            shown = json.dumps(value)
            text.append(shown[: self.PREVIEW_CHARS] + ("…" if len(shown) > self.PREVIEW_CHARS else ""),
                        style="magenta")
        return text

    def _add(self, parent: TreeNode[Any], key: str | int, value: Any) -> TreeNode[Any] | None:
        label = self._label(key, value)
        if isinstance(value, dict | list) and value:
            return parent.add(label, data=_Container(value), allow_expand=True)
        parent.add_leaf(label, data=value)
        return None

    def _load_page(self, node: TreeNode[Any]) -> None:
        data = node.data
        if not isinstance(data, _Container):
            return
        start, stop = data.loaded, data.loaded + self.PAGE_SIZE
        items: Any = islice(data.value.items(), start, stop) if isinstance(data.value, dict) else \
            enumerate(data.value[start:stop], start)
        for key, value in items:
            self._add(node, key, value)
        data.loaded = min(stop, len(data.value))
        left = len(data.value) - data.loaded
        if left > 0:
            node.add_leaf(Text(f"… {left:,} more (enter loads {min(left, self.PAGE_SIZE):,})", style="italic dim"),
                          data=_More(node))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        data = event.node.data
        if isinstance(data, _Container) and data.loaded == 0:
            self._load_page(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        data = event.node.data
        if isinstance(data, _More) and not data.used:
            data.used = True
            event.node.remove()
            self._load_page(data.parent)
