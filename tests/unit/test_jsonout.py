"""`dumps_indented` writes exactly what `json.dumps(indent=2, ensure_ascii=False)` writes, for any value."""

from __future__ import annotations

import enum
import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sealtui.core.jsonout import dumps_indented
from sealtui.core.serde_json import JsonObject


class Color(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    ONE = 1


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text() | st.sampled_from([Color.RED, Level.ONE, -0.0, 2**70, 1e300, "\ud800", "\u2028"]))


def _object(pairs: dict) -> dict:
    out = JsonObject(pairs)
    out.duplicates = frozenset(list(pairs)[:1])
    return out


VALUES = st.recursive(
    SCALARS,
    lambda children: (st.lists(children, max_size=4) | st.lists(children, max_size=3).map(tuple)
                      | st.dictionaries(st.text(max_size=8), children, max_size=4)
                      | st.dictionaries(st.text(max_size=8), children, max_size=3).map(_object)),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_the_same_bytes_as_json(value):
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_what_it_does_not_write_itself_goes_to_json():
    for value in ({1: "a", None: [1.5], False: {}}, {"a": {2.5: "x"}}, [{"k": float("nan")}], {"x": {"y": math.inf}}):
        assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
    deep: list = []
    for _ in range(300):
        deep = [deep]
    assert dumps_indented(deep) == json.dumps(deep, indent=2, ensure_ascii=False)
    for bad in ({"a": object()}, [b"bytes"]):
        try:
            json.dumps(bad, indent=2)
        except TypeError as e:
            expected = str(e)
        try:
            dumps_indented(bad)
        except TypeError as e:
            assert str(e) == expected
        else:
            raise AssertionError("no TypeError")
    loop: list = []
    loop.append(loop)
    try:
        dumps_indented(loop)
    except ValueError as e:
        assert "Circular reference" in str(e)


def test_a_long_document_is_written_whole():
    """Past 65,536 pieces the written pieces are joined into blocks: nothing may be lost or reordered."""
    value = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", str(i)], "ok": i % 3 == 0} for i in range(30_000)]}
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
