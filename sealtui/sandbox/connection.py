"""One client connection of the local KMS server: TLS, HTTP/1.1 framing and the limits on what a client may hold.

A connection runs in its own thread with a blocking TLS socket (OpenSSL does the record work with the GIL
released). Request heads are parsed by `httptools` (llhttp, the parser of Node.js), a strict C parser.

What a client that has not proven it holds a client key can make the server hold is bounded:
- the TLS handshake and the first request head must arrive within `header_timeout` of the connection;
- a request head is at most `max_head` bytes and must be complete `header_timeout` after its first byte, the
  whole request (body included) `request_timeout` after it;
- the body is read only after the head has shown a correctly signed request (the signature covers
  `content-sha256`, not the body: see `auth`) with a `Content-Length` of at most `max_body`, and the bodies
  being read at once share a budget of `body_budget` bytes;
- a request refused before its signature verified is answered and the connection closed; only a connection
  whose last request verified is kept open (up to `idle_timeout`) for the next one, as the SDK expects.
"""

from __future__ import annotations

import contextlib
import email.utils
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

import httptools

from sealtui.sandbox.app import MAX_BODY, KmsApp, Response
from sealtui.sandbox.kmserror import KmsError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BodyBudget", "Connection", "Limits"]

_RECV = 16 * 1024 + 64
"""One TLS record at most: larger reads only allocate more."""
_DRAIN_LIMIT = 64 * 1024
"""A refused request's body up to this size is read and dropped, so that closing does not reset the answer."""


@dataclass(frozen=True)
class Limits:
    """What one client may make the server wait for or hold (seconds and bytes)."""

    header_timeout: float = 10.0
    """From the connection to its first complete request head (TLS handshake included), and from the first
    byte of any later request to its complete head."""
    request_timeout: float = 30.0
    """From a request's first byte to its complete body."""
    idle_timeout: float = 60.0
    """How long a connection whose last request verified may wait for its next one."""
    max_head: int = 16 * 1024
    """Bytes of request line and headers (the SDK sends about 800)."""
    max_body: int = MAX_BODY
    """Larger bodies get 413 (dkms-protocol.md §2.2)."""
    body_budget: int = 32 * 1024 * 1024
    """Bytes of request bodies held at once, all connections together; past it a request waits, then gets 503."""
    max_connections: int = 256
    """Connections served at once; the server lowers it below its file-descriptor limit."""


