"""HTML and Markdown for notebooks (`_repr_html_`, `_repr_markdown_`), with every string escaped.

What is shown comes from outside (a sealed value's kid, a manifest's names, a file name), so nothing reaches the
output unescaped: HTML through `html.escape`; Markdown with HTML's special characters as entities (a notebook
renders raw HTML inside Markdown) and Markdown's own characters backslash-escaped, so that text cannot become a
link, an emphasis or a table cell. Code goes in an indented block, which no content can leave.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["esc", "html_table", "md", "md_code", "md_table"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~:])")
"""What Markdown would read inline: emphasis, code, links and images, table cells, strikethrough, autolinks."""


def esc(value: Any) -> str:
    """`value` as HTML text."""
    return html.escape("" if value is None else str(value))


def md(value: Any) -> str:
    """`value` as Markdown text: one line, nothing in it interpreted."""
    text = html.escape("" if value is None else str(value), quote=False)
    return " ".join(_MD_SPECIAL.sub(r"\\\1", text).splitlines())


def md_code(text: str) -> str:
    """`text` as an indented Markdown code block (shown as it is, whatever it holds)."""
    return "\n".join("    " + line for line in text.splitlines())


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table; every cell escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; every cell escaped."""
    lines = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
