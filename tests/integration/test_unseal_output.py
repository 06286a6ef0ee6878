"""`unseal -o FILE` refuses an existing FILE before any KMS call: a Decrypt must not be spent (and logged by the
KMS) on plaintext that is then thrown away.

The KMS endpoint is a local listener that counts the connections it gets and closes them at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealtui.core.jws import keygen
from tests.paths import ROOT
from tests.sandbox_support import SandboxInfo


class CountingListener:
    """127.0.0.1:<port> that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.endpoint = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    server = CountingListener()
    yield server
    server.close()


def run(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "sealtui", *map(str, args)], input=stdin, capture_output=True,
                          env=env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("existing", ["file", "symlink", "dangling-symlink"])
def test_an_existing_output_is_refused_before_any_kms_call(sandbox: SandboxInfo, listener, tmp_path, existing):
    keys = keygen("out-kid", tmp_path)
    sealed = run("seal", "envelope", "--key-id", "alias/sealtui-default", "--credentials-dir", sandbox.credentials_dir,
                 "--endpoint", sandbox.endpoint, "--signing-jwk", keys.private_path, stdin=b"the plaintext")
    assert sealed.returncode == 0, sealed.stderr.decode()
    out = tmp_path / "plain.txt"
    if existing == "file":
        out.write_bytes(b"kept")
    else:
        target = tmp_path / ("target" if existing == "symlink" else "missing")
        if existing == "symlink":
            target.write_bytes(b"kept")
        out.symlink_to(target)

    def unseal(dest: Path) -> subprocess.CompletedProcess[bytes]:
        return run("unseal", "--credentials-dir", sandbox.credentials_dir, "--endpoint", listener.endpoint,
                   "--jwk", keys.public_path, "-o", dest, stdin=sealed.stdout)

    refused = unseal(out)
    assert refused.returncode == 3, refused.stderr.decode()
    assert f"{out} already exists".encode() in refused.stderr
    assert listener.connections == 0
    assert out.is_symlink() or out.read_bytes() == b"kept"
    # The control: to a new file, the same command does reach the endpoint (which then fails it).
    reached = unseal(tmp_path / "new.txt")
    assert reached.returncode == 5, reached.stderr.decode()
    assert listener.connections >= 1 and not (tmp_path / "new.txt").exists()
