"""The installed `sealtui`, driven in a real terminal (tmux) from an empty home directory, as a new user would:
accept the first-run offer (create and start the local KMS), seal a value, see the `sealed.` string.

Each step waits (bounded) for the screen to show what the previous key should have produced. Without tmux the
test is skipped, except in CI (`CI` set), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

WAIT_SECONDS = 60.0


def _sealtui() -> str:
    found = shutil.which("sealtui") or str(Path(sys.executable).with_name("sealtui"))
    if not Path(found).exists():
        pytest.fail("the sealtui console script is not installed (pip install -e .)")
    return found


class Terminal:
    """One tmux session on a private server socket."""

    def __init__(self, tmux: str, socket: str, env: dict[str, str]) -> None:
        self.tmux, self.socket, self.env = tmux, socket, env

    def run(self, *args: str) -> str:
        out = subprocess.run([self.tmux, "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                             timeout=30, check=True)
        return out.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "main")

    def wait_for(self, pattern: str, what: str) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            text = self.screen()
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what} ({pattern!r}); the screen shows:\n{text}")
            time.sleep(0.1)  # polling interval only: each step ends as soon as its text is on screen

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "main", *keys)


def test_new_user_creates_the_local_kms_and_seals_a_value(tmp_path: Path) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is required in CI (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    exe = _sealtui()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    term = Terminal(tmux, f"sealtui-test-{os.getpid()}", env)
    term.run("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "120", "-y", "40", "-c", str(home), exe)
    try:
        term.wait_for(r"Welcome to sealtui", "the first-run offer")
        term.keys("Enter")
        term.wait_for(r"running\s+instance kst-", "the local KMS to run")
        assert (home / ".local" / "share" / "sealtui" / "sandbox" / "credentials").is_dir()

        term.keys("F4")
        term.wait_for(r"Signing key", "the Seal screen")
        term.keys("C-g")
        term.wait_for(r"signing as kid sealtui-signing", "the generated signing key")
        term.keys("-l", "hunter2")  # typed into the masked value field, which has the focus
        term.keys("Enter")
        screen = term.wait_for(r"sealed\.eyJ", "a sealed string")
        assert "hunter2" not in screen
        assert re.search(r"secret \(key key-\w+, kid sealtui-signing\)", screen)
    finally:
        subprocess.run([tmux, "-L", term.socket, "kill-server"], env=env, capture_output=True, timeout=30)
