"""A text area that repaints when its width changes.

Textual 8.2's `TextArea` re-wraps its text on a resize but repaints only when the wrapped height changes, so a
width change of a column or two (a scroll bar appearing beside it) left the old wrapping on screen with the
characters at each wrap cut off ("fakesignatuure").
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

__all__ = ["TextBox"]


class TextBox(TextArea):
    """A `TextArea` that is always drawn with its current wrapping."""

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()  # after TextArea's own handler has re-wrapped the text for the new width
