"""Browser mode with access control: textual-serve's `Server` behind a token, Host/Origin checks and a session cap.

textual-serve on its own serves anyone who can reach its port, and any web page open in the user's browser can
reach 127.0.0.1: it could start a sealtui session over `/ws`, type into it and read the screen, directly or by
DNS rebinding. `GuardedServer` adds, in one aiohttp middleware that runs before any handler:

- a `Host` check against exactly the names this server is reached by (DNS rebinding sends another name);
- an `Origin` check: if present it must be this server's; on `/ws` and on any state-changing method it must be
  present (browsers always send it there, so a missing one is not a browser on our page);
- a per-run token (`secrets`, 256 bits) from the printed URL, or the HttpOnly SameSite=Strict cookie set on the
  first load with that token, compared in constant time.

A refused request gets a 403 and a one-line reason, before any handler runs, so no process starts. `/ws` is also
capped at `max_sessions` concurrent sessions (one sealtui process each). The page links no outside host: the web
font textual-serve fetches from Google is replaced by the copy textual-serve ships in its static files, and a
Content-Security-Policy lets the page load only from this server.

This relies on textual-serve 1.1 internals (pinned `>=1.1,<1.2` in pyproject.toml): `Server._make_app` returns
the unfrozen aiohttp app (we add the middleware and a response hook), `handle_index`/`handle_websocket` are the
route handlers (overridden), `on_startup` prints the banner and `initialize_logging` sets up a RichHandler
(both overridden/extended), the template `app_index.html` and its context names (`font_size`,
`app_websocket_url`, `config.static.url`, `application.name`), and the fonts in `static/fonts/`.

Only `sealtui/cli/serve_cmds.py` imports this module.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

__all__ = ["Access", "GuardedServer", "served_hosts"]

log = logging.getLogger("sealtui.serve")

TOKEN_PARAM = "token"
"""The query parameter that carries the token in the printed URL."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing; every other method must carry one of our Origins."""

_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>", re.IGNORECASE)
"""A `<link>` to another host: textual-serve's template links Google Fonts this way."""

LOCAL_HEAD = """<style>
@font-face { font-family: "Roboto Mono"; font-style: normal; font-weight: 100 700;
  src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }
@font-face { font-family: "Roboto Mono"; font-style: italic; font-weight: 100 700;
  src: url("/static/fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype"); }
</style>
<script>
  // The token is in the cookie now: take it out of the address bar (screenshots, screen sharing, bookmarks).
  (function () {
    const url = new URL(window.location.href);
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      window.history.replaceState(null, "", url.pathname + url.search);
    }
  })();
</script>
</head>"""
"""Put before `</head>`: the web font from textual-serve's own static files, and the token taken off the URL."""

_TOKEN_IN_LOG = re.compile(r"([?&]token=)[^&\s\"]*")


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _url_host(host: str) -> str:
    """`host` as it appears in a URL or a Host header: IPv6 addresses in brackets, names in lower case."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower()
    return f"[{address.compressed}]" if address.version == 6 else address.compressed


def _is_wildcard(host: str) -> bool:
    """True for a bind to every address (0.0.0.0, ::, or an empty host)."""
    try:
        return not host or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def loopback_addresses(port: int) -> list[str]:
    """What `localhost` resolves to here, in URL form: aiohttp binds each of them for `--host localhost`."""
    try:
        infos = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return list(dict.fromkeys(_url_host(str(info[4][0])) for info in infos))


def served_hosts(bind_host: str, port: int, public_url: str | None = None) -> dict[str, str]:
    """Map every `Host` header value this server answers to the scheme browsers use for it.

    A loopback bind answers its own address and `localhost` (and `localhost` answers the addresses it resolves
    to, as aiohttp binds each of them); any other address or name answers only itself;
    `public_url` (a proxy or tunnel) adds its own host and port. A wildcard bind (0.0.0.0, ::) answers nothing
    but `public_url`: which name browsers will use is unknowable.
    """
    names: list[str] = []
    if bind_host.lower() == "localhost":
        names = ["localhost", *loopback_addresses(port)]
    elif not _is_wildcard(bind_host):
        names = [_url_host(bind_host)]
        if names[0] in ("127.0.0.1", "[::1]"):
            names.append("localhost")
    hosts: dict[str, str] = {}
    for name in names:
        hosts[f"{name}:{port}"] = "http"
        if port == 80:
            hosts[name] = "http"
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme in ("http", "https") and parts.hostname:
            public_port = parts.port or _default_port(parts.scheme)
            name = _url_host(parts.hostname)
            hosts[f"{name}:{public_port}"] = parts.scheme
            if public_port == _default_port(parts.scheme):
                hosts[name] = parts.scheme
    return hosts


def _same(supplied: str | None, token: str) -> bool:
    """Constant-time comparison that also survives non-ASCII input (compare_digest on str would raise)."""
    if not supplied:
        return False
    return hmac.compare_digest(supplied.encode("utf-8", "surrogateescape"), token.encode("ascii"))


@dataclass(frozen=True)
class Access:
    """Who may use this server: the names it is reached by, and the secret that proves the printed URL."""

    hosts: dict[str, str]
    """Every accepted `Host` header value (lower case) and the scheme browsers use with it."""
    port: int
    """The port the server listens on: cookies are shared by every port of a host, so the cookie name carries it."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    """256 random bits; never logged, never in a repr."""

    @property
    def origins(self) -> frozenset[str]:
        """Every accepted `Origin` header value: scheme://host[:port], as browsers serialise it."""
        return frozenset(f"{scheme}://{host}" for host, scheme in self.hosts.items())

    @property
    def cookie_name(self) -> str:
        return f"sealtui-serve-{self.port}"

    def refusal(self, request: web.Request) -> str | None:
        """Why `request` must be refused, or None. Checks Host, then Origin, then the token or cookie."""
        host = request.headers.get("Host", "").lower()
        if host not in self.hosts:
            return "unknown Host: open the URL that `sealtui serve` printed"
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self.origins:
            return "requests from other web sites are refused"
        handshake = request.path == "/ws" or request.headers.get("Upgrade", "").lower() == "websocket"
        if origin is None and (handshake or request.method not in SAFE_METHODS):
            return "a request without an Origin header is refused here"
        if not (self.has_query_token(request) or _same(request.cookies.get(self.cookie_name), self.token)):
            return "a valid token is needed: open the URL that `sealtui serve` printed"
        return None

    def has_query_token(self, request: web.Request) -> bool:
        return _same(request.query.get(TOKEN_PARAM), self.token)


