"""JSON as serde_json 1.0.150 reads it, over Python's own parser: what it refuses, and why.

CDH reads the JWS header and the secret payload with `serde_json::from_slice`. Python's `json` module is more
lenient in a few places, and recursive, so `parse()` wraps it to behave like serde_json and to stay bounded:

- the input must be UTF-8; `NaN`, `Infinity` and `-Infinity` are not JSON;
- a number that does not fit an f64 ("number out of range") is an error, in any position (CDH buffers every
  value, so nothing is skipped unparsed);
- a lone surrogate escape (`"\\ud800"`) is an error;
- nesting is limited: serde_json starts with a budget of 128 and fails when a container uses up the last of it,
  so at most `MAX_DEPTH` (127) containers may be nested. Deeper documents are refused without building them
  (Python's parser recurses, and would raise `RecursionError` on a document 100,000 levels deep);
- duplicate member names are not an error for JSON itself (a map keeps the last value); they are recorded on
  the object (`JsonObject.duplicates`) because serde's derived structs refuse duplicates of their own fields.

Numbers keep serde_json's kinds: a non-negative integer that fits u64 is an `int` (serde's `U64`), a negative one
that fits i64 an `int` (`I64`), everything else a `float` (`-0` is a float, as in serde_json).
"""

from __future__ import annotations

import gc
import json
import math
import re
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

MAX_DEPTH = 127
"""The deepest nesting serde_json accepts (its recursion budget is 128; the 128th container exhausts it)."""

_U64_MAX = 2**64 - 1
_I64_MIN = -(2**63)
_MAX_NUMBER_CHARS = 400
"""An integer longer than this cannot be an f64 (the largest has 309 digits): out of range, without parsing it."""
_PAUSE_GC_CHARS = 1_000_000
"""Documents longer than this are parsed with the cyclic garbage collector paused."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonObject(dict[str, Any]):
    """A JSON object whose member names repeat: the last value wins, as in serde_json's `Map`."""

    duplicates: frozenset[str] = frozenset()
    """Member names that occur more than once."""
    pairs: int = 0
    """How many members were written (counting repeats)."""


class _Refused(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    dups = {k for k, _ in pairs if k in seen or seen.add(k)}  # type: ignore[func-returns-value]
    out = JsonObject(obj)
    out.duplicates = frozenset(dups)
    out.pairs = len(pairs)
    return out


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def _float(text: str) -> float:
    if len(text) > 100_000:  # far longer than any f64 needs; refuse rather than convert it
        raise _Refused("number out of range")
    value = float(text)
    if math.isinf(value):
        raise _Refused("number out of range")
    return value


def _int(text: str) -> int | float:
    digits = len(text) - (text[0] == "-")
    if digits > _MAX_NUMBER_CHARS:
        raise _Refused("number out of range")
    value = int(text)
    if text[0] == "-":
        if value == 0:
            return -0.0  # serde_json reads `-0` as a float
        if value < _I64_MIN:
            return _float(text)
    elif value > _U64_MAX:
        return _float(text)
    return value


@dataclass(frozen=True)
class JsonDoc:
    """The result of reading bytes as JSON the way serde_json does."""

    parsed: bool
    """True when `value` holds the document (it may still be refused: see `error`)."""
    value: Any = None
    error: str | None = None
    """Why serde_json refuses the document, or None when it reads it."""

    @property
    def ok(self) -> bool:
        return self.error is None


def parse(data: bytes) -> JsonDoc:
    """Read `data` as serde_json would. Never raises; bounded in depth and linear in time."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return JsonDoc(False, error=f"it is not UTF-8 (byte {e.start})")
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting_exceeds(text, MAX_DEPTH):
        return JsonDoc(False, error=f"it is nested deeper than {MAX_DEPTH} levels (serde_json's recursion limit)")
    # While a large document is built, the cyclic collector walks it again and again (~20% of reading 10 MB of
    # small objects); a parsed document holds no reference cycles, so pausing it loses nothing.
    paused = len(text) > _PAUSE_GC_CHARS and gc.isenabled()
    if paused:
        gc.disable()
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float,
                           parse_int=_int)
    except _Refused as e:
        return JsonDoc(False, error=str(e))
    except json.JSONDecodeError as e:
        return JsonDoc(False, error=f"it is not JSON ({e.msg} at character {e.pos})")
    except (RecursionError, ValueError) as e:  # defensive: the pre-scan should have refused it
        return JsonDoc(False, error=f"it cannot be read ({type(e).__name__})")
    finally:
        if paused:
            gc.enable()
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        return JsonDoc(True, value, "it holds a lone surrogate escape (e.g. \"\\ud800\"), which is not Unicode")
    return JsonDoc(True, value)


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether JSON-ish `text` nests more than `limit` containers anywhere (strings are skipped). Linear.

    Done in C: the strings are cut out, every byte but the brackets is dropped, the brackets become +1 and -1, and
    the deepest running sum is the deepest nesting (a closing bracket with none open counts below zero, as a
    counter would). A loop over the brackets in Python took ~0.4 s for a 10 MB payload of many small objects.
    """
    brackets = _STRING.sub("", text).encode("utf-8", "surrogatepass").translate(_STEPS, _NOT_BRACKETS)
    return max(accumulate(array("b", brackets)), default=0) > limit


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
"""A string, to the end of the text if it is not closed (unrolled: a per-character alternation is ~100x slower on a
long string)."""
_STEPS = bytes.maketrans(b"[{]}", bytes([1, 1, 255, 255]))
"""Brackets to signed steps: 255 is -1 as a signed byte."""
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if not _utf8_clean(v):
                return True
        elif isinstance(v, dict):
            for k, item in v.items():
                if not _utf8_clean(k):
                    return True
                stack.append(item)
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _utf8_clean(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, in serde's words (`a string`, `an integer`, `null`, …)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def is_u64(value: Any) -> bool:
    """True for what serde_json reads as an unsigned integer (`Content::U64`)."""
    return type(value) is int and value >= 0


def member_count(obj: dict[str, Any]) -> int:
    """How many members an object was written with (repeats included)."""
    return obj.pairs if isinstance(obj, JsonObject) else len(obj)


def duplicates(obj: dict[str, Any]) -> frozenset[str]:
    """Member names written more than once in `obj`."""
    return obj.duplicates if isinstance(obj, JsonObject) else frozenset()
