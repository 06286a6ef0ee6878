"""What the core asks of a KMS provider, and of a signer.

The core seals and opens envelopes without knowing any provider: a provider wraps and unwraps the 32-byte data
key and says what goes into `provider_settings` and `annotations`. A signer makes the raw ES256 signature of a
JWS (a private JWK in memory, or a key that never leaves a KMS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class WrappedKey:
    """A data key as a provider wrapped it, with everything needed to unwrap it later."""

    key_id: str
    """The provider's id of the sealing key (goes to the payload's `key_id`)."""
    encrypted_key: bytes
    """The wrapped data key (goes to `encrypted_key`, standard base64)."""
    provider_settings: dict[str, Any] = field(default_factory=dict)
    """How CDH reaches the provider (goes to `provider_settings`)."""
    annotations: dict[str, Any] = field(default_factory=dict)
    """Per-secret values the provider needs to unwrap (goes to `annotations`, e.g. aliyun's `iv`)."""


@runtime_checkable
class KeyWrapper(Protocol):
    """A KMS provider as the envelope code sees it."""

    provider: str
    """The payload's `provider` value, e.g. `aliyun`."""

    def wrap_key(self, data_key: bytes) -> WrappedKey:
        """Wrap `data_key` under the provider's sealing key."""
        ...

    def unwrap_key(
        self,
        key_id: str,
        encrypted_key: bytes,
        provider_settings: dict[str, Any],
        annotations: dict[str, Any],
    ) -> bytes:
        """Return the data key that `wrap_key` wrapped. Raises `ProviderError` on refusal."""
        ...


@runtime_checkable
class VaultReader(Protocol):
    """A provider that holds vault secrets itself (e.g. aliyun's `GetSecretValue`), as CDH reads them."""

    provider: str

    def read_secret(self, name: str, provider_settings: dict[str, Any], annotations: dict[str, Any]) -> bytes:
        """The secret's value. Raises `ProviderError` on refusal."""
        ...


@runtime_checkable
class Signer(Protocol):
    """Makes ES256 signatures for a JWS."""

    kid: str
    """The JWS header's `kid`: a `kbs:///…` URI or a file name CDH looks up."""

    def sign(self, data: bytes) -> bytes:
        """Return the raw 64-byte `r‖s` ES256 signature of `data` (not DER)."""
        ...
