"""Benchmark: the terminal UI's start-up and the inspect tree's first paint for a 5 MB payload.

1. Start-up: time from process start to the first frame, for the installed `sealtui` (no arguments, an empty
   home directory: what a new user sees) and for a bare Textual app (one Static) measured the same way in the
   same run, alternating. Each runs in a pseudo-terminal of 120×40; the first frame is the first time the
   screen text the app draws first appears in its output (sealtui: its navigation bar, drawn before the first
   screen is built). Goal: ratio <= 1.3x. Also shown: when sealtui's first screen is complete (the first-run
   offer on top of the Credentials screen).
2. Inspect tree: a sealed string with a 5 MB payload (60,000 objects) loaded into the Inspect screen of a
   headless app; time from the inspect action to the first paint after the tree is filled (polled every 10 ms,
   so up to 10 ms late). Goal: <= 300 ms. For reference, once: the same document through Textual's eager
   `Tree.add_json`.

Prints medians; does not assert. Run: `.venv/bin/python bench/startup.py` (BENCH_RUNS=N to change runs).
"""

from __future__ import annotations

import sys

# bench/ holds inspect.py: keep the folder after the standard library on sys.path so it does not shadow it.
sys.path.append(sys.path.pop(0))

import asyncio
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import tempfile
import termios
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
SIZE = (120, 40)
TIMEOUT = 30.0

BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("bench-ready")
Bare().run()
"""


def first_frame_seconds(argv: list[str], marker: bytes, env: dict[str, str]) -> float:
    """Seconds from spawning `argv` in a 120×40 pty until `marker` appears in what it writes."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the app
        os.execve(argv[0], argv, env)  # noqa: S606 - a fixed argv, no shell involved
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        seen = b""
        while True:
            remaining = TIMEOUT - (time.perf_counter() - start)
            if remaining <= 0:
                raise TimeoutError(f"{argv} drew no {marker!r} within {TIMEOUT} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                raise RuntimeError(f"{argv} exited before its first frame:\n{seen[-2000:]!r}") from None
            seen += chunk
            if marker in seen:
                return time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def startup() -> tuple[float, float, float]:
    exe = shutil.which("sealtui") or str(Path(sys.executable).with_name("sealtui"))
    bare: list[float] = []
    ours: list[float] = []
    ready: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TERM": "xterm-256color",
               "LANG": "C.UTF-8", "XDG_CONFIG_HOME": f"{home}/config", "XDG_DATA_HOME": f"{home}/data"}
        argv_bare = [sys.executable, "-c", BARE_APP]
        first_frame_seconds(argv_bare, b"bench-ready", env)  # warm the file cache once for each
        first_frame_seconds([exe], b"Credentials", env)
        for _ in range(RUNS):
            bare.append(first_frame_seconds(argv_bare, b"bench-ready", env))
            ours.append(first_frame_seconds([exe], b"Credentials", env))
            ready.append(first_frame_seconds([exe], b"Welcome to sealtui", env))
    return statistics.median(bare), statistics.median(ours), statistics.median(ready)


def big_sealed() -> str:
    from sealtui.core.jws import JwkSigner, generate_jwk
    from sealtui.core.vault import seal_vault

    items = [{"name": f"item-{i}", "value": "x" * 60} for i in range(60_000)]
    return seal_vault("kbs:///default/key/1", JwkSigner(generate_jwk("bench")), annotations={"items": items})


async def _tree_paint(text: str) -> float:
    from sealtui.app import create_app
    from sealtui.screens.inspect import InspectScreen

    with tempfile.TemporaryDirectory() as d:
        app = create_app(config_dir=Path(d) / "c", sandbox_root=Path(d) / "s", persist=False,
                         first_run_offer=False, start_mode="inspect", cursor_blink=False, use_pyperclip=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, InspectScreen)
            screen.set_input(text)
            tree = screen.query_one("#tree")
            started = time.perf_counter()
            screen.action_inspect()
            while not tree.root.children:  # filled by the report's handler
                await pilot.pause(0.01)
            await pilot.pause()  # the paint after it
            return time.perf_counter() - started


async def _eager_paint(text: str) -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import Tree

    from sealtui.core.lint import inspect

    painted: list[float] = []

    class Eager(App[None]):
        def compose(self) -> ComposeResult:
            yield Tree("decoded")

        def fill(self) -> None:
            start = time.perf_counter()
            report = inspect(text)
            tree = self.query_one(Tree)
            tree.add_json({"header": report.header, "payload": report.payload})
            tree.root.expand()
            self.call_after_refresh(lambda: painted.append(time.perf_counter() - start))

    app = Eager()
    async with app.run_test(size=SIZE) as pilot:
        app.fill()
        while not painted:
            await pilot.pause(0.01)
    return painted[0]


def main() -> None:
    print(f"runs: {RUNS} (medians)")
    bare, ours, ready = startup()
    print(f"first frame, bare Textual app:  {bare * 1000:7.1f} ms")
    print(f"first frame, sealtui:           {ours * 1000:7.1f} ms   ratio {ours / bare:.2f}x (goal <= 1.3x)")
    print(f"  sealtui's first screen complete, with the first-run offer on it: {ready * 1000:7.1f} ms "
          f"({ready / bare:.2f}x)")
    text = big_sealed()
    paints = [asyncio.run(_tree_paint(text)) for _ in range(max(3, RUNS // 2))]
    print(f"inspect tree first paint, {len(text) / 1e6:.1f} MB sealed string "
          f"({len(text) * 3 // 4 / 1e6:.1f} MB payload): {statistics.median(paints) * 1000:7.1f} ms (goal <= 300 ms)")
    if "--no-eager" not in sys.argv:
        eager = asyncio.run(_eager_paint(text))
        print(f"  for reference, Tree.add_json of the same document (once): {eager * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
