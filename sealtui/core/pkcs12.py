"""Parse an untrusted PKCS#12 in a short-lived child process, so that an OpenSSL crash cannot take sealtui down.

cryptography 41.0.7 (the newest the SDK's pyOpenSSL < 23.3 pin allows) bundles OpenSSL 3.1.4, which dereferences
NULL on a PKCS#12 with MacData and an authSafe without content (CVE-2024-0727): a crafted `clientKey_*.json` would
kill the process with SIGSEGV. A PKCS#12 with a huge MAC iteration count would hang it. So the parse runs in a
child, and a child killed by a signal, or still running after `TIMEOUT_SECONDS`, becomes `Pkcs12Crash`.

The child is made in one of two ways:

- **fork**, when this process runs a single thread (the CLI): the child already has cryptography loaded, so the
  containment costs a few milliseconds. A forked child of a *threaded* process may block forever on a lock some
  other thread held at the fork (POSIX allows it only async-signal-safe calls), so:
- **a fresh interpreter** otherwise (the TUI, whose input and worker threads exist), `python -I -S` running this
  file with the parent's `sys.path`: ~50 ms more, on a worker thread.

The child checks the key as `pkcs12.load_key_and_certificates` does (RSA_check_key included) and hands back the
key as PKCS#8 DER and the certificate as DER; the parent loads them without repeating the ~50 ms key check.
`start_pkcs12` returns as soon as the child runs, so that the parent can work meanwhile (a KMS command imports
the SDK while another CPU parses); `load_pkcs12` starts and waits.
This module imports only the standard library at the top, so that it can run as the child's script.
"""

from __future__ import annotations

import base64
import faulthandler
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = ["TIMEOUT_SECONDS", "Pkcs12Crash", "Pkcs12Parse", "load_pkcs12", "start_pkcs12"]

TIMEOUT_SECONDS = 10.0
"""How long a parse may take: ~50 ms normally; a child still running after this is killed."""


class Pkcs12Crash(Exception):
    """Parsing the PKCS#12 killed the child process (a signal) or did not finish in time."""


def load_pkcs12(
    der: bytes, password: bytes, *, how: Literal["auto", "fork", "spawn"] = "auto"
) -> tuple[PrivateKeyTypes | None, x509.Certificate | None]:
    """`pkcs12.load_key_and_certificates(der, password)` in a child process: the key and the certificate.

    Raises `ValueError` with cryptography's message where it would (not PKCS#12, wrong password, …) and
    `Pkcs12Crash` when the parse crashed or hung. `how` forces the kind of child (tests); `auto` forks only when
    this process has a single thread.
    """
    return start_pkcs12(der, password, how=how).result()


def start_pkcs12(der: bytes, password: bytes, *, how: Literal["auto", "fork", "spawn"] = "auto") -> Pkcs12Parse:
    """Start `load_pkcs12` in its child process and return at once: the caller may do other work meanwhile (the
    child runs on another CPU) and then wait with `result()`."""
    if how == "auto":
        how = "fork" if hasattr(os, "fork") and threading.active_count() == 1 else "spawn"
    request = {"der": _b64(der), "password": _b64(password)}
    return Pkcs12Parse(_Fork(request) if how == "fork" else _Spawn(request))


class Pkcs12Parse:
    """A parse running in a child process (`start_pkcs12`). Thread-safe; `result()` may be called more than once."""

    def __init__(self, child: _Fork | _Spawn) -> None:
        self._child: _Fork | _Spawn | None = child
        self._lock = threading.Lock()
        self._outcome: tuple[PrivateKeyTypes | None, x509.Certificate | None] | BaseException | None = None

    def result(self) -> tuple[PrivateKeyTypes | None, x509.Certificate | None]:
        """Wait for the child: the key and the certificate, or the `ValueError`/`Pkcs12Crash` of the parse."""
        with self._lock:
            if self._child is not None:
                child, self._child = self._child, None
                try:
                    self._outcome = _loaded(child.answer())
                except (ValueError, Pkcs12Crash) as e:
                    self._outcome = e
                except BaseException:  # interrupted (the child is gone): other waiters are told so
                    self._outcome = Pkcs12Crash("parsing its PKCS#12 was interrupted")
                    raise
            outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome


