"""The `sealtui` command and `python -m sealtui`: the terminal UI with no arguments, else the CLI.

The one module above both front ends (DESIGN §2): the CLI (`sealtui.cli`) and the TUI (`sealtui.app`) do not
import each other.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the UI when there are no arguments, else the command line; return the exit code.

    Without `argv` (the `sealtui` command, `python -m sealtui`) a command ends the process itself when it is done,
    skipping the interpreter's teardown (`sealtui.cli.exit_process`); with `argv` (tests, scripts) it returns.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from sealtui.app import run_app

        return run_app()
    from sealtui.cli import exit_process
    from sealtui.cli import main as cli_main

    code = cli_main(args)
    if argv is None:
        exit_process(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
