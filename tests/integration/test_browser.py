"""Browser mode: `sealtui serve` renders the app in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.serve_support import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags the workplace's own probe uses; without the background-networking ones Chromium keeps dialling out.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="chromium is not installed (.ci/run installs it)")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_serve_renders_the_app_in_chromium_with_the_token_and_nothing_from_outside(tmp_path):
    from playwright.sync_api import sync_playwright

    with serving(tmp_path) as served:
        frames: list[str] = []
        requests: list[str] = []
        failures: list[str] = []
        console: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
            page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.url}: {r.status}"))
            page.on("console", lambda m: console.append(m.text))
            sockets: list[str] = []

            def on_websocket(ws) -> None:
                sockets.append(ws.url)
                ws.on("framereceived", lambda payload: frames.append(
                    payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

            page.on("websocket", on_websocket)
            page.goto(served.url, wait_until="load")
            page.wait_for_selector("canvas, .xterm-screen", timeout=30_000)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "sealtui" not in "".join(frames):
                page.wait_for_timeout(200)
            page.screenshot(path=str(tmp_path / "browser.png"))
            address_bar = page.url
            browser.close()
        err = served.err.read_text()
    # The app's own output (its title among it) travelled over the websocket, which carried only the cookie.
    assert "sealtui" in "".join(frames)
    assert (tmp_path / "browser.png").stat().st_size > 10_000
    # Every request the page made went to this server; none was refused, none broke the page's policy.
    assert requests and all(is_loopback(url) for url in requests + sockets), requests + sockets
    assert [urlsplit(url).path for url in sockets] == ["/ws"]
    assert any("/static/fonts/" in url for url in requests)  # the web font, served locally
    assert not failures, failures
    print("requests:", *requests, *sockets, sep="\n  ")
    assert not [m for m in console if "Content Security Policy" in m], console
    assert "token=" not in address_bar
    assert "The token in it is what protects the session" in err
