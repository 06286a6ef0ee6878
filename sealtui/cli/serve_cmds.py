"""`sealtui serve`: the terminal UI in a browser, through textual-serve behind a token (`sealtui.webserve`)."""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from typing import Any

from sealtui.cli import _io
from sealtui.core.errors import UsageError

DEFAULT_MAX_SESSIONS = 4
"""Concurrent browser sessions (one sealtui process each) allowed unless --max-sessions says otherwise."""

TOKEN_WARNING = (
    "Open this URL in your browser:\n\n    {url}\n\n"
    "The token in it is what protects the session: whoever has the URL (anyone who can read this terminal, its "
    "scrollback, logs or your browser history) gets a sealtui session running as you, with your credentials and "
    "KMS access; so does another user of this machine who gets the token. Without the token, from another web "
    "site (Origin) or under another host name (Host), nothing is served. The connection is plain HTTP: keep it "
    "on 127.0.0.1 and reach it through an SSH tunnel."
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the terminal UI in a browser (behind a per-run token)",
        description="Serve the sealtui terminal UI over HTTP with textual-serve. Each browser tab starts its own "
        "sealtui process. The printed URL carries a random token; requests without it (or the cookie set on the "
        "first load), from other web sites, or under other host names are refused. Bind to 127.0.0.1 (the "
        "default) and use an SSH tunnel to reach it from elsewhere.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--public-url", metavar="URL",
                   help="scheme://host:port that browsers use, when behind a proxy or a tunnel on another port "
                   "(its host and port are accepted as well)")
    p.add_argument("--max-sessions", type=_positive_int, default=DEFAULT_MAX_SESSIONS, metavar="N",
                   help=f"concurrent browser sessions, one sealtui process each (default {DEFAULT_MAX_SESSIONS})")
    p.set_defaults(func=cmd_serve)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    from sealtui.webserve import Access, GuardedServer, served_hosts

    hosts = served_hosts(args.host, args.port, args.public_url)
    if not hosts:
        raise UsageError(f"--host {args.host} listens on every address, so no host name can be checked",
                         fix="bind one address, or give --public-url http://NAME:PORT (the URL browsers open)")
    access = Access(hosts=hosts, port=args.port)
    base = (args.public_url or f"http://{next(iter(hosts))}").rstrip("/")
    _io.note(TOKEN_WARNING.format(url=f"{base}/?token={access.token}"))
    if not _is_loopback(args.host):
        _io.note(f"warning: --host {args.host} is not a loopback address: anyone on that network who gets the "
                 "token can use it, and it travels unencrypted.")
    # Each browser session runs this same interpreter's sealtui, so the served app is the installed one.
    command = shlex.join([sys.executable, "-m", "sealtui"])
    server = GuardedServer(command, host=args.host, port=args.port, access=access,
                           max_sessions=args.max_sessions, public_url=args.public_url)
    try:
        server.serve()
    except OSError as e:
        raise UsageError(f"cannot listen on {args.host} port {args.port}: {e.strerror or e}",
                         fix="choose another --port, or stop what is using it") from None
    return _io.EXIT_OK
