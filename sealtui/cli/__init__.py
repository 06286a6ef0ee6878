"""The `sealtui` command line.

`sealtui` with no arguments opens the terminal UI instead (`sealtui.__main__`, the one module above both front
ends: the CLI never imports the TUI). Each command module exposes `register(subparsers)`, adding its
parsers with `set_defaults(func=handler)`; a handler takes the parsed arguments and returns an exit code.
Command modules import only the standard library at module level, so `sealtui inspect` stays fast and never
imports Textual or the Alibaba SDK.

Results go to stdout, everything else to stderr. Exit codes: 0 ok, 2 usage, 3 invalid input,
4 verification failed, 5 KMS/provider failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from sealtui.cli import _io

__all__ = ["build_parser", "exit_process", "main"]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser (shared by `main` and the tests).

    With `command` (the command about to run), every other command is added with its name and help but without
    its options, which parsing never reaches: building them all is ~5 ms of every start.
    """
    from sealtui.cli import bulk_cmds, core_cmds, doctor_cmds, kms_cmds, review_cmds, sandbox_cmds, serve_cmds

    parser = argparse.ArgumentParser(
        prog="sealtui",
        description="Seal and inspect Confidential Containers sealed secrets. "
        "Run with no arguments to open the terminal UI.",
        epilog="exit codes: 0 ok, 2 usage, 3 invalid input, 4 verification failed, 5 KMS/provider failure",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers: Any = parser.add_subparsers(dest="command", metavar="COMMAND")
    if command is not None:
        subparsers = _OnlyBuilding(subparsers, command)
    seal_subparsers = core_cmds.register(subparsers)
    kms_cmds.register(subparsers)
    kms_cmds.register_seal_envelope(seal_subparsers)
    bulk_cmds.register_seal_bulk(seal_subparsers)
    review_cmds.register(subparsers)
    doctor_cmds.register(subparsers)
    serve_cmds.register(subparsers)
    sandbox_cmds.register(subparsers)
    return parser


class _OnlyBuilding:
    """The subparsers of the commands, as the `register` functions see them when one command is run: the others
    get a parser with their name and help (so usage and `invalid choice` errors are the same) and nothing else."""

    def __init__(self, subparsers: Any, command: str) -> None:
        self._subparsers = subparsers
        self._command = command

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        parser = self._subparsers.add_parser(name, **kwargs)
        return parser if self._command in (name, *kwargs.get("aliases", ())) else _Unbuilt()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._subparsers, name)


class _Unbuilt:
    """The parser of a command that is not run: takes every call (arguments, groups, subcommands) and keeps
    nothing."""

    def __getattr__(self, name: str) -> Any:
        return self._take

    def _take(self, *args: Any, **kwargs: Any) -> _Unbuilt:
        return self


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked: importlib.metadata alone costs ~45 ms of every start."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        sys.stdout.write(f"sealtui {_version()}\n")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sealtui")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0+unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (no command: the usage, exit 2)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list[0] if args_list and not args_list[0].startswith("-") else None)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        # A command group given without its subcommand (e.g. `sealtui seal`).
        sub = getattr(args, "_group_parser", parser)
        sub.print_help(sys.stderr)
        return _io.EXIT_USAGE
    return run_handler(func, args)


def run_handler(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run one command handler, turning user-caused errors into a message and an exit code."""
    from sealtui.core.errors import SealtuiError

    try:
        code = func(args)
    except SealtuiError as e:
        sys.stderr.write(f"sealtui: error: {e.message}\n")
        if e.fix:
            sys.stderr.write(f"  fix: {e.fix}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("sealtui: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        return _io.EXIT_OK
    return int(code or 0)


def exit_process(code: int) -> NoReturn:
    """End the process after a command, without the interpreter's teardown.

    A command is done when its handler returns. Here what it wrote is flushed and the atexit handlers run (logging,
    temporary files, …); then `os._exit` skips the teardown that frees every module's objects one by one: ~50–120 ms
    of each command, more with more modules loaded (the SDK's, cryptography's). Files a command writes are closed,
    and fsynced where they must be durable, before its handler returns; the local KMS's serve lock is an flock,
    which the kernel drops. When another (non-daemon) thread still runs, or a flush fails (the reader of a pipe went
    away), the interpreter's own exit handles it as before.
    """
    import atexit
    import os
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()  # what the interpreter's exit would run first (they unregister as they run)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    exit_process(main())
