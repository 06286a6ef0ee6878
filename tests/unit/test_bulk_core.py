"""core.bulk.seal_many: parallel, in input order, progress as values are done, all or nothing."""

from __future__ import annotations

import threading

import pytest

from sealtui.core.bulk import seal_many
from sealtui.core.errors import ProviderError


def test_progress_is_reported_as_each_value_is_done():
    """`b` finishes only once progress said `a` was done: progress must not wait for every value."""
    may_finish = threading.Event()

    def seal_one(v: bytes) -> str:
        if v == b"b" and not may_finish.wait(10):
            raise AssertionError("no progress was reported while a value was still being sealed")
        return v.decode().upper()

    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        may_finish.set()

    assert seal_many({"k1": b"a", "k2": b"b"}, seal_one, workers=2, progress=progress) == {"k1": "A", "k2": "B"}
    assert calls == [(1, 2), (2, 2)]


def test_the_first_failure_names_its_key_and_cancels_what_has_not_started():
    started: list[bytes] = []

    def seal_one(v: bytes) -> str:
        started.append(v)
        if v == b"0":
            raise ProviderError("the KMS said no")
        return "sealed"

    values = {f"K{i}": str(i).encode() for i in range(200)}
    with pytest.raises(ProviderError, match="K0: the KMS said no") as e:
        seal_many(values, seal_one, workers=1)
    assert e.value.exit_code == ProviderError("x").exit_code
    assert len(started) < len(values)


_FORKED = """
import json, os, sys, threading
from sealtui.core.bulk import seal_many
from sealtui.core.errors import SealtuiError
from sealtui.providers.aliyun_errors import KmsTransportError
assert threading.active_count() == 1
pids, progress = set(), []

def seal_one(v):
    {body}
    return f"sealed-{{v.decode()}}-{{os.getpid()}}"

try:
    out = seal_many({{f"K{{i}}": str(i).encode() for i in range(40)}}, seal_one, workers=4, processes=2,
                    progress=lambda d, t: progress.append(d))
    print(json.dumps({{"values": out, "progress": progress}}))
except SealtuiError as e:
    print(json.dumps({{"error": type(e).__name__, "message": e.message, "fix": e.fix, "exit": e.exit_code,
                      "reason": getattr(e, "reason", None)}}))
except Exception as e:
    print(json.dumps({{"other": f"{{type(e).__name__}}: {{e}}"}}))
"""


def _forked(body: str) -> dict:
    import json
    import subprocess
    import sys

    from tests.paths import ROOT

    out = subprocess.run([sys.executable, "-c", _FORKED.format(body=body)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_in_processes_every_value_comes_back_in_order_with_progress():
    import os

    got = _forked("pass")
    values = got["values"]
    assert list(values) == [f"K{i}" for i in range(40)]
    assert all(values[f"K{i}"].startswith(f"sealed-{i}-") for i in range(40))
    pids = {v.rsplit("-", 1)[1] for v in values.values()}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two children did the work
    assert got["progress"] == list(range(1, 41))


def test_in_processes_an_error_comes_back_whole_and_names_its_key():
    got = _forked('if v == b"7": raise KmsTransportError("the KMS is gone", reason="unreachable", fix="check it")')
    assert got == {"error": "KmsTransportError", "message": "K7: the KMS is gone", "fix": "check it", "exit": 5,
                   "reason": "unreachable"}
    got = _forked('if v == b"3": raise ValueError("a bug")')
    assert got == {"other": "RuntimeError: sealing failed in a worker process: ValueError: a bug"}


def test_in_processes_a_child_that_dies_is_an_error_not_a_hang():
    got = _forked('if v == b"5": os._exit(9)')
    assert got["error"] == "ProviderError" and got["message"].endswith("its sealing process ended before sealing it")
