"""Shared helpers for the benchmarks: timing whole processes and functions, printing medians."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def time_process(argv: Sequence[str], runs: int, stdin: bytes = b"") -> list[float]:
    """Wall-clock seconds of `runs` runs of a whole process (after one warm-up run)."""
    subprocess.run(argv, input=stdin, capture_output=True, check=True)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


def time_call(fn: Callable[[], object], runs: int) -> list[float]:
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000
