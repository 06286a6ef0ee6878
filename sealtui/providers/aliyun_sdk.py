"""The SDK internals the Alibaba provider relies on, in one place: a lean import, and the TLS trust of each call.

This is the only module that imports the SDK (`alibabacloud-dkms-gcs` 1.0.2, `alibabacloud-tea` 0.4.3), and the
only one that knows how it is built inside.

**Import.** `Tea.core`, the SDK's HTTP layer, imports aiohttp (~90 ms idle, ~220 ms under load: it builds two SSL
contexts at import) for its async path, which sealtui never uses (DESIGN §4); it and `alibabacloud_tea_util`
import asyncio (~10 ms) only for `asyncio.sleep` in their async functions. While the SDK is imported, `aiohttp`
and `asyncio` (when not imported yet) are stand-in modules that import the real one the first time one of their
attributes is used. Once the SDK is imported, the stand-ins leave `sys.modules`: anyone else importing them gets
the real module, the usual way, and the SDK's async path still works through the stand-ins it holds. (One race is
left: during those tens of milliseconds, once per process, another thread importing a submodule that
`aiohttp/__init__` imports, say `import aiohttp.client`, for the first time would run it twice. sealtui's
processes that use aiohttp, the browser mode's, never import the SDK; the TUI imports asyncio before the SDK.)

**TLS.** The sync path sends every request through a `requests.Session` that the SDK caches per
`https://host:port` for the whole process (`TeaCore._sessions`). Its adapter has one SSL context that trusts the
system store and certifi, and urllib3 loads every CA file passed for that host:port *into* that context: after a
good call, a wrong CA bundle passes. `InstanceTrustAdapter`, mounted on that session, connects instead with the
SSL context of the `AliyunKms` call running in this thread (set with `sdk_call`), which trusts only that
instance's CA bundle: requests' documented way to give urllib3 an `ssl_context`. urllib3 keys its connection
pools by the context, so a pooled connection verified for one instance is never used for another. Requests sent
outside an `AliyunKms` call (code using the SDK directly) go to the SDK's own adapter, as before.
"""

from __future__ import annotations

import importlib
import ssl
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from requests import PreparedRequest, Response, Session
from requests.adapters import BaseAdapter, HTTPAdapter

__all__ = [
    "Client",
    "Config",
    "InstanceTrust",
    "InstanceTrustAdapter",
    "RuntimeOptions",
    "TeaException",
    "UnretryableException",
    "install_trust_adapter",
    "sdk_call",
    "sdk_models",
]

_stand_in_lock = threading.Lock()


class _StandIn(types.ModuleType):
    """Stands in for a module the SDK imports but sealtui never uses; imports the real one on first use."""

    def __getattr__(self, name: str) -> Any:
        with _stand_in_lock:
            if sys.modules.get(self.__name__) is self:  # first use while the SDK is still being imported
                del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


@contextmanager
def _deferring(*names: str) -> Iterator[None]:
    """Within the block, `import <name>` of a module not yet imported binds a `_StandIn`."""
    stand_ins = {name: _StandIn(name) for name in names if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


with _deferring("aiohttp", "asyncio"):
    from openapi.models import Config
    from openapi_util.models import RuntimeOptions
    from sdk import models as sdk_models
    from sdk.client import Client
    from Tea.core import TeaCore
    from Tea.exceptions import TeaException, UnretryableException


# --- TLS ----------------------------------------------------------------------------------------------------


class InstanceTrust:
    """The TLS trust of one KMS instance: an SSL context trusting only its CA bundle, built once, on first use."""

    def __init__(self, ca_file: Path) -> None:
        self.ca_file = ca_file
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def context(self) -> ssl.SSLContext:
        """The context (TLS 1.2+, certificate and host name checked). Raises `OSError`/`ssl.SSLError` when the
        CA bundle cannot be read; a later call tries again."""
        with self._lock:
            if self._context is None:
                # cafile alone: create_default_context then loads neither the system store nor certifi.
                self._context = ssl.create_default_context(cafile=str(self.ca_file))
            return self._context


@dataclass
class _Call:
    context: ssl.SSLContext
    sent: bool = False
    """Set when `InstanceTrustAdapter` sent a request of this call (with `context`)."""


_current_call: ContextVar[_Call | None] = ContextVar("sealtui_aliyun_call", default=None)


@contextmanager
def sdk_call(context: ssl.SSLContext) -> Iterator[_Call]:
    """Within the block, this thread's SDK requests connect with `context`; `.sent` says whether one was sent."""
    call = _Call(context)
    token = _current_call.set(call)
    try:
        yield call
    finally:
        _current_call.reset(token)


class InstanceTrustAdapter(HTTPAdapter):
    """An adapter for the SDK's session of one host:port: the SSL context of the current `sdk_call`, and only it."""

    def __init__(self, previous: BaseAdapter | None) -> None:
        super().__init__(pool_connections=10, pool_maxsize=40)  # the SDK's own pool sizes
        self._previous = previous
        """The adapter the SDK had mounted, for requests outside an `sdk_call` (None: build the SDK's own)."""
        self._lock = threading.Lock()

    def _sdk_adapter(self, verify: Any) -> BaseAdapter:
        if verify is False:
            return TeaCore.https_adapter  # what the SDK mounts for ignore_ssl
        with self._lock:
            if self._previous is None:
                self._previous = TeaCore.get_adapter("https")  # the system store and certifi: ~95 ms
            return self._previous

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        call = _current_call.get()
        if call is None:
            return self._sdk_adapter(verify).send(request, stream, timeout, verify, cert, proxies)
        call.sent = True
        return super().send(request, stream, timeout, True, cert, proxies)

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, True, cert)
        call = _current_call.get()
        assert call is not None  # send() routes requests outside an sdk_call elsewhere
        pool_kwargs.update(ssl_context=call.context, cert_reqs="CERT_REQUIRED")
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # The context is the whole trust. requests would set the pool's ca_certs (certifi for verify=True), and
        # urllib3 would load that file INTO the context on every new connection.
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


_install_lock = threading.Lock()


def install_trust_adapter(endpoint: str) -> None:
    """Mount `InstanceTrustAdapter` on the SDK's cached session for `endpoint` (once; cheap when done)."""
    # The key TeaCore.do_action computes: f"{protocol}://{host}:{request.port}", host = the endpoint as given
    # (trailing "/" stripped), the port TeaRequest's default 80, which compose_url leaves out of the URL.
    key = f"https://{endpoint.rstrip('/')}:80"
    session = TeaCore._sessions.get(key)
    if session is not None and isinstance(session.adapters.get("https://"), InstanceTrustAdapter):
        return
    with _install_lock:
        session = TeaCore._sessions.get(key)
        previous: BaseAdapter | None = None
        if session is None:
            session = TeaCore._sessions[key] = Session()
        else:
            previous = session.adapters.get("https://")
        if not isinstance(previous, InstanceTrustAdapter):
            session.mount("https://", InstanceTrustAdapter(previous))
