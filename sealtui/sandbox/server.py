"""The HTTPS server: stdlib `http.server` with the details the SDK needs (dkms-protocol.md §1, §8).

- The TLS handshake runs in the connection's worker thread, never in the accept loop, so one slow or broken
  client cannot stall the others (the SDK's async path opens a new TLS connection per call).
- HTTP/1.1 keep-alive with `Content-Length` on every response (the sync path reuses one connection), and
  `TCP_NODELAY` plus headers and body written in one send: otherwise Nagle + delayed ACK add ~40 ms per call.
- On start it writes `<root>/serve.json` with the bound endpoint and holds an flock on `<root>/serve.lock`, so
  `status` knows whether it runs (the kernel drops the lock even on SIGKILL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import fcntl
import http.server
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox import fsutil
from sealtui.sandbox.app import MAX_BODY, KmsApp, Response
from sealtui.sandbox.kmserror import KmsError
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.storage import Storage

__all__ = [
    "RunningSandbox",
    "SandboxServer",
    "endpoint_for",
    "is_serving",
    "read_serve_json",
    "serve",
    "start_in_thread",
]

HANDSHAKE_TIMEOUT = 10.0
_DRAIN_LIMIT = 4 * MAX_BODY
IDLE_TIMEOUT = 120.0
"""Seconds an idle keep-alive connection is kept open."""


def endpoint_for(host: str, port: int) -> str:
    """The `host:port` a client should use; wildcard binds are reached on loopback."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - mapping a wildcard bind to the address clients dial
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT
    server_version = "sealtui-sandbox"
    sys_version = ""
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib access log (`log_call` logs calls when verbose)."""

    def _send(self, response: Response, *, close: bool = False) -> None:
        lines = [
            f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
            f"Server: {self.server_version}",
            f"Date: {email.utils.formatdate(usegmt=True)}",
            "Content-Type: application/x-protobuf",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers.items()),
        ]
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + response.body)  # one send: see the module docstring
        self.server.log_call(self.client_address, response)

    def _refuse(self, err: KmsError, *, close: bool = False) -> None:
        self._send(KmsApp.error(err), close=close)

    def do_POST(self) -> None:
        """Every KMS call: `POST /` with a protobuf body."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._refuse(KmsError(411, "MissingContentLength", "Send the body with a Content-Length."), close=True)
            return
        try:
            length = int(self.headers.get("content-length", "0"))
            if length < 0:
                raise ValueError
        except ValueError:
            self._refuse(KmsError.invalid_parameter("Content-Length is not a number."), close=True)
            return
        if length > MAX_BODY:
            # Read (and drop) a moderately oversized body first: closing with unread data makes the kernel
            # send RST, and the client would see "connection reset" instead of the 413.
            if length <= _DRAIN_LIMIT:
                self._discard(length)
            self._refuse(KmsError.body_too_large(length, MAX_BODY), close=True)
            return
        body = self.rfile.read(length) if length else b""
        if len(body) != length:  # the client went away mid-body
            self.close_connection = True
            return
        if self.path.split("?", 1)[0] != "/":
            self._refuse(KmsError(404, "NotFound", f'The path "{self.path}" does not exist; use POST /.'))
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        self._send(self.server.app.handle(headers, body))

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return
            length -= len(chunk)

    def _not_allowed(self) -> None:
        err = KmsError(405, "MethodNotAllowed", f"{self.command} is not supported; use POST /.")
        self._refuse(err, close=True)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 32+ clients connecting at once must not overflow the backlog

    def __init__(self, address: tuple[str, int], app: KmsApp, context: ssl.SSLContext, verbose: bool) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.context = context
        self.verbose = verbose
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can hang offline: skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's thread: TLS handshake first, then the HTTP handler."""
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            if self.verbose:
                sys.stderr.write(f"sealtui sandbox: TLS handshake with {client_address[0]} failed: {e}\n")
            return
        with self._live_lock:
            self._live.add(conn)
        try:
            _Handler(conn, client_address, self)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass  # the client went away; nothing to answer
        finally:
            with self._live_lock:
                self._live.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._live_lock:
            live = list(self._live)
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def log_call(self, client_address: Any, response: Response) -> None:
        if self.verbose:
            what = response.api_name or "-"
            outcome = response.error_code or "OK"
            sys.stderr.write(
                f"sealtui sandbox: {client_address[0]} {what} {response.client_key_id or '-'} "
                f"{response.status} {outcome}\n"
            )


