"""serde_json's reading of JSON, modelled over Python's parser: what it refuses, bounded and linear."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealtui.core.serde_json import MAX_DEPTH, duplicates, is_u64, member_count, parse


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a":-Infinity}', "1e400", "[" + "9" * 401 + "]",
                                  '"\\ud800"', '{"\\udfff":1}', '["a","\\ud800\\u0041"]', "\ufeff{}", "{} x", ""])
def test_refused(text):
    doc = parse(text.encode("utf-8", "surrogatepass"))
    assert not doc.ok and doc.error


@pytest.mark.parametrize("text", ["{}", "[1e300, -0, 18446744073709551616, 1.5]", '"\\ud83d\\ude00"', ' {"a":1} \n'])
def test_read(text):
    assert parse(text.encode()).ok


def test_not_utf8():
    assert "UTF-8" in (parse(b'"\xff"').error or "")


def test_depth_limit_is_serde_jsons():
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH).ok
    deep = parse(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert not deep.ok and not deep.parsed  # refused without being built


def test_a_document_100000_deep_is_refused_without_recursion():
    for doc in (b"[" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        got = parse(doc)
        assert not got.ok and "nested deeper" in (got.error or "")


def test_brackets_inside_strings_do_not_count():
    text = '["' + "[" * 1000 + '\\"]"]'
    assert parse(text.encode()).ok


def test_numbers_keep_serdes_kinds():
    value = parse(b"[0, 1, -1, -0, 1.0, 18446744073709551615, 18446744073709551616]").value
    assert [is_u64(v) for v in value] == [True, True, False, False, False, True, False]


def test_duplicate_members_are_recorded_and_the_last_wins():
    obj = parse(b'{"a":1,"b":2,"a":3}').value
    assert obj == {"a": 3, "b": 2} and duplicates(obj) == {"a"} and member_count(obj) == 3
    assert duplicates(parse(b'{"a":1}').value) == frozenset()


def _depth_by_counting(text: str, limit: int) -> bool:
    """The plain reading of `nesting_exceeds`: walk strings and brackets, count."""
    depth, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
        i += 1
    return False


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet='[]{}"\\ a,:1é', max_size=40), st.integers(min_value=0, max_value=6))
def test_nesting_exceeds_counts_brackets_outside_strings(text, limit):
    from sealtui.core.serde_json import nesting_exceeds

    assert nesting_exceeds(text, limit) == _depth_by_counting(text, limit)


def test_a_large_document_is_read_with_the_collector_paused_and_then_resumed():
    import gc

    from sealtui.core import serde_json

    big = b"[" + b",".join(b'{"a":1}' for _ in range(200_000)) + b"]"
    seen: list[bool] = []
    real = serde_json.json.loads

    def loads(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    serde_json.json.loads, old = loads, serde_json.json.loads
    try:
        for doc in (big, big[:-1], b'{"a":1}'):  # read, refused (not JSON), small
            assert gc.isenabled()
            parse(doc)
            assert gc.isenabled()
        gc.disable()
        parse(big)
        assert not gc.isenabled()  # someone else's choice is left alone
    finally:
        gc.enable()
        serde_json.json.loads = old
    assert seen == [False, False, True, False]