class BodyBudget:
    """The bytes of request bodies the server holds at once, shared by every connection."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._cond = threading.Condition()

    def take(self, size: int, deadline: float) -> bool:
        """Reserve `size` bytes, waiting until `deadline` (monotonic) at most; False if they never came free."""
        with self._cond:
            while self._free < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            self._free -= size
            return True

    def give(self, size: int) -> None:
        with self._cond:
            self._free += size
            self._cond.notify_all()


class _Closed(Exception):
    """The client went away, broke the protocol beyond an answer, or ran out of time."""


class _Head:
    """The request line and headers, as httptools reports them (first value of each header, lower-case)."""

    def __init__(self) -> None:
        self.url = b""
        self.headers: dict[str, str] = {}

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1").strip())


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


class Connection:
    """Serves the requests of one accepted TCP connection until it closes (call `run` in its own thread)."""

    def __init__(
        self,
        raw: socket.socket,
        peer: str,
        context: ssl.SSLContext,
        app: KmsApp,
        limits: Limits,
        budget: BodyBudget,
        log_call: Callable[[str, Response], None],
        refuse: bool = False,
    ) -> None:
        self._raw = raw
        self._peer = peer
        self._context = context
        self._app = app
        self._limits = limits
        self._budget = budget
        self._log_call = log_call
        self._refuse = refuse
        """Over the connection limit: answer the first request with `Rejected.Throttling` and close."""
        self._sock: ssl.SSLSocket | None = None
        self._buffer = b""

    def shutdown(self) -> None:
        """Wake a blocked read or write and make the connection end (from another thread)."""
        with contextlib.suppress(OSError):  # after the handshake the raw socket object is detached
            (self._sock or self._raw).shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        """Handshake, then serve requests until the client closes, breaks a limit or is refused."""
        start = time.monotonic()
        try:
            self._raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._raw.settimeout(self._limits.header_timeout)
            # One deadline for the whole handshake: CPython's ssl applies the socket timeout to it as a whole.
            sock = self._context.wrap_socket(self._raw, server_side=True)
            self._sock = sock
            first_byte_by = head_by = start + self._limits.header_timeout
            while self._serve_one(first_byte_by, head_by):
                first_byte_by, head_by = time.monotonic() + self._limits.idle_timeout, 0.0
        except (_Closed, OSError, ValueError):
            pass  # gone, too slow or broken: nothing more to say to it
        finally:
            with contextlib.suppress(OSError):
                (self._sock or self._raw).close()

    # reading

    def _recv_some(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Closed
        assert self._sock is not None
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(_RECV)
        except TimeoutError:
            raise _Closed from None
        if not data:
            raise _Closed
        return data

    def _recv(self, deadline: float) -> None:
        self._buffer += self._recv_some(deadline)

    def _read_head(self, first_byte_by: float, head_by: float) -> tuple[bytes, float]:
        """The raw head (up to the blank line) and the time its first byte arrived."""
        if not self._buffer:
            self._recv(first_byte_by)
        started = time.monotonic()
        if not head_by:
            head_by = started + self._limits.header_timeout
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > self._limits.max_head:
                self._answer(KmsError(431, "RequestHeaderFieldsTooLarge", "The request head is too large."))
                raise _Closed
            self._recv(head_by)
        if end + 4 > self._limits.max_head:
            self._answer(KmsError(431, "RequestHeaderFieldsTooLarge", "The request head is too large."))
            raise _Closed
        head, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
        return head, started

    def _read_body(self, length: int, deadline: float) -> bytes:
        if len(self._buffer) >= length:
            body, self._buffer = self._buffer[:length], self._buffer[length:]
            return body
        body_so_far = bytearray(self._buffer)  # grows in place: no quadratic copying of a large body
        self._buffer = b""
        while len(body_so_far) < length:
            body_so_far += self._recv_some(deadline)
        self._buffer = bytes(body_so_far[length:])
        del body_so_far[length:]
        return bytes(body_so_far)

    def _drop_body(self, length: int, deadline: float, limit: int = _DRAIN_LIMIT) -> None:
        """Read and forget a refused request's body (up to `limit` bytes), so that closing does not reset the
        answer before the client reads it."""
        if length > limit:
            return
        left = length - len(self._buffer)
        self._buffer = b""
        with contextlib.suppress(_Closed, OSError):
            while left > 0:
                left -= len(self._recv_some(deadline))

    # one request

    def _serve_one(self, first_byte_by: float, head_by: float) -> bool:
        """Serve one request; True if the connection stays open for another."""
        raw_head, started = self._read_head(first_byte_by, head_by)
        request_by = started + self._limits.request_timeout
        head = _Head()
        parser = httptools.HttpRequestParser(head)
        try:
            parser.feed_data(raw_head)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._answer(KmsError(400, "BadRequest", "The request is not valid HTTP/1.1."))
            return False
        headers = head.headers
        length_text = headers.get("content-length", "0")
        if "transfer-encoding" in headers:
            self._answer(KmsError(411, "MissingContentLength", "Send the body with a Content-Length."))
            return False
        if not length_text.isdigit() or len(length_text) > 12:
            self._answer(KmsError.invalid_parameter("Content-Length is not a number."))
            return False
        length = int(length_text)
        if self._refuse:
            self._drop_body(length, request_by)
            self._answer(KmsError(429, "Rejected.Throttling", "QPS Limit Exceeded"))
            return False
        method = parser.get_method()
        if method != b"POST":
            self._drop_body(length, request_by)
            err = KmsError(405, "MethodNotAllowed", f"{method.decode('latin-1')} is not supported; use POST /.")
            self._answer(err)
            return False
        path = head.url.split(b"?", 1)[0]
        if path != b"/":
            self._drop_body(length, request_by)
            url = head.url.decode("latin-1")
            self._answer(KmsError(404, "NotFound", f'The path "{url}" does not exist; use POST /.'))
            return False
        try:
            client_key_id = self._app.check_head(headers)
        except KmsError as e:
            self._drop_body(length, request_by)
            self._answer(e, api_name=headers.get("x-kms-apiname", ""))
            return False
        if length > self._limits.max_body:
            # A signed request: worth reading (and dropping) a moderately oversized body for a readable 413.
            self._drop_body(length, request_by, limit=4 * self._limits.max_body)
            self._answer(KmsError.body_too_large(length, self._limits.max_body))
            return False
        if not self._budget.take(length, request_by):
            self._answer(KmsError(503, "ServiceUnavailableTemporary", "Service Unavailable Temporary."))
            return False
        try:
            if headers.get("expect", "").lower() == "100-continue":
                self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = self._read_body(length, request_by)
            response = self._app.run(headers, body, client_key_id)
        finally:
            self._budget.give(length)
        keep_open = bool(response.client_key_id) and parser.should_keep_alive()
        self._send(response, close=not keep_open)
        return keep_open

    # writing

    def _answer(self, err: KmsError, api_name: str = "") -> None:
        """Send a refusal and mark it as the last answer on this connection."""
        response = KmsApp.error(err)
        response.api_name = api_name
        with contextlib.suppress(_Closed, OSError):
            self._send(response, close=True)

    def _send(self, response: Response, *, close: bool) -> None:
        lines = [
            f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
            "Server: sealtui-sandbox",
            f"Date: {_http_date()}",
            "Content-Type: application/x-protobuf",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers.items()),
        ]
        if close:
            lines.append("Connection: close")
        # Head and body in one send: otherwise Nagle + delayed ACK add ~40 ms per call (dkms-protocol.md §1.5).
        self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
        self._log_call(self._peer, response)

    def _write(self, data: bytes) -> None:
        assert self._sock is not None
        self._sock.settimeout(self._limits.request_timeout)
        self._sock.sendall(data)
