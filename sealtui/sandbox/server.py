"""The HTTPS server of the local KMS: an accept loop, a thread per connection, and the limits (DESIGN §5).

- Each connection (`connection.py`) runs in its own thread with a blocking TLS socket: the handshake happens
  there, never in the accept loop, so one slow or broken client cannot stall the others.
- At most `Limits.max_connections` connections are served at once, kept below the process's file-descriptor
  limit. A few more are answered `Rejected.Throttling` (the SDK backs off and retries); past those, new
  connections are closed at once. If `accept` still runs out of descriptors, the loop pauses instead of
  spinning.
- On start it checks the database (`PRAGMA quick_check`), writes `<root>/serve.json` with the bound endpoint
  and holds an flock on `<root>/serve.lock`, so `status` knows whether it runs (the kernel drops the lock even
  on SIGKILL).

Why threads and not asyncio/aiohttp: measured with the lean clients of `bench/kms.py`, aiohttp's server (through
asyncio's pure-Python TLS layer) spent 140-290 µs of CPU per request before any KMS work, as much as the whole
plain stdlib HTTPS floor; blocking TLS sockets in threads with httptools spent 40-70 µs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import resource
import socket
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError, SealtuiError
from sealtui.sandbox import fsutil
from sealtui.sandbox.app import KmsApp, Response
from sealtui.sandbox.connection import BodyBudget, Connection, Limits
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.pkikeys import seal_legacy_keys, server_key_password
from sealtui.sandbox.storage import Storage

__all__ = [
    "Limits",
    "ListenError",
    "RunningSandbox",
    "SandboxServer",
    "endpoint_for",
    "is_serving",
    "read_serve_json",
    "serve",
    "start_in_thread",
]

REFUSAL_SLOTS = 8
"""Connections over the limit that still get a polite `Rejected.Throttling` answer."""
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ListenError(SealtuiError):
    """The local KMS cannot listen where it was asked to (the port is taken, or not allowed)."""

    exit_code = 5


def endpoint_for(host: str, port: int) -> str:
    """The `host:port` a client should use; wildcard binds are reached on loopback."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - mapping a wildcard bind to the address clients dial
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connection_cap(wanted: int) -> int:
    """`wanted`, lowered so that the connections (and the refusal slots) stay below the descriptor limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    reserve = max(32, soft // 4)  # the database, the log, the listening socket, the Python runtime
    return max(1, min(wanted, soft - reserve - REFUSAL_SLOTS))


def _listen_error(host: str, port: int, e: OSError) -> ListenError:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if e.errno == errno.EADDRINUSE:
        return ListenError(
            f"cannot listen on {where}: the port is already in use",
            fix=f"stop what is using port {port}, or choose another with --port PORT (or KMS_PORT); "
            "--port 0 picks a free one",
        )
    if e.errno == errno.EACCES:
        return ListenError(f"cannot listen on {where}: permission denied", fix="use a port above 1023 (--port PORT)")
    if e.errno == errno.EADDRNOTAVAIL:
        return ListenError(
            f"cannot listen on {where}: the address is not one of this machine's",
            fix="use --hostname 127.0.0.1 (or an address of this machine)",
        )
    return ListenError(f"cannot listen on {where}: {e.strerror}", fix="choose another --hostname or --port")


class SandboxServer:
    """A bound (not yet serving) sandbox server for one root directory."""

    def __init__(
        self,
        root_dir: Path,
        host: str,
        port: int,
        *,
        verbose: bool = False,
        key_dir: Path | None = None,
        allow_chosen_iv: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.layout = Layout(Path(root_dir).expanduser().absolute())
        self.verbose = verbose
        self.limits = limits or Limits()
        self.max_connections = connection_cap(self.limits.max_connections)
        self.storage = Storage(self.layout.root, key_dir=key_dir)
        try:
            self.storage.quick_check()  # first: a damaged page can make the instance look incomplete
            self.kms_instance_id = self.storage.get_meta("kms_instance_id") or ""
            if not self.kms_instance_id:
                raise InvalidInputError(
                    f"{self.layout.root} holds an incomplete sandbox instance (init was interrupted)",
                    fix="remove the directory and run `sealtui sandbox init` again",
                )
            self._lock_fd = self._acquire_lock()
            try:
                context = self._tls_context()
                self._sock = self._bind(host, port)
            except BaseException:
                os.close(self._lock_fd)
                raise
        except BaseException:
            self.storage.close()
            raise
        self.app = KmsApp(self.storage, allow_chosen_iv=allow_chosen_iv)
        self._context = context
        self._budget = BodyBudget(self.limits.body_budget)
        self._stopping = threading.Event()
        self._count_lock = threading.Lock()
        self._active = 0
        self._refusing = 0
        self._live: set[Connection] = set()
        self._threads: set[threading.Thread] = set()
        self._last_limit_note = 0.0
        self.host, self.port = host, int(self._sock.getsockname()[1])
        self.endpoint = endpoint_for(host, self.port)
        self._write_serve_json()

    def _tls_context(self) -> ssl.SSLContext:
        master = self.storage.master
        seal_legacy_keys(self.layout, master)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.options |= ssl.OP_NO_RENEGOTIATION
        try:
            context.load_cert_chain(self.layout.server_chain, self.layout.server_key, server_key_password(master))
        except (OSError, ssl.SSLError) as e:
            raise InvalidInputError(
                f"cannot load the server certificate from {self.layout.pki_dir}: {e}",
                fix="the instance's pki/ directory (or its master key) is damaged: create a new instance "
                "with `sealtui sandbox init`",
            ) from None
        return context

    def _bind(self, host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)  # 32+ clients connecting at once must not overflow the backlog
        except OSError as e:
            sock.close()
            raise _listen_error(host, port, e) from None
        sock.settimeout(0.2)  # how often the accept loop looks at the stop flag
        return sock

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

    # the accept loop

    def serve_forever(self) -> None:
        """Accept connections until `shutdown()` is called from another thread."""
        while not self._stopping.is_set():
            try:
                raw, address = self._sock.accept()
            except TimeoutError:
                continue
            except OSError as e:
                if self._stopping.is_set():
                    break
                if e.errno in _OUT_OF_DESCRIPTORS:
                    self._note_limit("the process has no file descriptor left")
                    self._stopping.wait(0.5)  # the pending connection waits in the backlog; never spin
                continue
            self._dispatch(raw, str(address[0]))

    def _dispatch(self, raw: socket.socket, peer: str) -> None:
        with self._count_lock:
            if self._active < self.max_connections:
                self._active += 1
                refuse = False
            elif self._refusing < REFUSAL_SLOTS:
                self._refusing += 1
                refuse = True
            else:
                raw.close()
                self._note_limit(f"{self._active} connections are open (the limit)")
                return
        if refuse:
            self._note_limit(f"{self._active} connections are open (the limit)")
        conn = Connection(raw, peer, self._context, self.app, self.limits, self._budget, self._log_call, refuse)
        thread = threading.Thread(target=self._run, args=(conn, refuse), name="sealtui-sandbox-conn", daemon=True)
        with self._count_lock:
            self._live.add(conn)
            self._threads.add(thread)
        try:
            thread.start()
        except RuntimeError:  # no thread can be started: refuse this one
            self._release(conn, thread, refuse)
            raw.close()

    def _run(self, conn: Connection, refuse: bool) -> None:
        try:
            conn.run()
        finally:
            self._release(conn, threading.current_thread(), refuse)

    def _release(self, conn: Connection, thread: threading.Thread, refuse: bool) -> None:
        with self._count_lock:
            self._live.discard(conn)
            self._threads.discard(thread)
            if refuse:
                self._refusing -= 1
            else:
                self._active -= 1

    def _note_limit(self, what: str) -> None:
        now = time.monotonic()
        if now - self._last_limit_note >= 10:  # once in a while: an attack must not flood the log
            self._last_limit_note = now
            sys.stderr.write(f"sealtui sandbox: {what}; refusing new connections for now\n")

    def _log_call(self, peer: str, response: Response) -> None:
        if self.verbose:
            what = response.api_name or "-"
            outcome = response.error_code or "OK"
            sys.stderr.write(
                f"sealtui sandbox: {peer} {what} {response.client_key_id or '-'} {response.status} {outcome}\n"
            )

    def open_connections(self) -> int:
        """Connections being served or refused right now."""
        with self._count_lock:
            return self._active + self._refusing

    def shutdown(self) -> None:
        """Make `serve_forever` return (call from another thread)."""
        self._stopping.set()

    def close(self) -> None:
        """Close the listening socket and every connection, release the lock."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._count_lock:
            live, threads = list(self._live), list(self._threads)
        for conn in live:
            conn.shutdown()
        deadline = time.monotonic() + 2.0
        for thread in threads:  # woken by the shutdown above; let them finish before the storage closes
            thread.join(max(0.0, deadline - time.monotonic()))
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


def serve(
    root_dir: Path,
    host: str = "127.0.0.1",
    port: int = 9998,
    *,
    verbose: bool = False,
    key_dir: Path | None = None,
    allow_chosen_iv: bool = False,
    limits: Limits | None = None,
) -> None:
    """Serve `root_dir` on `host:port` until interrupted (SIGINT or SIGTERM), blocking.

    Writes `<root>/serve.json` with the bound endpoint and prints
    `sealtui sandbox: serving https://<host>:<port> (instance <id>)` on stderr once listening.
    """
    import signal

    server = SandboxServer(
        root_dir, host, port, verbose=verbose, key_dir=key_dir, allow_chosen_iv=allow_chosen_iv, limits=limits
    )

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

    def open_connections(self) -> int:
        """Connections being served or refused right now (for tests of the limits)."""
        return self._server.open_connections()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    root_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    key_dir: Path | None = None,
    allow_chosen_iv: bool = False,
    limits: Limits | None = None,
) -> RunningSandbox:
    """Bind now (errors raise here) and serve in a daemon thread."""
    server = SandboxServer(root_dir, host, port, key_dir=key_dir, allow_chosen_iv=allow_chosen_iv, limits=limits)
    return RunningSandbox(server)
