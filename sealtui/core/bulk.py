"""Seal many values in one run: parse them, seal them in parallel, fail as a whole.

The KMS call of each value runs in a thread pool (the provider's SDK path is synchronous and releases the GIL
on I/O). One failure cancels what has not started and raises an error naming the key, so callers never write a
partial result. Plaintext never appears in an error message.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from sealtui.core.errors import InvalidInputError, SealtuiError

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
              progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """Seal every value with `seal_one`, in parallel; return key → sealed string in the input order.

    Raises the first `SealtuiError`, re-worded to name the key, after cancelling what has not started.
    """
    total, done = len(values), 0
    results: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, total or 1)), thread_name_prefix="seal") as pool:
        futures: dict[Future[str], str] = {pool.submit(seal_one, v): k for k, v in values.items()}
        for f in as_completed(futures):  # each as it is done: progress as it goes, and the first failure at once
            error = f.exception()
            if error is not None:
                for p in futures:
                    p.cancel()  # those not started yet
                key = futures[f]
                if isinstance(error, SealtuiError):
                    # Keep the error's class (and so its exit code); only name the key.
                    error.message = f"{key}: {error.message}"
                    error.args = (error.message,)
                raise error
            results[futures[f]] = f.result()
            done += 1
            if progress:
                progress(done, total)
    return {k: results[k] for k in values}
