"""Run the real `sealtui serve` in a subprocess for the browser-mode tests, and count what it spawned."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    url: str
    """The URL `sealtui serve` printed, token included."""
    token: str
    out: Path
    err: Path

    @property
    def cookie(self) -> str:
        return f"sealtui-serve-{self.port}={self.token}"

    def descendants(self) -> set[int]:
        """Every live process below the server (walks /proc: the sessions it started and their children)."""
        return descendants(self.process.pid)

    def sessions(self) -> set[int]:
        """The server's own children: one per session (the shell textual-serve starts sealtui with)."""
        return {pid for pid in self.descendants() if parent(pid) == self.process.pid}

    def wait_for(self, count: Callable[[], set[int]], predicate: Callable[[int], bool],
                 timeout: float = 30) -> set[int]:
        """Poll `count()` until `predicate(len(...))` holds or `timeout` passes; return the last answer."""
        deadline = time.monotonic() + timeout
        found = count()
        while not predicate(len(found)) and time.monotonic() < deadline:
            time.sleep(0.1)
            found = count()
        return found


def parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def descendants(pid: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited while we looked
            continue
        # Fields after the command name (which may hold spaces and parentheses): state, ppid, ...
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@contextmanager
def serving(tmp_path: Path, *args: str, host: str = "127.0.0.1") -> Iterator[Served]:
    """`sealtui serve --host HOST --port P ARGS…` with HOME and XDG dirs under tmp_path; stopped at exit."""
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    # Files, not pipes: the access log could fill a pipe nobody reads and stall the server.
    with out.open("wb") as out_file, err.open("wb") as err_file:
        process = subprocess.Popen([sys.executable, "-m", "sealtui", "serve", "--host", host, "--port", str(port),
                                    *args], env=env, stdout=out_file, stderr=err_file)
    try:
        deadline = time.monotonic() + 30
        match = None
        while match is None:
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "sealtui serve printed no URL within 30 s"
            match = re.search(r"(http://\S+/\?token=([A-Za-z0-9_-]+))", err.read_text())
            time.sleep(0.05)
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "sealtui serve did not listen within 30 s"
                time.sleep(0.05)
        yield Served(process, port, match.group(1), match.group(2), out, err)
    finally:
        sessions = descendants(process.pid)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in sessions:  # sessions left over by a failed test: the processes this server started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
