"""Benchmark: the terminal UI in a real terminal (tmux): start-up, first visits and revisits of every screen.

Both sides run the same way in the same run, interleaved (the order alternates each round), medians:

- sealtui: the installed `sealtui` script;
- the floor: `bench/_bare_tui.py`, a bare Textual app with one lazily built mode per sealtui screen, each with as
  many widgets as that screen (counted in a headless sealtui at the start of the run), switched by the same keys
  through `switch_mode`, and for a new user a modal of the first-run offer's widget count pushed after the first
  refresh.

Each app runs in its own tmux session (120x40) on a private tmux server. "Drawn in full" is when every marker of
the screen is in `tmux capture-pane` (polled every 10 ms): for sealtui the text of the screen's last widgets and of
what its workers fill in (the footer's keys, the last table's header, the instance list, a check's report…); for
the floor the text of its last widget. Times run from just before the tmux command that starts the app or sends
the key.

Two states, each its own launches: `empty` (an empty HOME: the start is measured here, up to the Credentials screen
drawn in full with the first-run offer on it; then escape, and first visits F3…F10) and `configured` (a HOME whose
local KMS instance was chosen in an earlier run: sealtui starts on Seal with the local KMS serving; first visits
F2, F3, F5…F10). In both, then a revisit of every screen. Goals: start <= 1.3x; first visit <= 1.3x; revisit <=
1.1x.

Run: `.venv/bin/python bench/screens.py` (BENCH_RUNS=N rounds, default 7; `--state empty|configured`;
`--start-only`: only the starts).
Prints medians; does not assert.
"""

from __future__ import annotations

import sys

# bench/ holds inspect.py: keep the folder after the standard library on sys.path so it does not shadow it.
sys.path.append(sys.path.pop(0))

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
START_ONLY = "--start-only" in sys.argv
SIZE = (120, 40)
TIMEOUT = 30.0
POLL = 0.01
SETTLE = 0.4
"""Seconds left between steps (not timed), so that one step's late work does not land in the next one's time."""
BARE = Path(__file__).with_name("_bare_tui.py")

KEYS = {"credentials": "F2", "instance": "F3", "seal": "F4", "unseal": "F5", "inspect": "F6", "manifest": "F7",
        "scan": "F8", "diff": "F9", "doctor": "F10"}

MARKERS: dict[str, list[str]] = {
    # the footer (the last widget), the body's last widget, and what the screen's workers fill in
    "credentials": [r"\^n Local KMS", r"What the check found"],
    "instance": [r"\^l Reload", r"Step\s+Status\s+Message"],
    "seal": [r"\^g Generate signer", r"no signing key yet"],
    "unseal": [r"\^t Reveal/hide", r"cleared from the clipboard after"],
    "inspect": [r"\^n Re-sign", r"Level\s+Finding"],
    "manifest": [r"\^r Rebuild", r"seal a value first"],
    "scan": [r"\^l Inspect row", r"Verdict\s+Signature"],
    "diff": [r"\^r Compare", r"Field\s+A\s+B"],
    "doctor": [r"\^l Inspect\s+\^y Copy", r"Give a manifest directory"],
}
STATE_MARKERS: dict[str, dict[str, list[str]]] = {
    "empty": {"credentials": [r"none yet: \^n creates"], "seal": [r"no KMS yet"]},
    "configured": {"credentials": [r"running instance", r"ca_bundle \(cdh\)"],
                   "instance": [r"sandbox\s+kst-", r"EC_P256"], "seal": [r"seals with alias/sealtui-default"]},
}
WELCOME = [r"Not now"]
"""The first-run offer, drawn last at a new user's start (its last widget)."""


def markers(state: str, mode: str) -> list[str]:
    return MARKERS[mode] + STATE_MARKERS[state].get(mode, [])