class SandboxServer:
    """A bound (not yet serving) sandbox server for one root directory."""

    def __init__(self, root_dir: Path, host: str, port: int, *, verbose: bool = False) -> None:
        self.layout = Layout(Path(root_dir).expanduser().absolute())
        self.storage = Storage(self.layout.root)
        try:
            self.kms_instance_id = self.storage.get_meta("kms_instance_id") or ""
            if not self.kms_instance_id:
                raise InvalidInputError(
                    f"{self.layout.root} holds an incomplete sandbox instance (init was interrupted)",
                    fix="remove the directory and run `sealtui sandbox init` again",
                )
            self._lock_fd = self._acquire_lock()
            try:
                self.httpd = self._bind(host, port, verbose)
            except BaseException:
                os.close(self._lock_fd)
                raise
        except BaseException:
            self.storage.close()
            raise
        self.host, self.port = host, int(self.httpd.server_address[1])
        self.endpoint = endpoint_for(host, self.port)
        self._write_serve_json()

    def _bind(self, host: str, port: int, verbose: bool) -> _HTTPServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.layout.server_chain, self.layout.server_key)
        except (OSError, ssl.SSLError) as e:
            raise InvalidInputError(
                f"cannot load the server certificate from {self.layout.pki_dir}: {e}",
                fix="the instance's pki/ directory is damaged: create a new instance with `sealtui sandbox init`",
            ) from None
        try:
            return _HTTPServer((host, port), KmsApp(self.storage), context, verbose)
        except OSError as e:
            raise InvalidInputError(
                f"cannot listen on {host}:{port}: {e.strerror}",
                fix="choose another --port (0 picks a free one) or stop what is using it",
            ) from None

    def _acquire_lock(self) -> int:
        fd = os.open(self.layout.serve_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            where = read_serve_json(self.layout).get("endpoint", "an unknown endpoint")
            raise InvalidInputError(
                f"a sandbox server is already serving {self.layout.root} at {where}",
                fix="use that server, or stop it first",
            ) from None
        return fd

    def _write_serve_json(self) -> None:
        info = {
            "endpoint": self.endpoint,
            "host": self.host,
            "port": self.port,
            "pid": os.getpid(),
            "kms_instance_id": self.kms_instance_id,
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        fsutil.write_private_atomic(self.layout.serve_json, (json.dumps(info, indent=2) + "\n").encode())

    def announce(self) -> None:
        """Print the one-line "serving" message on stderr."""
        sys.stderr.write(f"sealtui sandbox: serving https://{self.endpoint} (instance {self.kms_instance_id})\n")
        sys.stderr.flush()

    def serve_forever(self) -> None:
        """Serve until `shutdown()` is called from another thread."""
        self.httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop `serve_forever` (call from another thread)."""
        self.httpd.shutdown()

    def close(self) -> None:
        """Close the listening socket and every connection, release the lock."""
        self.httpd.server_close()
        self.httpd.close_connections()
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
        self.storage.close()


def read_serve_json(layout: Layout) -> dict[str, Any]:
    """The content of `serve.json`, or {} if there is none (or it is unreadable)."""
    try:
        data = json.loads(layout.serve_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_serving(layout: Layout) -> bool:
    """Whether some process holds the serve lock of this root directory."""
    try:
        fd = os.open(layout.serve_lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def serve(root_dir: Path, host: str = "127.0.0.1", port: int = 9998, *, verbose: bool = False) -> None:
    """Serve `root_dir` on `host:port` until interrupted (SIGINT or SIGTERM), blocking.

    Writes `<root>/serve.json` with the bound endpoint and prints
    `sealtui sandbox: serving https://<host>:<port> (instance <id>)` on stderr once listening.
    """
    import signal

    server = SandboxServer(root_dir, host, port, verbose=verbose)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    server.announce()
    try:
        server.serve_forever()
    finally:
        server.close()


class RunningSandbox:
    """A sandbox server running in a background thread of this process (for the TUI and tests)."""

    def __init__(self, server: SandboxServer) -> None:
        self._server = server
        self.endpoint = server.endpoint
        """`127.0.0.1:<port>`: what to give the SDK as `Config.endpoint`."""
        self.root_dir = server.layout.root
        self.kms_instance_id = server.kms_instance_id
        self._thread = threading.Thread(target=server.serve_forever, name="sealtui-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every connection; idempotent."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
            self._server.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(root_dir: Path, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Bind now (errors raise here) and serve in a daemon thread."""
    return RunningSandbox(SandboxServer(root_dir, host, port))
