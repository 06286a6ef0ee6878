"""The sealed-secret payloads: the one place their schema lives.

Reading is tolerant: unknown fields are kept (`unknown_fields`) so the linter can report them, and the fields CDH
requires but old writers left out (`annotations`, `provider_settings`) may be missing. Writing is strict:
`to_json()` refuses a payload that CDH would not accept as written by `secret seal`.

Plain classes, checked by hand: every seal and unseal builds or reads one, and pydantic's import and model building
cost ~90 ms of such a command (a third of it, against a floor of ~150 ms). The checks are pydantic's lax ones for
these types, in the same order, with the same messages (`payload field 'x': input should be a valid string`).
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar, Literal

from sealtui.core.errors import InvalidInputError
from sealtui.core.spec import SUPPORTED_VERSION, WRAP_TYPES

__all__ = ["SUPPORTED_VERSION", "WRAP_TYPES", "EnvelopePayload", "SealedPayload", "VaultPayload",
           "payload_from_dict"]

_STR, _OPT_STR, _OPT_MAP = "str", "optional str", "optional map"
_MISSING: Any = object()


def _check(name: str, kind: str, value: Any) -> None:
    """Raise `InvalidInputError` unless `value` fits the field `name` of `kind` (`_MISSING`: not given)."""
    if value is _MISSING:
        if kind == _STR:
            raise InvalidInputError(f"payload field '{name}': field required")
        return
    if kind == _OPT_MAP:
        if value is None:
            return
        if not isinstance(value, dict):
            raise InvalidInputError(f"payload field '{name}': input should be a valid dictionary")
        for key in value:
            if not isinstance(key, str):
                raise InvalidInputError(f"payload field '{name}.{key}.[key]': input should be a valid string")
    elif not isinstance(value, str):
        raise InvalidInputError(f"payload field '{name}': input should be a valid string")


def _plain(value: Any) -> Any:
    """`value` as JSON data, in fresh containers (non-finite floats become null, as pydantic's JSON mode does)."""
    if type(value) is str:  # nearly every value
        return value
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")
    return value


class _Payload:
    _TYPE: ClassVar[str]
    _FIELDS: ClassVar[dict[str, str]]
    """The fields of the type after the common ones, and their kinds, in the order they are checked."""
    _ORDER: ClassVar[tuple[str, ...]]
    """The canonical field order: what `secret seal` writes."""
    _COMMON: ClassVar[dict[str, str]] = {"version": _STR, "provider": _STR, "provider_settings": _OPT_MAP,
                                         "annotations": _OPT_MAP}

    version: str
    provider: str
    provider_settings: dict[str, Any] | None
    annotations: dict[str, Any] | None
    type: str

    def _load(self, data: dict[str, Any]) -> None:
        """Check `data` (field name -> value; the rest are unknown fields) and take it."""
        if data.get("type", self._TYPE) != self._TYPE:
            raise InvalidInputError(f"payload field 'type': input should be {self._TYPE!r}")
        known = {**self._COMMON, **self._FIELDS}
        for name, kind in known.items():
            _check(name, kind, data.get(name, _MISSING))
        values: dict[str, Any] = {}
        for name, kind in known.items():
            value = data.get(name, _MISSING)
            if value is _MISSING:
                value = "A256GCM" if name == "wrap_type" else None
            values[name] = dict(value) if kind == _OPT_MAP and value is not None else value
        values["type"] = self._TYPE
        self.__dict__.update(values)
        self._extra = {k: v for k, v in data.items() if k not in known and k != "type"}

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Any:
        payload = cls.__new__(cls)
        payload._load(data)
        return payload

    @property
    def unknown_fields(self) -> dict[str, Any]:
        """Fields the schema does not know; CDH ignores them."""
        return dict(self._extra)

    def to_dict(self) -> dict[str, Any]:
        """The payload as CDH reads it, in canonical field order (unknown fields last)."""
        out: dict[str, Any] = {}
        for name in self._ORDER:
            value = getattr(self, name)
            # Maps left out by old writers stay out, so a report shows the payload as it was received.
            if value is None and name in ("provider_settings", "annotations"):
                continue
            out[name] = _plain(value)
        for name, value in self._extra.items():
            out[name] = _plain(value)
        return out

    def to_json(self) -> str:
        """Compact JSON, strictly checked: what sealtui writes into a JWS."""
        if self._extra:
            raise InvalidInputError(
                f"payload has fields CDH does not know: {', '.join(sorted(self._extra))}",
                fix="remove them before sealing",
            )
        if self.version != SUPPORTED_VERSION:
            raise InvalidInputError(
                f"payload version {self.version!r} is not {SUPPORTED_VERSION!r}",
                fix=f"CDH only unseals version {SUPPORTED_VERSION}",
            )
        data = self.to_dict()
        # CDH's parser requires both maps even when empty.
        data["provider_settings"] = data.get("provider_settings") or {}
        data["annotations"] = data.get("annotations") or {}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        """A copy with `update` applied, unchecked (what pydantic's `model_copy` does; the models used to be
        pydantic's)."""
        import copy

        new = copy.deepcopy(self) if deep else copy.copy(self)
        new._extra = dict(new._extra)
        known = {*self._COMMON, *self._FIELDS, "type"}
        for name, value in (update or {}).items():
            if name in known:
                new.__dict__[name] = value
            else:
                new._extra[name] = value
        return new

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, as the pydantic models were

    def __repr__(self) -> str:
        names = [*self._COMMON, "type", *self._FIELDS]
        shown = [f"{n}={getattr(self, n)!r}" for n in names] + [f"{k}={v!r}" for k, v in self._extra.items()]
        return f"{type(self).__name__}({', '.join(shown)})"


class EnvelopePayload(_Payload):
    """An envelope secret: the data key wrapped by a KMS, the data sealed with AES-256 under that key."""

    _TYPE = "envelope"
    _FIELDS: ClassVar[dict[str, str]] = {"key_id": _STR, "encrypted_key": _STR, "encrypted_data": _STR,
                                         "wrap_type": _OPT_STR, "iv": _STR}
    _ORDER = ("version", "type", "key_id", "encrypted_key", "encrypted_data", "wrap_type", "iv", "provider",
              "provider_settings", "annotations")

    type: Literal["envelope"]
    key_id: str
    encrypted_key: str
    """The KMS-wrapped data key, standard base64 with padding."""
    encrypted_data: str
    """The sealed data (AES-256-GCM ciphertext with the tag appended), standard base64 with padding."""
    wrap_type: str
    """`A256GCM` (the default) or `A256CTR`."""
    iv: str
    """The 12-byte AES-GCM nonce, standard base64 with padding."""

    def __init__(self, *, version: str, provider: str, key_id: str, encrypted_key: str, encrypted_data: str,
                 iv: str, wrap_type: str = "A256GCM", provider_settings: dict[str, Any] | None = None,
                 annotations: dict[str, Any] | None = None, type: Literal["envelope"] = "envelope",
                 **unknown: Any) -> None:
        self._load({"version": version, "provider": provider, "provider_settings": provider_settings,
                    "annotations": annotations, "type": type, "key_id": key_id, "encrypted_key": encrypted_key,
                    "encrypted_data": encrypted_data, "wrap_type": wrap_type, "iv": iv, **unknown})


class VaultPayload(_Payload):
    """A vault secret: a reference to a secret the provider holds; nothing is encrypted in the payload."""

    _TYPE = "vault"
    _FIELDS: ClassVar[dict[str, str]] = {"name": _STR}
    _ORDER = ("version", "type", "name", "provider", "provider_settings", "annotations")

    type: Literal["vault"]
    name: str

    def __init__(self, *, version: str, provider: str, name: str, provider_settings: dict[str, Any] | None = None,
                 annotations: dict[str, Any] | None = None, type: Literal["vault"] = "vault",
                 **unknown: Any) -> None:
        self._load({"version": version, "provider": provider, "provider_settings": provider_settings,
                    "annotations": annotations, "type": type, "name": name, **unknown})


SealedPayload = EnvelopePayload | VaultPayload
"""A payload of either type, told apart by `type`."""

_TYPES: dict[str, type[EnvelopePayload] | type[VaultPayload]] = {"envelope": EnvelopePayload,
                                                                 "vault": VaultPayload}


def payload_from_dict(data: Any) -> EnvelopePayload | VaultPayload:
    """Check decoded payload JSON into a payload, or raise `InvalidInputError` naming the field."""
    if not isinstance(data, dict):
        raise InvalidInputError("payload is not a JSON object")
    if "type" not in data:
        raise InvalidInputError("payload has no 'type' field", fix="it must be 'envelope' or 'vault'")
    tag = data["type"]
    cls = _TYPES.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise InvalidInputError(f"payload field 'type' is {tag!r}", fix="it must be 'envelope' or 'vault'")
    payload: EnvelopePayload | VaultPayload = cls._from_dict(data)
    return payload
