"""The installed `sealtui`, driven in a real terminal (tmux) from an empty home directory, as a new user would, at
80×24 (the common default) and at 120×40: accept the first-run offer (create and start the local KMS), seal a
value and save it, see it in the manifest, load it on the Unseal screen and unseal it.

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


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_new_user_seals_sees_the_manifest_and_unseals(tmp_path: Path, size: tuple[int, int]) -> None:
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
    width, height = size
    term = Terminal(tmux, f"sealtui-test-{os.getpid()}-{width}", env)
    term.run("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height),
             "-c", str(home), exe)
    public = home / ".config" / "sealtui" / "keys" / "default_sealtui-signing_jwk-public.json"
    try:
        term.wait_for(r"Welcome to sealtui", "the first-run offer")
        term.keys("Enter")
        term.wait_for(r"KMS kst-\S+ \(local\)", "the local KMS in use (the status line)")
        assert (home / ".local" / "share" / "sealtui" / "sandbox" / "credentials").is_dir()

        term.keys("F4")
        term.wait_for(r"Signing key", "the Seal screen")
        term.keys("C-g")
        term.wait_for(r"signing as kid kbs:///default/sealtui-signing/jwk", "the generated signing key")
        term.keys("-l", "hunter2")  # typed into the masked value field, which has the focus
        term.keys("Enter")
        screen = term.wait_for(r"sealed\.eyJ", "a sealed string")
        assert "hunter2" not in screen
        assert re.search(r"secret \(key key-", screen), screen
        term.keys("C-s")
        term.wait_for(r"Save the sealed strings as", "the save dialog")
        term.keys("Enter")  # its default: the home directory, never the current one
        term.wait_for(r"saved to", "the sealed string saved")
        sealed = (home / "secret.sealed").read_text()
        assert sealed.startswith("sealed.")

        term.keys("F7")
        screen = term.wait_for(r"kind: Secret", "the manifest")
        assert "stringData:" in screen and re.search(r"secret:", screen)

        term.keys("F5")
        term.wait_for(r"Sealed string \(paste", "the Unseal screen")
        term.keys("C-o")
        term.wait_for(r"Sealed string file", "the open dialog")
        term.keys("End", "C-u")  # empty the path field: its placeholder shows
        term.wait_for(r"a path", "the empty path field")
        term.keys("-l", "~/secret.sealed")
        term.wait_for(r"~/secret\.sealed", "the path typed")
        term.keys("Enter")
        term.wait_for(r"sealed\.eyJ", "the sealed string loaded")  # and the public JWK field focused
        term.keys("-l", str(public))
        term.wait_for(r"Public JWK .*public\.json", "the public JWK path typed")
        term.keys("C-r")
        screen = term.wait_for(r"7 bytes, hidden", "the unsealed value, masked")
        assert "hunter2" not in screen
        term.keys("C-t")
        term.wait_for(r"hunter2", "the revealed plaintext")
        lines = term.screen().splitlines()
        assert len(lines) <= height and all(len(line) <= width for line in lines)
    finally:
        subprocess.run([tmux, "-L", term.socket, "kill-server"], env=env, capture_output=True, timeout=30)
