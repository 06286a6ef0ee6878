"""The `sealtui` command and `python -m sealtui`: the terminal UI with no arguments, else the CLI.

The one module above both front ends (DESIGN §2): the CLI (`sealtui.cli`) and the TUI (`sealtui.app`) do not
import each other.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the UI when there are no arguments, else the command line; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from sealtui.app import run_app

        return run_app()
    from sealtui.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