class Tmux:
    """A private tmux server; one session per app launch."""

    def __init__(self) -> None:
        self.socket = f"sealtui-bench-{os.getpid()}"
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "keeper", "sleep", "86400")
        self.count = 0

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=True).stdout

    def launch(self, argv: list[str], home: Path) -> str:
        self.count += 1
        name = f"app{self.count}"
        self.run("new-session", "-d", "-s", name, "-x", str(SIZE[0]), "-y", str(SIZE[1]), "-c", str(home),
                 "-e", f"HOME={home}", "--", *argv)
        return name

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    def wait(self, name: str, patterns: list[str], started: float, *, gone: bool = False) -> float:
        """Seconds from `started` until every pattern is on screen (`gone`: until none is)."""
        while True:
            text = self.screen(name)
            found = [bool(re.search(p, text)) for p in patterns]
            if (not any(found)) if gone else all(found):
                return time.perf_counter() - started
            if time.perf_counter() - started > TIMEOUT:
                raise TimeoutError(f"{name}: {patterns} {'still' if gone else 'not'} on screen:\n{text}")
            time.sleep(POLL)

    def close(self, name: str) -> None:
        pid = int(self.run("display", "-p", "-t", name, "#{pane_pid}").strip())
        self.run("kill-session", "-t", name)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def shutdown(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=30)


@dataclass
class Samples:
    start: list[float] = field(default_factory=list)
    first: dict[str, list[float]] = field(default_factory=dict)
    again: dict[str, list[float]] = field(default_factory=dict)


async def _count_widgets() -> tuple[dict[str, int], int]:
    """Widgets of each sealtui screen when first drawn, and of the first-run offer (a headless app)."""
    from sealtui.app import create_app
    from sealtui.nav import NAV
    from sealtui.screens.dialogs import FirstRunDialog

    with tempfile.TemporaryDirectory() as d:
        app = create_app(config_dir=Path(d) / "c", sandbox_root=Path(d) / "s", persist=False, cursor_blink=False,
                         use_pyperclip=False)
        async with app.run_test(size=SIZE) as pilot:
            deadline = time.monotonic() + TIMEOUT
            while not isinstance(app.screen, FirstRunDialog) and time.monotonic() < deadline:
                await pilot.pause(0.02)
            await pilot.pause(0.1)
            modal = await _settled_count(pilot)
            app.pop_screen()
            counts = {}
            for e in NAV:
                await app.switch_mode(e.mode)
                await app.workers.wait_for_complete()
                counts[e.mode] = await _settled_count(pilot)
    return counts, modal


async def _settled_count(pilot: Any) -> int:
    """The widgets of the current screen, once their number stops changing (the footer mounts its keys late)."""
    count = -1
    for _ in range(50):
        await pilot.pause(0.1)
        now = len(list(pilot.app.screen.walk_children()))
        if now == count:
            break
        count = now
    return count


