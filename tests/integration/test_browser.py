"""Browser mode: `sealtui serve` renders the app in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags the workplace's own probe uses; without the background-networking ones Chromium keeps dialling out.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="chromium is not installed (.ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_renders_the_app_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    server = subprocess.Popen([sys.executable, "-m", "sealtui", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        frames: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda payload: frames.append(payload if isinstance(payload, str)
                                                                else payload.decode("utf-8", "replace"))))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            page.wait_for_selector("canvas, .xterm-screen", timeout=30_000)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "sealtui" not in "".join(frames):
                page.wait_for_timeout(200)
            page.screenshot(path=str(tmp_path / "browser.png"))
            browser.close()
        # The app's own output (its title among it) travelled over the websocket to the page.
        assert "sealtui" in "".join(frames)
        assert (tmp_path / "browser.png").stat().st_size > 10_000
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert "NO authentication" in err
