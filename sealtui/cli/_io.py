"""Small helpers shared by the CLI command modules: reading inputs, writing results, exit codes.

Exit codes (documented in the README):
    0 ok · 2 usage · 3 invalid input · 4 verification failed · 5 KMS/provider failure
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError, UsageError
from sealtui.core.files import STDIN, check_new_file, read_bytes, read_text, write_new_file

__all__ = ["check_new_file", "read_bytes", "read_text", "write_new_file"]  # re-exported for the command modules

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_VERIFY = 4
EXIT_PROVIDER = 5


FILE_HELP = "a regular file or - for standard input, at most 64 MiB"
"""How every option that reads a file says what it takes (`sealtui.core.files.read_bytes`)."""


INPUT_RULE = ("an argument that names an existing file is read from the file, - from standard input; anything else "
              "is the text itself, except a path (a / in it, or a suffix such as .txt) that names no file: that is "
              "an error")
"""How every command that takes a value or a file reads its argument (said in --help and the README)."""


def add_input_arguments(parser: argparse.ArgumentParser, what: str = "the sealed secret") -> None:
    """Add `[TEXT | -f FILE | -] [--text]` to a command: a file, standard input, or the text itself."""
    parser.add_argument("text", nargs="?", metavar="TEXT",
                        help=f"{what}: a file holding it, - for standard input, or the text itself")
    parser.add_argument("-f", "--file", type=Path, metavar="FILE", help=f"read {what} from FILE ({FILE_HELP})")
    add_text_flag(parser, "TEXT", "; -f FILE always reads a file")


def add_text_flag(parser: argparse.ArgumentParser, names: str, more: str = "") -> None:
    """Add `--text` (take the arguments as the text itself) and say the rule in the command's help."""
    parser.epilog = f"{names}: {INPUT_RULE}. --text takes {names} as the text itself{more}."
    parser.add_argument("--text", dest="literal", action="store_true",
                        help=f"take {names} as the text itself, never as a file name")


def read_input_text(args: argparse.Namespace, what: str = "a sealed secret") -> str:
    """Return the text given as an argument (a file, `-`, or the text itself), in a file (`-f`), or on standard
    input, unmodified."""
    text: str | None = getattr(args, "text", None)
    path: Path | None = getattr(args, "file", None)
    if text is not None and path is not None:
        raise UsageError("give either TEXT or -f FILE, not both")
    if path is not None:
        return read_text(path, what)
    if text is None:
        if sys.stdin.isatty():
            raise UsageError(f"no input: pass {what} as an argument, with -f FILE, or on standard input (-)")
        return read_text(STDIN, what)
    return value_or_file(text, what, literal=getattr(args, "literal", False))[0]


def value_or_file(arg: str, what: str, *, literal: bool = False) -> tuple[str, str]:
    """The text an argument stands for, and how to name it in messages: the file it names when one exists, standard
    input for `-`, else the argument itself (`INPUT_RULE`). An argument that looks like a path but names no file and
    is not a sealed value either is an error ("no such file"), never taken as the value."""
    if literal:
        return arg, repr(arg)
    if arg == STDIN:
        return read_stdin_text(what, f"nothing on standard input: pipe {what} in, or give it as an argument"), \
            "standard input"
    if _names_a_file(arg):
        return read_text(arg, what), arg
    if _looks_like_path(arg):
        from sealtui.core.diff import is_sealed_value

        if not is_sealed_value(arg):
            raise InvalidInputError(f"{arg}: no such file", fix=f"check the path; to give {what} itself, add --text")
    return arg, repr(arg)


def _names_a_file(arg: str) -> bool:
    try:
        path = Path(arg).expanduser()
        return path.exists() or path.is_symlink()
    except (OSError, ValueError, RuntimeError):  # too long for a name (a sealed value), a NUL, ~nobody: no file
        return False


_PATH_LIKE = re.compile(r"(/|^~|^\.\.?$|\.(txt|ya?ml|json|env|jwk|pem|sealed)$)", re.IGNORECASE)
"""A path's marks: a slash, a leading ~, . or .., or the suffix of a file sealtui reads."""


def _looks_like_path(arg: str) -> bool:
    return not any(c.isspace() for c in arg) and bool(_PATH_LIKE.search(arg))


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


def add_oversized_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-oversized", action="store_true",
                        help="seal even when the result would not fit a Kubernetes Secret (1 MiB of data)")


@contextmanager
def oversized_hint() -> Iterator[None]:
    """Add how to go past the Secret size limit to the fix of the error that refuses it."""
    from sealtui.core.manifest import SecretTooLargeError

    try:
        yield
    except SecretTooLargeError as e:
        raise SecretTooLargeError(e.message, fix=f"{e.fix}; or give --allow-oversized to go ahead anyway") from None


def print_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def note(message: str) -> None:
    """Print an informational message or warning on stderr (never stdout)."""
    sys.stderr.write(message.rstrip("\n") + "\n")
