"""Browser mode under attack from loopback: the token, the cookie, Host and Origin checks and the session cap.

Every attack is made against the real `sealtui serve` (a subprocess) on 127.0.0.1 or ::1; the processes it
starts are counted by walking /proc, so "starts no process" is observed, not assumed.
"""

from __future__ import annotations

import ast
import asyncio
import http.client
import re
import socket
from pathlib import Path

import aiohttp
import pytest

from sealtui.webserve import served_hosts
from tests.integration.serve_support import Served, serving

ROOT = Path(__file__).resolve().parents[2]
MAX_SESSIONS = 2
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - only ever given to the argument checks, never bound


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    with serving(tmp_path_factory.mktemp("serve"), "--max-sessions", str(MAX_SESSIONS)) as s:
        yield s


def request(served: Served, path: str, headers: dict[str, str] | None = None, *, method: str = "GET",
            address: str = "127.0.0.1") -> tuple[int, http.client.HTTPResponse, bytes]:
    host = f"[{address}]" if ":" in address else address
    conn = http.client.HTTPConnection(address, served.port, timeout=20)
    try:
        conn.request(method, path, headers={"Host": f"{host}:{served.port}", **(headers or {})})
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        conn.close()


def own_origin(served: Served) -> str:
    return f"http://127.0.0.1:{served.port}"