def configured_home(root: Path) -> Path:
    """A HOME whose earlier run chose the local KMS: the instance exists and the settings say so."""
    home = root / "configured"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8"}
    code = ("from sealtui import sandbox\nfrom sealtui.sandbox.layout import default_root_dir\n"
            "sandbox.init_instance(default_root_dir())\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    config = home / ".config" / "sealtui"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text(json.dumps({"sandbox": True}))
    return home


def session(tmux: Tmux, argv: list[str], home: Path, state: str, bare: bool, into: Samples) -> None:
    """One launch: the start, then a first visit of every other screen, then a revisit of every screen."""
    start_mode = "credentials" if state == "empty" else "seal"

    def want(mode: str) -> list[str]:
        return [f"bare-{mode}-ready"] if bare else markers(state, mode)

    started = time.perf_counter()
    name = tmux.launch(argv, home)
    first = want(start_mode)
    if state == "empty":
        into.start.append(tmux.wait(name, first + (["bare-welcome-ready"] if bare else WELCOME), started))
    else:
        into.start.append(tmux.wait(name, first + ([] if bare else [r"KMS kst-\S+ \(local\)"]), started))
    time.sleep(SETTLE)
    if START_ONLY:
        tmux.close(name)
        return
    if state == "empty":  # close the first-run offer
        tmux.run("send-keys", "-t", name, "Escape")
        tmux.wait(name, ["bare-welcome-ready"] if bare else WELCOME, time.perf_counter(), gone=True)
        time.sleep(SETTLE)
    order = [m for m in KEYS if m != start_mode]
    for visits, modes in ((into.first, order), (into.again, [*order, start_mode])):
        for mode in modes:
            if all(re.search(p, tmux.screen(name)) for p in want(mode)):
                raise RuntimeError(f"{mode}'s markers are on screen before its key")
            started = time.perf_counter()
            tmux.run("send-keys", "-t", name, KEYS[mode])
            visits.setdefault(mode, []).append(tmux.wait(name, want(mode), started))
            time.sleep(SETTLE)
    tmux.close(name)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    states = [sys.argv[sys.argv.index("--state") + 1]] if "--state" in sys.argv else ["empty", "configured"]
    exe = shutil.which("sealtui") or str(Path(sys.executable).with_name("sealtui"))
    counts, modal = asyncio.run(_count_widgets())
    print(f"load at the start: {uptime()}")
    print(f"rounds: {RUNS}, tmux {SIZE[0]}x{SIZE[1]}, medians; widgets per screen: {counts}, first-run offer: {modal}")
    tmux = Tmux()
    results: dict[tuple[str, bool], Samples] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            home_configured = configured_home(root) if "configured" in states else root
            for state in states:
                spec = {"start": "credentials" if state == "empty" else "seal", "modal": modal if state == "empty"
                        else 0, "screens": {m: [k.lower(), counts[m]] for m, k in KEYS.items()}}
                # -P: bench/inspect.py must not shadow the standard library's
                sides = {False: [exe], True: [sys.executable, "-P", str(BARE), json.dumps(spec)]}
                for i in range(RUNS + 1):  # the first round warms the file cache and is not counted
                    for bare in ((False, True) if i % 2 else (True, False)):
                        if state == "empty":
                            home = root / f"empty-{i}-{int(bare)}"
                            home.mkdir()
                        else:
                            home = home_configured
                        into = Samples() if i == 0 else results.setdefault((state, bare), Samples())
                        session(tmux, sides[bare], home, state, bare, into)
    finally:
        tmux.shutdown()
    print(f"load at the end:   {uptime()}")
    for state in states:
        ours, bare = results[(state, False)], results[(state, True)]
        what = ("the Credentials screen with the first-run offer" if state == "empty"
                else "the Seal screen with the local KMS in use")
        goal = " (goal <= 1.3x)" if state == "empty" else ""
        print(f"\n[{state} HOME] start to {what} drawn in full: sealtui {ms(ours.start):7.1f} ms, "
              f"bare {ms(bare.start):7.1f} ms, ratio {ms(ours.start) / ms(bare.start):.2f}x{goal}")
        if START_ONLY:
            continue
        print(f"  {'screen':<12} {'first: sealtui':>15} {'bare':>8} {'ratio':>6}   {'revisit: sealtui':>17} "
              f"{'bare':>8} {'ratio':>6}")
        for mode, key in KEYS.items():
            first = (f"{ms(ours.first[mode]):12.1f} ms {ms(bare.first[mode]):5.1f} ms "
                     f"{ms(ours.first[mode]) / ms(bare.first[mode]):5.2f}x" if mode in ours.first
                     else f"{'(the start)':>33}")
            again = ms(ours.again[mode]), ms(bare.again[mode])
            print(f"  {key:<3} {mode:<8} {first}   {again[0]:14.1f} ms {again[1]:5.1f} ms {again[0] / again[1]:5.2f}x")
    print("\ngoals: start <= 1.3x, first visit <= 1.3x, revisit <= 1.1x")


if __name__ == "__main__":
    main()
