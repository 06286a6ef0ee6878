"""Small helpers shared by the CLI command modules: reading inputs, writing results, exit codes.

Exit codes (documented in the README):
    0 ok · 2 usage · 3 invalid input · 4 verification failed · 5 KMS/provider failure
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sealtui.core.errors import UsageError
from sealtui.core.files import STDIN, read_bytes, read_text, write_new_file, write_private_file

__all__ = ["read_bytes", "read_text", "write_new_file", "write_private_file"]  # re-exported for the command modules

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_VERIFY = 4
EXIT_PROVIDER = 5


FILE_HELP = "a regular file or - for standard input, at most 64 MiB"
"""How every option that reads a file says what it takes (`sealtui.core.files.read_bytes`)."""


def add_input_arguments(parser: argparse.ArgumentParser, what: str = "the sealed secret") -> None:
    """Add `[TEXT | -f FILE | -]` to a command: the text itself, a file, or standard input."""
    parser.add_argument("text", nargs="?", metavar="TEXT", help=f"{what}, or - to read standard input")
    parser.add_argument("-f", "--file", type=Path, metavar="FILE", help=f"read {what} from FILE ({FILE_HELP})")


def read_input_text(args: argparse.Namespace, what: str = "a sealed secret") -> str:
    """Return the text given as an argument, in a file (`-f`), or on standard input (`-`), unmodified."""
    text: str | None = getattr(args, "text", None)
    path: Path | None = getattr(args, "file", None)
    if text is not None and path is not None:
        raise UsageError("give either TEXT or -f FILE, not both")
    if path is not None:
        return read_text(path, what)
    if text is None or text == "-":
        if text is None and sys.stdin.isatty():
            raise UsageError(f"no input: pass {what} as an argument, with -f FILE, or on standard input (-)")
        return read_text(STDIN, what)
    return text


def read_stdin_text(what: str, usage: str) -> str:
    """Standard input as text; `usage` is the error when it is a terminal (nothing was piped)."""
    if sys.stdin.isatty():
        raise UsageError(usage)
    return read_text(STDIN, what)


def read_bytes_input(path: Path | None) -> bytes:
    """Read plaintext bytes from a file or, when `path` is None or `-`, from standard input.

    Plaintext is never taken from argv (it would land in shell history and `ps`).
    """
    if path is None or str(path) == STDIN:
        if sys.stdin.isatty():
            raise UsageError("no plaintext: give -f FILE or pipe it on standard input")
        return read_bytes(STDIN, "the plaintext")
    return read_bytes(path, "the plaintext")


def print_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def note(message: str) -> None:
    """Print an informational message or warning on stderr (never stdout)."""
    sys.stderr.write(message.rstrip("\n") + "\n")