async def open_ws(served: Served, headers: dict[str, str], address: str = "127.0.0.1"):
    """(status, session, websocket): 101 and an open websocket, or the refusal's status and None."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    host = f"[{address}]" if ":" in address else address
    try:
        ws = await asyncio.wait_for(session.ws_connect(f"http://{host}:{served.port}/ws?width=80&height=24",
                                                       headers=headers), 20)
    except aiohttp.WSServerHandshakeError as e:
        await session.close()
        return e.status, None, None
    return 101, session, ws


async def open_session(served: Served, headers: dict[str, str]):
    """Open a websocket that must be accepted: (session, websocket).

    A session's place is given back when the server has seen its process end, a moment after /proc has: retry
    a refusal for lack of room (503) a bounded number of times.
    """
    for _ in range(100):
        status, session, ws = await open_ws(served, headers)
        if status != 503:
            break
        await asyncio.sleep(0.1)
    assert status == 101
    return session, ws


async def ws_status(served: Served, headers: dict[str, str], address: str = "127.0.0.1") -> int:
    status, session, ws = await open_ws(served, headers, address)
    if ws is not None:
        await ws.close()
        await session.close()
    return status


def test_served_hosts_are_exactly_the_names_it_is_reached_by():
    assert served_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000": "http", "localhost:8000": "http"}
    assert served_hosts("::1", 8000) == {"[::1]:8000": "http", "localhost:8000": "http"}
    resolved = {str(info[4][0]) for info in socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)}
    assert set(served_hosts("localhost", 8000)) == {"localhost:8000"} | {
        f"[{a}]:8000" if ":" in a else f"{a}:8000" for a in resolved}
    assert served_hosts("127.0.0.1", 80) == {"127.0.0.1:80": "http", "127.0.0.1": "http",
                                             "localhost:80": "http", "localhost": "http"}
    assert served_hosts("192.0.2.7", 8000) == {"192.0.2.7:8000": "http"}
    assert served_hosts(EVERY_ADDRESS, 8000) == served_hosts("::", 8000) == {}
    assert served_hosts(EVERY_ADDRESS, 8000, "https://Tunnel.Example") == {"tunnel.example:443": "https",
                                                                            "tunnel.example": "https"}
    assert served_hosts("127.0.0.1", 8000, "http://localhost:9000")["localhost:9000"] == "http"


@pytest.mark.parametrize("path", ["/", "/?token=wrong", "/?token=%C3%A9", "/?token=", "/static/js/textual.js",
                                  "/static/", "/static/css/xterm.css", "/download/anything", "/ws"])
def test_without_the_token_nothing_is_served(served, path):
    before = served.descendants()
    status, response, body = request(served, path, {"Origin": own_origin(served)})
    assert status == 403
    assert response.getheader("Set-Cookie") is None
    assert len(body) < 200 and b"textual" not in body and b"<" not in body
    assert served.descendants() == before == set()


def test_a_wrong_cookie_gets_nothing(served):
    almost = ("A" if served.token[0] != "A" else "B") + served.token[1:]  # one character off
    status, _, _ = request(served, "/", {"Cookie": f"sealtui-serve-{served.port}={almost}"})
    assert status == 403
    status, _, _ = request(served, "/", {"Cookie": f"sealtui-serve-1={served.token}"})  # another port's name
    assert status == 403


def test_the_token_sets_a_strict_cookie_that_opens_the_page(served):
    status, response, _ = request(served, f"/?token={served.token}")
    assert status == 200
    cookie = response.getheader("Set-Cookie") or ""
    assert cookie.startswith(f"sealtui-serve-{served.port}={served.token};")
    assert {"HttpOnly", "Path=/", "SameSite=Strict"} <= {part.strip() for part in cookie.split(";")}
    status, response, page = request(served, "/", {"Cookie": served.cookie})
    assert status == 200
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"'.encode() in page
    assert served.token.encode() not in page
    # Nothing on the page points anywhere but this server (the SVG's xmlns is a name, never fetched).
    urls = re.findall(rb'(?:src|href)\s*=\s*"([^"]*)"|url\(\s*"?([^")]*)', page)
    urls = [a or b for a, b in urls]
    assert urls and all(u.startswith(b"/") and not u.startswith(b"//") for u in urls), urls
    assert b"googleapis" not in page
    policy = response.getheader("Content-Security-Policy") or ""
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.getheader("Referrer-Policy") == "no-referrer"
    # The static files the page loads come with the cookie alone.
    assert request(served, "/static/js/textual.js", {"Cookie": served.cookie})[0] == 200


def test_the_loopback_names_of_the_bound_address_are_served_and_no_other(served):
    for host, expected in [(f"localhost:{served.port}", 200), (f"LOCALHOST:{served.port}", 200),
                           (f"[::1]:{served.port}", 403),  # not bound
                           (f"127.0.0.1:{served.port + 1}", 403), ("127.0.0.1", 403),
                           (f"localhost.:{served.port}", 403), (f"evil.example:{served.port}", 403)]:
        status, _, _ = request(served, f"/?token={served.token}", {"Host": host})
        assert status == expected, host


def test_the_page_served_under_localhost_points_at_localhost(served):
    status, _, page = request(served, "/", {"Host": f"localhost:{served.port}", "Cookie": served.cookie})
    assert status == 200
    assert f'data-session-websocket-url="ws://localhost:{served.port}/ws"'.encode() in page


def test_foreign_origin_and_host_are_refused_and_start_no_process(served):
    good = {"Origin": own_origin(served), "Cookie": served.cookie}
    attacks = [
        {**good, "Origin": "http://evil.example"},                      # any web page in the user's browser
        {**good, "Origin": f"http://evil.example:{served.port}"},
        {**good, "Origin": "null"},                                     # sandboxed iframe, file://
        {**good, "Origin": f"http://localhost:{served.port + 1}"},      # another local port is another origin
        {"Cookie": served.cookie},                                      # no Origin at all
        # DNS rebinding: evil.example now resolves to 127.0.0.1, so the browser sends its own name.
        {**good, "Host": f"evil.example:{served.port}", "Origin": f"http://evil.example:{served.port}"},
        {"Origin": own_origin(served)},                                 # no token, no cookie
        {"Origin": own_origin(served), "Cookie": f"sealtui-serve-{served.port}=guess"},
    ]

    async def attack() -> tuple[set[int], set[int]]:
        # Every handshake that got through stays open while the processes are counted.
        results = [await open_ws(served, headers) for headers in attacks]
        try:
            assert served.descendants() == set()
            assert [status for status, _, _ in results] == [403] * len(attacks)
        finally:
            for _, session, ws in results:
                if ws is not None:
                    await ws.close()
                    await session.close()
        # The control: the same handshake with our own Origin, Host and cookie does start a sealtui process.
        session, ws = await open_session(served, good)
        try:
            started = await asyncio.to_thread(served.wait_for, served.descendants, lambda n: n >= 1)
        finally:
            await ws.close()
            await session.close()
        ended = await asyncio.to_thread(served.wait_for, served.descendants, lambda n: n == 0)
        return started, ended

    started, ended = asyncio.run(attack())
    assert started and ended == set()


def test_state_changing_requests_need_our_origin(served):
    status, _, body = request(served, "/", {"Cookie": served.cookie, "Origin": "http://evil.example"},
                              method="POST")
    assert status == 403 and b"other web sites" in body
    status, _, body = request(served, "/", {"Cookie": served.cookie}, method="POST")
    assert status == 403 and b"Origin" in body


def test_sessions_are_capped(served):
    good = {"Origin": own_origin(served), "Cookie": served.cookie}

    async def run() -> None:
        opened = []
        try:
            for _ in range(MAX_SESSIONS):
                opened.append(await open_session(served, good))
            sessions = await asyncio.to_thread(served.wait_for, served.sessions, lambda n: n >= MAX_SESSIONS)
            assert len(sessions) == MAX_SESSIONS
            # One more is refused politely, and starts nothing.
            assert await ws_status(served, good) == 503
            handshake = {**good, "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                         "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
            status, _, body = await asyncio.to_thread(request, served, "/ws", handshake)
            assert status == 503 and f"--max-sessions {MAX_SESSIONS}".encode() in body
            assert served.sessions() == sessions
            # Closing one frees its place.
            session, ws = opened.pop()
            await ws.close()
            await session.close()
            await asyncio.to_thread(served.wait_for, served.sessions, lambda n: n < MAX_SESSIONS)
            opened.append(await open_session(served, good))
        finally:
            for session, ws in opened:
                await ws.close()
                await session.close()
        assert await asyncio.to_thread(served.wait_for, served.descendants, lambda n: n == 0) == set()

    asyncio.run(run())


def test_the_refusal_says_why(served):
    async def run() -> str:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            async with session.get(f"http://127.0.0.1:{served.port}/ws",
                                   headers={"Origin": "http://evil.example"}) as response:
                return await response.text()
    assert "other web sites" in asyncio.run(run())


def test_the_token_stays_out_of_the_logs(served):
    request(served, f"/?token={served.token}")
    request(served, f"/static/css/xterm.css?token={served.token}")
    assert served.token not in served.out.read_text()
    assert "token=<redacted>" in served.out.read_text()
    assert served.err.read_text().count(served.token) == 1  # the URL it printed, once


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("host", ["localhost", pytest.param("::1", marks=pytest.mark.skipif(
    not _ipv6_loopback(), reason="no IPv6 loopback on this machine"))])
def test_every_port_it_opens_is_guarded(tmp_path, host):
    # `--host localhost` listens on every address localhost resolves to: each gets the same checks.
    addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)}
    with serving(tmp_path, host=host) as s:
        assert s.url.startswith(f"http://{'[::1]' if host == '::1' else host}:{s.port}/?token=")
        for address in addresses:
            own = f"[{address}]:{s.port}" if ":" in address else f"{address}:{s.port}"
            assert request(s, "/", address=address)[0] == 403
            assert request(s, f"/?token={s.token}", {"Host": f"evil.example:{s.port}"}, address=address)[0] == 403
            assert request(s, f"/?token={s.token}", address=address)[0] == 200
            assert request(s, f"/?token={s.token}", {"Host": f"localhost:{s.port}"}, address=address)[0] == 200
            assert asyncio.run(ws_status(s, {"Origin": "http://evil.example", "Cookie": s.cookie},
                                         address=address)) == 403
            assert asyncio.run(ws_status(s, {"Origin": f"http://{own}", "Cookie": "none=0"},
                                         address=address)) == 403
        assert s.descendants() == set()


def test_a_wildcard_bind_needs_a_public_url(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "sealtui", "serve", "--host", EVERY_ADDRESS, "--port", "1"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--public-url" in result.stderr and "Traceback" not in result.stderr


def test_only_the_serve_command_imports_the_web_server():
    importers = []
    for path in (ROOT / "sealtui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "sealtui.webserve" for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["sealtui/cli/serve_cmds.py"]
