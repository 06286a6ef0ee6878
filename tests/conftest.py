"""Shared fixtures: a running local KMS instance ("sandbox") that the real SDK can talk to over TLS.

`sandbox` (session-scoped) inits an instance in a temporary directory and serves it from a subprocess
(`python -m sealtui sandbox serve --port 0`); it has `root_dir`, `endpoint`, `kms_instance_id`, `client_key_id`,
`credentials_dir`, `ca_file`, `client_key_file`, `password_file`, `default_key_id`, `signing_key_id`.
Tests that change instance-wide state use `fresh_sandbox()` instead: a new instance served in a thread.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator

import pytest

from tests.sandbox_support import SandboxInfo, describe, start_sandbox

# The local KMS keeps each instance's master key outside its state directory, by default under
# ~/.config/sealtui/local-kms: the tests' instances keep theirs in a directory of their own (inherited by the
# server subprocesses), never in the home of whoever runs them.
_KEY_DIR = tempfile.TemporaryDirectory(prefix="sealtui-test-master-keys-")
os.environ.setdefault("KMS_MASTER_KEY_DIR", _KEY_DIR.name)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """A sandbox instance served by a separate process for the whole session."""
    info = start_sandbox(tmp_path_factory.mktemp("sandbox") / "root")
    try:
        yield info
    finally:
        assert info.process is not None
        info.process.kill()


@pytest.fixture
def fresh_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], SandboxInfo]]:
    """A factory of new, isolated sandbox instances, each served in a thread of the test process."""
    from sealtui import sandbox as api

    running: list[api.RunningSandbox] = []

    def make() -> SandboxInfo:
        root = tmp_path_factory.mktemp("fresh-sandbox") / "root"
        api.init_instance(root)
        server = api.start_in_thread(root)
        running.append(server)
        return describe(root, server.endpoint)

    yield make
    for server in running:
        server.stop()
