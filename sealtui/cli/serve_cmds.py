"""`sealtui serve`: the terminal UI in a browser, through textual-serve."""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from typing import Any

from sealtui.cli import _io

NO_AUTH_WARNING = (
    "sealtui serve has NO authentication: whoever can open {url} gets a sealtui session running as you, "
    "with your credentials and KMS access. Keep it on 127.0.0.1 and reach it through an SSH tunnel."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="run the terminal UI in a browser (no authentication!)",
                              description="Serve the sealtui terminal UI over HTTP with textual-serve. Each "
                              "browser tab starts its own sealtui process. There is no authentication: bind to "
                              "127.0.0.1 (the default) and use an SSH tunnel to reach it from elsewhere.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--public-url", help="the URL browsers use, when behind a proxy or tunnel")
    p.set_defaults(func=cmd_serve)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    from textual_serve.server import Server

    url = args.public_url or f"http://{args.host}:{args.port}"
    _io.note("warning: " + NO_AUTH_WARNING.format(url=url))
    if not _is_loopback(args.host):
        _io.note(f"warning: --host {args.host} is not a loopback address: anyone on that network can use it.")
    # Each browser session runs this same interpreter's sealtui, so the served app is the installed one.
    command = shlex.join([sys.executable, "-m", "sealtui"])
    Server(command, host=args.host, port=args.port, title="sealtui", public_url=args.public_url).serve()
    return _io.EXIT_OK
