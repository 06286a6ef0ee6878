"""The local KMS instance ("sandbox"): a server the unmodified Alibaba SDK talks to as to a KMS instance.

Python API (heavy modules load on first use; importing this package is cheap)::

    from sealtui import sandbox

    status = sandbox.init_instance(Path("/tmp/kms"))          # CA, server cert, client key, two keys
    with sandbox.start_in_thread(status.root_dir) as running:  # HTTPS on 127.0.0.1:<free port>
        print(running.endpoint, status.client_key_file, status.password_file, status.ca_file)

`serve()` blocks (the `sealtui sandbox serve` command); the admin functions (`create_key`, `set_key_state`,
`grant`, `revoke`, `put_secret`, `register_client_key`) work on the root directory and are seen at once by a
running server, also one in another process. The instance's master key lives outside the root directory
(`key_dir=`, default `$KMS_MASTER_KEY_DIR` or `$XDG_CONFIG_HOME/sealtui/local-kms`); `Limits` bounds what each
client may make the server hold (`start_in_thread(..., limits=Limits(...))`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    from sealtui.sandbox.admin import (
        create_key,
        grant,
        init_instance,
        load_status,
        put_secret,
        register_client_key,
        revoke,
        set_key_state,
    )
    from sealtui.sandbox.connection import Limits
    from sealtui.sandbox.server import RunningSandbox, serve, start_in_thread

__all__ = [
    "DEFAULT_KEY_ALIAS",
    "KEY_OPERATIONS",
    "KEY_SPECS",
    "KEY_STATES",
    "SECRET_OPERATIONS",
    "SIGNING_KEY_ALIAS",
    "KeyInfo",
    "Limits",
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

_LAZY: dict[str, str] = {
    "init_instance": "sealtui.sandbox.admin",
    "load_status": "sealtui.sandbox.admin",
    "create_key": "sealtui.sandbox.admin",
    "set_key_state": "sealtui.sandbox.admin",
    "grant": "sealtui.sandbox.admin",
    "revoke": "sealtui.sandbox.admin",
    "put_secret": "sealtui.sandbox.admin",
    "register_client_key": "sealtui.sandbox.admin",
    "serve": "sealtui.sandbox.server",
    "start_in_thread": "sealtui.sandbox.server",
    "RunningSandbox": "sealtui.sandbox.server",
    "Limits": "sealtui.sandbox.connection",
}
"""Public name → the module defining it, imported on first use (the server and the PKI are heavy)."""


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'sealtui.sandbox' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
