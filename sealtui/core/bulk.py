"""Seal many values in one run: parse them, seal them in parallel, fail as a whole.

The KMS call of each value runs in a thread pool (the provider's SDK path is synchronous and releases the GIL
on I/O). One failure cancels what has not started and raises an error naming the key, so callers never write a
partial result. Plaintext never appears in an error message.

Sealing a value is mostly Python (the SDK's request path: ~1 ms of CPU against ~0.1 ms of I/O wait), and one
process runs Python on one CPU at a time: with `processes` > 1, the values are shared out between forked
processes, each sealing its share with threads, which use the other CPUs (1,400-1,600 values/s against ~800 with
threads alone, on 2 CPUs otherwise idle). Forking is cheap (the children inherit the imported SDK and the parsed
client key) but safe only from a process running one thread: the CLI. With threads running (the TUI) it is threads
alone. The children report each value (or the error) on a pipe as it is done; the first error stops them all.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import pickle
import select
import signal
import threading
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from sealtui.core.errors import InvalidInputError, ProviderError, SealtuiError

DEFAULT_WORKERS = 8


def parse_env(text: str, source: str = "input") -> dict[str, bytes]:
    """Parse a `.env` file (or KEY=value lines) into key → UTF-8 bytes, with python-dotenv's grammar.

    Quotes, `export`, comments and escapes follow python-dotenv. A line that does not parse is an error that
    names the line, never its content.
    """
    from dotenv.parser import parse_stream

    out: dict[str, bytes] = {}
    line = 1
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise InvalidInputError(f"{source}: line {line} is not KEY=value",
                                    fix="write one KEY=value per line (quotes allowed, # starts a comment)")
        if binding.key is not None:
            if binding.key in out:
                raise InvalidInputError(f"{source}: key {binding.key!r} is given twice (line {line})")
            if binding.value is None:
                raise InvalidInputError(f"{source}: key {binding.key!r} on line {line} has no '=' and no value")
            out[binding.key] = binding.value.encode("utf-8")
        line += binding.original.string.count("\n")
    if not out:
        raise InvalidInputError(f"{source}: no KEY=value lines", fix="give at least one value to seal")
    return out


def seal_many(values: Mapping[str, bytes], seal_one: Callable[[bytes], str], *, workers: int = DEFAULT_WORKERS,
              progress: Callable[[int, int], None] | None = None, processes: int = 1) -> dict[str, str]:
    """Seal every value with `seal_one`, in parallel; return key → sealed string in the input order.

    `workers` values are sealed at a time in all; with `processes` > 1 (and only when forking is safe) they are
    shared between that many processes. Raises the first `SealtuiError`, re-worded to name the key, after
    stopping what has not started.
    """
    total, done = len(values), 0
    results: dict[str, str] = {}
    processes = min(processes, total, max(workers, 1))
    use_fork = processes > 1 and hasattr(os, "fork") and threading.active_count() == 1
    outcomes = _in_processes(values, seal_one, workers, processes) if use_fork else _in_threads(values, seal_one,
                                                                                                  workers)
    with contextlib.closing(outcomes):  # on the first error: cancel, or stop the children
        for key, outcome in outcomes:
            if isinstance(outcome, BaseException):
                if isinstance(outcome, SealtuiError):
                    # Keep the error's class (and so its exit code); only name the key.
                    outcome.message = f"{key}: {outcome.message}"
                    outcome.args = (outcome.message,)
                raise outcome
            results[key] = outcome
            done += 1
            if progress:
                progress(done, total)
    return {k: results[k] for k in values}


Outcome = tuple[str, "str | BaseException"]
"""A key and its sealed string, or the error sealing it raised."""


def _in_threads(values: Mapping[str, bytes], seal_one: Callable[[bytes], str],
                workers: int) -> Generator[Outcome, None, None]:
    """Each value's outcome as it is done (closing the generator cancels what has not started)."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(values) or 1)), thread_name_prefix="seal") as pool:
        futures: dict[Future[str], str] = {pool.submit(seal_one, v): k for k, v in values.items()}
        try:
            for f in as_completed(futures):
                error = f.exception()
                yield futures[f], (error if error is not None else f.result())
        finally:
            for f in futures:
                f.cancel()  # those not started yet


def _in_processes(values: Mapping[str, bytes], seal_one: Callable[[bytes], str], workers: int,
                  processes: int) -> Generator[Outcome, None, None]:
    """Each value's outcome as a child reports it. Closing the generator kills the children still running."""
    items = list(values.items())
    children: dict[int, int] = {}  # read end of its pipe -> pid
    try:
        for i in range(processes):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                _child(items[i::processes], seal_one, -(-workers // processes), r, w)
            os.close(w)
            children[r] = pid
        pending, buffers, reported = set(children), dict.fromkeys(children, b""), set()
        while pending:
            for r in select.select(list(pending), [], [])[0]:
                chunk = os.read(r, 65536)
                if not chunk:
                    pending.discard(r)
                    continue
                *lines, buffers[r] = (buffers[r] + chunk).split(b"\n")
                for line in lines:
                    key, outcome = _decode(line)
                    reported.add(key)
                    yield key, outcome
        for key in values:
            if key not in reported:  # its process died without a word (killed, out of memory)
                yield key, ProviderError("its sealing process ended before sealing it",
                                         fix="run the command again; if it persists, run it with fewer values")
    finally:
        for r, pid in children.items():
            os.close(r)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # finished ones are only waiting to be reaped
            os.waitpid(pid, 0)


def _child(share: list[tuple[str, bytes]], seal_one: Callable[[bytes], str], workers: int, r: int, w: int) -> None:
    """A forked child: seal `share`, one line per value on `w`, then leave without running the parent's code."""
    code = 0
    try:
        os.close(r)
        with os.fdopen(w, "wb") as out:
            for key, outcome in _in_threads(dict(share), seal_one, workers):
                out.write(_encode(key, outcome) + b"\n")
                out.flush()
                if isinstance(outcome, BaseException):
                    break
    except BaseException:
        code = 70  # EX_SOFTWARE; the parent says which values were not sealed
    finally:
        os._exit(code)


def _encode(key: str, outcome: str | BaseException) -> bytes:
    if not isinstance(outcome, BaseException):
        return json.dumps([key, outcome]).encode("ascii")
    if isinstance(outcome, SealtuiError):  # rebuilt in the parent with its class, message, fix and the rest
        error: tuple[Any, ...] = ("sealtui", type(outcome).__module__, type(outcome).__qualname__, outcome.message,
                                  dict(vars(outcome)))
    else:
        error = ("other", f"{type(outcome).__name__}: {outcome}")
    try:
        blob = pickle.dumps(error)
    except Exception:  # an attribute that does not pickle: keep what the user reads
        blob = pickle.dumps(("other", str(outcome)))
    return json.dumps([key, None, base64.b64encode(blob).decode("ascii")]).encode("ascii")


def _decode(line: bytes) -> Outcome:
    key, sealed, *error = json.loads(line)
    if not error:
        return key, sealed
    kind, *rest = pickle.loads(base64.b64decode(error[0]))  # noqa: S301 - written by our own forked child
    if kind == "sealtui":
        module, qualname, message, state = rest
        cls = getattr(importlib.import_module(module), qualname)
        outcome = cls.__new__(cls)
        Exception.__init__(outcome, message)
        vars(outcome).update(state)
        return key, outcome
    return key, RuntimeError(f"sealing failed in a worker process: {rest[0]}")
