"""The local KMS instance ("sandbox"): a server the unmodified Alibaba SDK talks to as to a KMS instance.

Python API (heavy modules load on first use; importing this package is cheap)::

    from sealtui import sandbox

    status = sandbox.init_instance(Path("/tmp/kms"))          # CA, server cert, client key, two keys
    with sandbox.start_in_thread(status.root_dir) as running:  # HTTPS on 127.0.0.1:<free port>
        print(running.endpoint, status.client_key_file, status.password_file, status.ca_file)

`serve()` blocks (the `sealtui sandbox serve` command); the admin functions (`create_key`, `set_key_state`,
`grant`, `revoke`, `put_secret`, `register_client_key`) work on the root directory and are seen at once by a
running server, also one in another process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sealtui.sandbox.models import (
    DEFAULT_KEY_ALIAS,
    KEY_OPERATIONS,
    KEY_SPECS,
    KEY_STATES,
    SECRET_OPERATIONS,
    SIGNING_KEY_ALIAS,
    KeyInfo,
    SandboxStatus,
)

if TYPE_CHECKING:
    from sealtui.sandbox.server import RunningSandbox

__all__ = [
    "DEFAULT_KEY_ALIAS",
    "KEY_OPERATIONS",
    "KEY_SPECS",
    "KEY_STATES",
    "SECRET_OPERATIONS",
    "SIGNING_KEY_ALIAS",
    "KeyInfo",
    "RunningSandbox",
    "SandboxStatus",
    "create_key",
    "grant",
    "init_instance",
    "load_status",
    "put_secret",
    "register_client_key",
    "revoke",
    "serve",
    "set_key_state",
    "start_in_thread",
]


def init_instance(root_dir: Path) -> SandboxStatus:
    """Create a sandbox instance in `root_dir` (which must be absent or empty) and describe it.

    Raises `InvalidInputError` if `root_dir` already holds one.
    """
    from sealtui.sandbox import admin

    return admin.init_instance(root_dir)


def load_status(root_dir: Path, *, hostname: str | None = None, port: int | None = None) -> SandboxStatus:
    """Describe the instance in `root_dir`: endpoint, ids, credential files, keys, whether it is running.

    `endpoint` is what the server last bound (`serve.json`), else the configured one (`hostname`/`port`
    if given, then `KMS_HOSTNAME`/`KMS_PORT`/.env, then `127.0.0.1:9998`).
    """
    from sealtui.sandbox import admin

    return admin.load_status(root_dir, hostname=hostname, port=port)


def serve(root_dir: Path, host: str = "127.0.0.1", port: int = 9998, *, verbose: bool = False) -> None:
    """Serve the instance in `root_dir` on `host:port` until SIGINT/SIGTERM (blocking).

    Writes `<root>/serve.json` with the bound endpoint and prints
    `sealtui sandbox: serving https://<host>:<port> (instance <id>)` on stderr once listening.
    """
    from sealtui.sandbox import server

    server.serve(root_dir, host, port, verbose=verbose)


def start_in_thread(root_dir: Path, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Serve the instance in a daemon thread; returns a handle with `.endpoint` and `.stop()`.

    Binding happens before this returns, so `port=0` gives a free port and errors raise here.
    """
    from sealtui.sandbox import server

    return server.start_in_thread(root_dir, host, port)


def create_key(
    root_dir: Path,
    spec: str = "Aliyun_AES_256",
    *,
    alias: str | None = None,
    state: str = "Active",
    grant_to: Sequence[str] | None = None,
) -> KeyInfo:
    """Create a key of `spec` (`Aliyun_AES_256` or `EC_P256`) in the initial `state`.

    It is granted to the client keys in `grant_to` (default: the instance's own client key; `[]`: none).
    """
    from sealtui.sandbox import admin

    return admin.create_key(root_dir, spec, alias=alias, state=state, grant_to=grant_to)


def set_key_state(root_dir: Path, key: str, state: str) -> KeyInfo:
    """Set the state of a key given by id or alias (one of `KEY_STATES`)."""
    from sealtui.sandbox import admin

    return admin.set_key_state(root_dir, key, state)


def grant(
    root_dir: Path, target: str, client_key_id: str | None = None, operations: Sequence[str] | None = None
) -> str:
    """Let a client key (default: the instance's) run `operations` (default: all) on a key/alias/secret."""
    from sealtui.sandbox import admin

    return admin.grant(root_dir, target, client_key_id, operations)


def revoke(root_dir: Path, target: str, client_key_id: str | None = None) -> str:
    """Remove every permission of a client key (default: the instance's) on a key/alias/secret."""
    from sealtui.sandbox import admin

    return admin.revoke(root_dir, target, client_key_id)


def put_secret(root_dir: Path, name: str, value: bytes | str, *, grant_to: Sequence[str] | None = None) -> str:
    """Store a new version of secret `name` for `GetSecretValue`; returns the new version id."""
    from sealtui.sandbox import admin

    return admin.put_secret(root_dir, name, value, grant_to=grant_to)


def register_client_key(
    root_dir: Path, client_key_file: Path, password_file: Path, *, grant_defaults: bool = True
) -> str:
    """Register an existing client key (e.g. an Alibaba-issued one) and grant it the default keys.

    The password file is raw text or JSON `{"ClientKeyPassword": …}`. Returns the KeyId.
    """
    from sealtui.sandbox import admin

    return admin.register_client_key(root_dir, client_key_file, password_file, grant_defaults=grant_defaults)


def __getattr__(name: str) -> object:
    if name == "RunningSandbox":
        from sealtui.sandbox.server import RunningSandbox

        return RunningSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
