"""What every consumer model shares: problems, the replay of steps, and the per-input cache.

A model replays its consumer's steps in the consumer's order. A step that fails raises `Reject` with the
consumer's own error text; a step that passes is recorded; an input is accepted only when the model passes its
last step. Steps that depend on the outside world (a KMS call, a file in the guest, Trustee) are assumed to
succeed; everything the input alone decides is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from sealtui.core.b64 import Base64Problem, b64std_decode, b64url_decode
from sealtui.core.report import Fix, Severity
from sealtui.core.serde_json import JsonDoc, parse

if TYPE_CHECKING:
    from sealtui.core.jws import Jwk


@dataclass(frozen=True)
class Problem:
    """Something a step of a consumer's code finds wrong (or, for warnings and info, worth knowing)."""

    step: str
    code: str
    """The finding code that explains it."""
    detail: str
    """What is wrong, in sealtui's words."""
    error: str
    """The consumer's own error text for it."""
    severity: Severity = "error"
    fix: Fix | None = None
    part: str | None = None
    position: int | None = None


class Reject(Exception):  # the model's verdict, not an error of the program
    """A step failed: the consumer refuses the input."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


@dataclass
class Replay:
    """One run of a consumer model: the steps passed so far, and whether it waits for the key."""

    steps: list[str] = field(default_factory=list)
    awaiting_key: str | None = None
    """The step that needs the public key (set when no key was given); the rest is still checked."""

    def passed(self, step: str) -> None:
        self.steps.append(step)

    def take(self, step: str, problems: list[Problem]) -> None:
        """Fail on the first error among `problems`, else record `step` as passed."""
        for p in problems:
            if p.severity == "error":
                raise Reject(p)
        self.passed(step)

    def fail(self, step: str, code: str, detail: str, error: str, *, fix: Fix | None = None,
             part: str | None = None, position: int | None = None) -> NoReturn:
        raise Reject(Problem(step, code, detail, error, fix=fix, part=part, position=position))


_MISSING = object()


class Context:
    """One input as the models see it, with the decodings they share (each is done once per input)."""

    def __init__(self, text: str, key: Jwk | None = None, key_refusal: tuple[str, str] | None = None) -> None:
        self.text = text
        self.key = key
        """The verification key, when one was given and sealtui can use it."""
        self.key_refusal = key_refusal
        """Why CDH would refuse the given key (its error text, what is wrong), when it would."""
        self._cache: dict[tuple[str, Any], Any] = {}
        self._parts: list[str] | None = None
        self.results: dict[str, Any] = {}
        """What the models found that others may show (e.g. the verified signature)."""

    def _memo(self, kind: str, arg: Any, compute: Any) -> Any:
        # Keyed by value: each consumer splits the input itself, so equal parts are different objects; hashing
        # a part is far cheaper than decoding it again.
        slot = (kind, arg)
        hit = self._cache.get(slot, _MISSING)
        if hit is _MISSING:
            hit = self._cache[slot] = compute(arg)
        return hit

    @property
    def parts(self) -> list[str]:
        """`text.split(".")`, made once: every consumer splits the input, and sharing the parts (whose hashes
        Python keeps) makes the cache below cheap even for a 50 MB part."""
        if self._parts is None:
            self._parts = self.text.split(".")
        return self._parts

    def utf8_error(self) -> int | None:
        """The position of the first character that UTF-8 cannot carry (a lone surrogate), or None."""
        def check(text: str) -> int | None:
            if text.isascii():  # known without reading it
                return None
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                return e.start
            return None
        return self._memo("utf8", self.text, check)

    def b64url(self, part: str) -> bytes | Base64Problem:
        """`part` decoded as canonical base64url without padding (base64ct / base64 `URL_SAFE_NO_PAD`)."""
        def dec(text: str) -> bytes | Base64Problem:
            try:
                return b64url_decode(text)
            except Base64Problem as e:
                return e
        return self._memo("b64url", part, dec)

    def b64std(self, field_value: str) -> bytes | Base64Problem:
        """A payload byte field decoded as canonical standard base64 with padding (base64 `STANDARD`)."""
        def dec(text: str) -> bytes | Base64Problem:
            try:
                return b64std_decode(text)
            except Base64Problem as e:
                return e
        return self._memo("b64std", field_value, dec)

    def json(self, data: bytes) -> JsonDoc:
        """`data` read as serde_json reads it."""
        return self._memo("json", data, parse)

    def memo(self, kind: str, arg: Any, compute: Any) -> Any:
        """Compute `compute(arg)` once per input for any other shared step."""
        return self._memo(kind, arg, compute)


def shown(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of an untrusted value for a message (never the whole of a 50 MB string)."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif value is None or isinstance(value, bool | int | float):
        text = repr(value)
    else:
        from sealtui.core.serde_json import json_type

        return json_type(value)
    if len(text) > limit + 2:
        text = text[:limit] + "…"
    return text
