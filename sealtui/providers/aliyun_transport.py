"""HTTP/1.1 for the SDK's requests to a KMS instance, on kept-alive TLS connections, parsed by httptools.

The SDK builds, signs and sends each request itself (`Tea.core.TeaCore.do_action`, then a `requests.Session`);
`aliyun_sdk.InstanceTrustAdapter` is the adapter of that session and hands the requests of sealtui's calls here.
Only the bytes on the wire are sent and read differently: requests and urllib3 (with `http.client`'s
email-based header parser) were ~0.3 ms of the ~0.8 ms of client CPU of each call, half of what bulk sealing
spends beside the floor's work. What this layer does is what urllib3 did for these requests: the same request line
and headers (`Accept-Encoding: identity` added, as `http.client` adds it), one TLS connection per request in
flight, kept alive and reused (one that the server closed meanwhile is dropped first, as urllib3 checks), the
connect and read timeouts, and the same kinds of errors (`requests.exceptions`: `ConnectTimeout`, `ReadTimeout`,
`SSLError`, `ConnectionError`, with the underlying error's text, which `aliyun_errors` reads), which the SDK
retries as before. Anything else (a proxy, another method, a streamed body) goes through urllib3 as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
import weakref
import zlib
from typing import Any
from urllib.parse import urlsplit

import httptools
from requests import PreparedRequest, Response
from requests.exceptions import ConnectionError, ConnectTimeout, ReadTimeout, SSLError
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

__all__ = ["KeepAliveTransport", "handles"]


def handles(request: PreparedRequest, stream: bool, cert: Any, proxies: Any) -> bool:
    """Whether this transport sends `request` (what the SDK sends to a KMS instance), else urllib3 does."""
    return (request.method == "POST" and not stream and cert is None and not proxies
            and isinstance(request.body, bytes) and (request.url or "").startswith("https://"))  # fmt: skip


class _Answer:
    """httptools' callbacks: one response (1xx interim responses are skipped)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.done = False
        self.keep_alive = False

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.parser.get_status_code() < 200:  # an interim response: the real one follows
            self.reason, self.headers, self.body = b"", [], []
        else:
            self.done = True
            self.keep_alive = self.parser.should_keep_alive()  # llhttp says it only until the next message


class _Connection:
    def __init__(self, host: str, port: int, context: ssl.SSLContext, timeout: float | None) -> None:
        try:
            raw = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise ConnectTimeout(f"Connection to {host}:{port} timed out. (connect timeout={timeout})") from None
        except socket.gaierror as e:
            raise ConnectionError(f"Failed to resolve '{host}' ({e})") from None
        except OSError as e:
            raise ConnectionError(f"Failed to establish a new connection to {host}:{port}: {e}") from None
        try:
            self.sock = context.wrap_socket(raw, server_hostname=host)
        except TimeoutError:
            raw.close()
            raise ConnectTimeout(f"TLS handshake with {host}:{port} timed out. (connect timeout={timeout})") from None
        except ssl.SSLError as e:
            raw.close()
            raise SSLError(f"TLS with {host}:{port}: {e}") from None
        except OSError as e:
            raw.close()
            raise ConnectionError(f"TLS with {host}:{port}: {e}") from None

    def dropped(self) -> bool:
        """Whether the server closed this idle connection (or sent what nobody asked for): it cannot be reused."""
        try:
            if not select.select([self.sock], [], [], 0)[0] and not self.sock.pending():
                return False
            self.sock.setblocking(False)
            try:
                self.sock.recv(1)
            except (ssl.SSLWantReadError, BlockingIOError):
                return False  # TLS records without data (a session ticket that came after the answer)
            return True  # closed (b""), or data nobody asked for
        except (OSError, ValueError):
            return True

    def exchange(self, data: bytes, timeout: float | None) -> _Answer:
        answer = _Answer()
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(data)
            while not answer.done:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("Connection aborted: the server closed the connection before answering")
                answer.parser.feed_data(chunk)
        except TimeoutError:
            raise ReadTimeout(f"Read timed out. (read timeout={timeout})") from None
        except ssl.SSLError as e:
            raise SSLError(f"TLS: {e}") from None
        except httptools.HttpParserError as e:
            raise ConnectionError(f"the answer is not HTTP/1.1: {e}") from None
        except OSError as e:
            raise ConnectionError(f"Connection aborted: {e}") from None
        return answer

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class KeepAliveTransport:
    """Sends the SDK's requests; keeps the connections of one adapter (idle ones, per host, port and TLS context)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int, int], list[_Connection]] = {}
        self._lock = threading.Lock()
        _TRANSPORTS.add(self)

    def _forget(self) -> None:
        """In a forked child: the idle connections are the parent's (one TLS session cannot serve two processes)."""
        self._lock = threading.Lock()
        for conns in self._idle.values():
            for conn in conns:
                with contextlib.suppress(OSError):
                    os.close(conn.sock.detach())  # this process's descriptor only; the parent's session goes on
        self._idle = {}

    def send(self, request: PreparedRequest, context: ssl.SSLContext, timeout: Any, adapter: Any) -> Response:
        url = urlsplit(request.url or "")
        host, port = url.hostname or "", url.port or 443
        connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        key = (host, port, id(context))
        conn = self._take(key)
        if conn is None:
            conn = _Connection(host, port, context, connect_timeout)
        try:
            answer = conn.exchange(_request_bytes(request, url), read_timeout)
        except BaseException:
            conn.close()
            raise
        if answer.keep_alive:
            with self._lock:
                self._idle.setdefault(key, []).append(conn)
        else:
            conn.close()
        return _response(request, answer, adapter)

    def _take(self, key: tuple[str, int, int]) -> _Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None or not conn.dropped():
                return conn
            conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


_TRANSPORTS: weakref.WeakSet[KeepAliveTransport] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for transport in list(_TRANSPORTS):
        transport._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _request_bytes(request: PreparedRequest, url: Any) -> bytes:
    headers = request.headers
    names = {k.lower() for k in headers}
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    lines = [f"{request.method} {target} HTTP/1.1\r\n"]
    if "host" not in names:
        lines.append(f"Host: {url.netloc}\r\n")
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity\r\n")
    for k, v in headers.items():  # str or bytes, as http.client takes them
        lines.append(f"{_text(k)}: {_text(v)}\r\n")
    lines.append("\r\n")
    body = request.body
    assert isinstance(body, bytes)
    return "".join(lines).encode("latin-1") + body


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _response(request: PreparedRequest, answer: _Answer, adapter: Any) -> Response:
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in answer.headers:
        k, v = name.decode("latin-1"), value.decode("latin-1")
        headers[k] = f"{headers[k]}, {v}" if k in headers else v  # repeated headers joined, as urllib3 does
    body = b"".join(answer.body)
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate") and body:  # never asked for (identity), decoded as urllib3 would
        try:
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
        except zlib.error as e:
            raise ConnectionError(f"the answer's {encoding} body does not decode: {e}") from None
    r = Response()
    r.status_code = answer.parser.get_status_code()
    r.reason = answer.reason.decode("latin-1")
    r.headers = headers
    r._content = body
    r.encoding = get_encoding_from_headers(headers)
    r.url = request.url or ""
    r.request = request
    r.connection = adapter
    return r
