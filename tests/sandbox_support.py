"""Starting and stopping sandbox servers for tests (used by the `sandbox` fixtures in tests/conftest.py)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


@dataclass
class SandboxInfo:
    """A running sandbox instance: where it listens and the credential files to reach it."""

    root_dir: Path
    endpoint: str
    kms_instance_id: str
    client_key_id: str
    credentials_dir: Path
    ca_file: Path
    client_key_file: Path
    password_file: Path
    default_key_id: str
    """The AES-256 key behind `alias/sealtui-default`."""
    signing_key_id: str
    """The EC P-256 key behind `alias/sealtui-signing`."""
    process: SandboxProcess | None = field(default=None, repr=False)

    @property
    def password(self) -> str:
        """The client key's password (raw text, as CDH reads it)."""
        return self.password_file.read_text()


class SandboxProcess:
    """`python -m sealtui sandbox serve --port 0` in a subprocess, with its stderr in a log file.

    `serve_args` are added to the command line; `nofile` lowers the server's file-descriptor limit.
    """

    def __init__(
        self, root_dir: Path, log_file: Path, *, serve_args: list[str] | None = None, nofile: int | None = None
    ) -> None:
        self.root_dir = root_dir
        self.log_file = log_file
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))

        def limit_files() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        with log_file.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "sealtui", "sandbox", "serve", "--root-dir", str(root_dir),
                 "--hostname", "127.0.0.1", "--port", "0", *(serve_args or [])],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                preexec_fn=limit_files,
            )  # fmt: skip
        self.endpoint = self._wait_for_endpoint()

    def _wait_for_endpoint(self) -> str:
        serve_json = self.root_dir / "serve.json"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"sandbox server exited with {self.popen.returncode}:\n{self.log()}")
            try:
                info: dict[str, Any] = json.loads(serve_json.read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("pid") == self.popen.pid:
                return str(info["endpoint"])
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"sandbox server did not start within {START_TIMEOUT} s:\n{self.log()}")

    def log(self) -> str:
        """What the server wrote on stderr so far."""
        return self.log_file.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the server (no cleanup: what a crash looks like) and reap it."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def terminate(self) -> None:
        """Stop the server the polite way (SIGTERM), falling back to SIGKILL."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def describe(root_dir: Path, endpoint: str, process: SandboxProcess | None = None) -> SandboxInfo:
    """A `SandboxInfo` for the instance in `root_dir` served at `endpoint`."""
    from sealtui import sandbox

    status = sandbox.load_status(root_dir)
    assert status.default_key_id and status.signing_key_id
    return SandboxInfo(
        root_dir=status.root_dir,
        endpoint=endpoint,
        kms_instance_id=status.kms_instance_id,
        client_key_id=status.client_key_id,
        credentials_dir=status.credentials_dir,
        ca_file=status.ca_file,
        client_key_file=status.client_key_file,
        password_file=status.password_file,
        default_key_id=status.default_key_id,
        signing_key_id=status.signing_key_id,
        process=process,
    )


def start_sandbox(
    root_dir: Path, *, init: bool = True, serve_args: list[str] | None = None, nofile: int | None = None
) -> SandboxInfo:
    """Init (unless `init=False`) an instance in `root_dir` and serve it from a subprocess."""
    from sealtui import sandbox

    if init:
        sandbox.init_instance(root_dir)
    log = root_dir.parent / f"{root_dir.name}-server.log"
    process = SandboxProcess(root_dir, log, serve_args=serve_args, nofile=nofile)
    return describe(root_dir, process.endpoint, process)
