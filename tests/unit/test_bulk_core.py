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