class _RedactToken(logging.Filter):
    """Keep the token out of aiohttp's access log (it logs each request line, query string included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _TOKEN_IN_LOG.sub(r"\1<redacted>", record.getMessage())
        record.args = ()
        return True


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class GuardedServer(Server):
    """textual-serve's `Server` with the token, Host/Origin checks and session cap described in the module doc."""

    def __init__(self, command: str, *, host: str, port: int, access: Access, max_sessions: int,
                 public_url: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title="sealtui", public_url=public_url)
        self.access = access
        """Who may connect."""
        self.max_sessions = max_sessions
        """Concurrent `/ws` sessions allowed; each runs one sealtui process."""
        self.sessions = 0
        """`/ws` sessions open now (counted from before the process starts until after it has exited)."""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        app.on_response_prepare.append(self._add_headers)
        return app

    def initialize_logging(self) -> None:
        super().initialize_logging()
        logging.getLogger("aiohttp.access").addFilter(_RedactToken())
        for handler in logging.getLogger().handlers:
            # textual-serve's rich tracebacks print every frame's locals; the middleware's include the request.
            if hasattr(handler, "tracebacks_show_locals"):
                handler.tracebacks_show_locals = False

    async def on_startup(self, app: web.Application) -> None:
        """Print nothing: textual-serve's banner shows a URL without the token; the CLI prints the real one."""

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = self.access.refusal(request)
        if reason is not None:
            log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote, reason)
            return web.Response(status=403, text=f"403 Forbidden: {reason}\n",
                                headers={"Cache-Control": "no-store"})
        response = await handler(request)
        if self.access.has_query_token(request) and not response.prepared:
            response.set_cookie(self.access.cookie_name, self.access.token, path="/", httponly=True,
                                samesite="Strict", secure=self.access.hosts[request.headers["Host"].lower()] == "https")
        return response

    async def _add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page, with URLs for the name the browser used (Host is checked) and nothing from other hosts."""
        host = request.headers["Host"].lower()
        scheme = self.access.hosts[host]
        websocket_url = f"{'wss' if scheme == 'https' else 'ws'}://{host}/ws"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": websocket_url,
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        html = aiohttp_jinja2.render_string("app_index.html", request, context)
        html = _EXTERNAL_LINK.sub("", html).replace("</head>", LOCAL_HEAD, 1)
        policy = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                  f"img-src 'self' data:; font-src 'self'; connect-src 'self' {websocket_url}; "
                  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        return web.Response(text=html, content_type="text/html",
                            headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            raise web.HTTPBadRequest(text="sealtui serve: /ws only takes a websocket handshake\n")
        # Check and count with no await in between, so concurrent handshakes cannot both take the last place.
        if self.sessions >= self.max_sessions:
            log.warning("refused a session from %s: %d open, the most --max-sessions allows",
                        request.remote, self.sessions)
            raise web.HTTPServiceUnavailable(
                text=f"sealtui serve: {self.sessions} sessions are open, the most it allows (--max-sessions "
                     f"{self.max_sessions}). Close one, then press Restart.\n",
                headers={"Retry-After": "5"})
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1