def _loaded(answer: dict[str, Any]) -> tuple[PrivateKeyTypes | None, x509.Certificate | None]:
    if "error" in answer:
        raise ValueError(answer["error"])
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = answer.get("key")
    cert = answer.get("certificate")
    return (
        # Checked in the child (RSA_check_key); the DER is OpenSSL's own re-encoding of that key.
        serialization.load_der_private_key(base64.b64decode(key), None, unsafe_skip_rsa_key_validation=True)
        if key else None,
        x509.load_der_x509_certificate(base64.b64decode(cert)) if cert else None,
    )  # fmt: skip


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse(request: dict[str, Any]) -> dict[str, Any]:
    """The child's work: parse, and re-encode what was found (or say what cryptography refused)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, _ = pkcs12.load_key_and_certificates(
            base64.b64decode(request["der"]), base64.b64decode(request["password"])
        )
    except ValueError as e:
        return {"error": str(e)}
    out: dict[str, Any] = {}
    if key is not None:
        out["key"] = _b64(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))  # fmt: skip
    if cert is not None:
        out["certificate"] = _b64(cert.public_bytes(serialization.Encoding.DER))
    return out


def _crash(status: int) -> Pkcs12Crash:
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return Pkcs12Crash(f"parsing its PKCS#12 crashed OpenSSL ({name})")
    return Pkcs12Crash(f"parsing its PKCS#12 failed (the parser exited with status {status})")


def _answer(data: bytes, status: int) -> dict[str, Any]:
    if status != 0:
        raise _crash(status)
    try:
        answer = json.loads(data)
    except ValueError:
        raise Pkcs12Crash("parsing its PKCS#12 gave no usable answer") from None
    if not isinstance(answer, dict):
        raise Pkcs12Crash("parsing its PKCS#12 gave no usable answer")
    return answer


class _Fork:
    """A forked child parsing now; `answer()` collects what it wrote (within `TIMEOUT_SECONDS` of the fork)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.deadline = time.monotonic() + TIMEOUT_SECONDS
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never return into the caller's code, never run its atexit handlers or flushes
            code = 0
            try:
                faulthandler.disable()  # a crash here is expected and reported by the parent: no dump on its stderr
                os.close(r)
                data = json.dumps(_parse(request)).encode("ascii")
                with os.fdopen(w, "wb") as pipe:
                    pipe.write(data)
            except BaseException:
                code = 70  # EX_SOFTWARE
            finally:
                os._exit(code)
        os.close(w)
        self.pid, self.r = pid, r

    def answer(self) -> dict[str, Any]:
        chunks: list[bytes] = []
        status: int | None = None
        try:
            while select.select([self.r], [], [], max(self.deadline - time.monotonic(), 0))[0]:
                chunk = os.read(self.r, 65536)
                if not chunk:  # the child closed the pipe: it is done (or dead)
                    status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
                    break
                chunks.append(chunk)
        finally:
            os.close(self.r)
            if status is None:  # timed out, or interrupted: never leave the child running or unreaped
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        if status is None:
            raise Pkcs12Crash(f"parsing its PKCS#12 did not finish within {TIMEOUT_SECONDS:g} s")
        return _answer(b"".join(chunks), status)


class _Spawn:
    """A fresh interpreter parsing now; `answer()` collects what it wrote (within `TIMEOUT_SECONDS` of the start)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.deadline = time.monotonic() + TIMEOUT_SECONDS
        # -I -S: no user site, no environment, no .pth files (~10 ms): the parent's sys.path finds cryptography.
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        stdin, self.proc.stdin = self.proc.stdin, None  # written here, not by communicate()
        assert stdin is not None
        try:  # a few kB: the pipe takes it all, so the child starts parsing while the caller works
            stdin.write(json.dumps({**request, "sys_path": [p for p in sys.path if p]}).encode("ascii"))
            stdin.close()
        except BrokenPipeError:  # the child died at once: answer() reports its status
            pass

    def answer(self) -> dict[str, Any]:
        try:
            out, _ = self.proc.communicate(timeout=max(self.deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise Pkcs12Crash(f"parsing its PKCS#12 did not finish within {TIMEOUT_SECONDS:g} s") from None
        except BaseException:  # interrupted: never leave the child running or unreaped
            self.proc.kill()
            self.proc.wait()
            raise
        return _answer(out, self.proc.returncode)


def _child_main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    # After the standard library: a parent's script directory may hold modules named like stdlib ones.
    sys.path += [p for p in request.pop("sys_path") if p not in sys.path]
    sys.stdout.write(json.dumps(_parse(request)))


if __name__ == "__main__":
    _child_main()
