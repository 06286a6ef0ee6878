"""The sealed-secret payloads: the one place their schema lives.

Reading is tolerant: unknown fields are kept (`model_extra`) so the linter can report them, and the fields CDH
requires but old writers left out (`annotations`, `provider_settings`) may be missing. Writing is strict:
`to_json()` refuses a payload that CDH would not accept as written by `secret seal`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sealtui.core.errors import InvalidInputError
from sealtui.core.spec import SUPPORTED_VERSION, WRAP_TYPES

__all__ = ["SUPPORTED_VERSION", "WRAP_TYPES", "EnvelopePayload", "SealedPayload", "VaultPayload",
           "payload_from_dict"]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str
    provider: str
    provider_settings: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None

    @property
    def unknown_fields(self) -> dict[str, Any]:
        """Fields the schema does not know; CDH ignores them."""
        return dict(self.model_extra or {})

    def to_dict(self) -> dict[str, Any]:
        """The payload as CDH reads it, in canonical field order (unknown fields last)."""
        data = self.model_dump(mode="json", by_alias=True)
        # Maps left out by old writers stay out, so a report shows the payload as it was received.
        return {k: v for k, v in data.items() if not (v is None and k in ("provider_settings", "annotations"))}

    def to_json(self) -> str:
        """Compact JSON, strictly checked: what sealtui writes into a JWS."""
        if self.unknown_fields:
            raise InvalidInputError(
                f"payload has fields CDH does not know: {', '.join(sorted(self.unknown_fields))}",
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


class EnvelopePayload(_Payload):
    """An envelope secret: the data key wrapped by a KMS, the data sealed with AES-256 under that key."""

    type: Literal["envelope"] = "envelope"
    key_id: str
    encrypted_key: str
    """The KMS-wrapped data key, standard base64 with padding."""
    encrypted_data: str
    """The sealed data (AES-256-GCM ciphertext with the tag appended), standard base64 with padding."""
    wrap_type: str = "A256GCM"
    iv: str
    """The 12-byte AES-GCM nonce, standard base64 with padding."""

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        order = ["version", "type", "key_id", "encrypted_key", "encrypted_data", "wrap_type", "iv",
                 "provider", "provider_settings", "annotations"]
        return {k: data[k] for k in order if k in data} | {k: v for k, v in data.items() if k not in order}


class VaultPayload(_Payload):
    """A vault secret: a reference to a secret the provider holds; nothing is encrypted in the payload."""

    type: Literal["vault"] = "vault"
    name: str

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        order = ["version", "type", "name", "provider", "provider_settings", "annotations"]
        return {k: data[k] for k in order if k in data} | {k: v for k, v in data.items() if k not in order}


SealedPayload = Annotated[EnvelopePayload | VaultPayload, Field(discriminator="type")]
"""A payload of either type, discriminated by `type`."""

_ADAPTER: TypeAdapter[EnvelopePayload | VaultPayload] = TypeAdapter(SealedPayload)


def payload_from_dict(data: Any) -> EnvelopePayload | VaultPayload:
    """Validate decoded payload JSON into a model, or raise `InvalidInputError` naming the field."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = list(first["loc"])
        if loc and loc[0] in ("envelope", "vault"):  # the discriminator's branch, not a field
            loc = loc[1:]
        where = ".".join(str(p) for p in loc) or "payload"
        if first["type"] == "union_tag_invalid":
            tag = data.get("type") if isinstance(data, dict) else None
            raise InvalidInputError(
                f"payload field 'type' is {tag!r}", fix="it must be 'envelope' or 'vault'"
            ) from None
        if first["type"] == "union_tag_not_found":
            raise InvalidInputError("payload has no 'type' field", fix="it must be 'envelope' or 'vault'") from None
        if first["type"] == "model_type" or first["type"] == "model_attributes_type":
            raise InvalidInputError("payload is not a JSON object") from None
        raise InvalidInputError(f"payload field '{where}': {first['msg'].lower()}") from None
