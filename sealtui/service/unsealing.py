"""Unseal as CDH does, and say what happened on the way: verified or skipped, whitespace stripped, the client
key used, and what each consumer would do with the string as given. Both front ends show these notes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sealtui.core.models import EnvelopePayload, VaultPayload
    from sealtui.providers.aliyun import AliyunKms
    from sealtui.service.kms import CredentialSource

__all__ = ["Note", "Unsealed", "unseal"]


@dataclass(frozen=True)
class Note:
    """One thing to tell the user about an unseal."""

    level: Literal["info", "warning"]
    text: str

    def __str__(self) -> str:
        return f"warning: {self.text}" if self.level == "warning" else self.text


@dataclass(frozen=True)
class Unsealed:
    """The plaintext of a sealed secret, with its notes."""

    plaintext: bytes = field(repr=False)
    kid: str | None
    """The `kid` of the JWS header, if any."""
    verified: bool
    """True when the signature was verified; False when verification was explicitly skipped."""
    stripped_whitespace: bool
    """True when whitespace around the string was ignored (upstream CDH with verification on would refuse it)."""
    client_key_id: str | None
    """The client key the KMS was asked with (None for a provider that needs none)."""
    named_client_key_id: str | None
    """The client key the secret names in its `provider_settings`."""
    verdicts: dict[str, str]  # consumer -> accepted | rejected | needs-key
    """What each consumer would do with the string exactly as given (`core.lint.inspect(text).verdicts`)."""
    notes: tuple[Note, ...]
    """Everything above, as the sentences both front ends show."""


def unseal(text: str, source: CredentialSource, *, endpoint: str | None = None,
           jwk: str | os.PathLike[str] | None = None, skip_verification: bool = False) -> Unsealed:
    """Verify (or explicitly skip), then open `text` as CDH does: an envelope through the KMS, an aliyun vault
    secret with GetSecretValue. In a credentials directory, the client key the secret names is preferred."""
    from sealtui.core.lint import inspect
    from sealtui.core.sealing import unseal_text
    from sealtui.providers import require_provider
    from sealtui.service.kms import KmsTarget, connect, credentials_for_payload

    used: list[AliyunKms] = []
    named: list[str | None] = []

    def wrapper_for(payload: EnvelopePayload | VaultPayload) -> AliyunKms:
        require_provider(payload.provider)
        settings = dict(payload.provider_settings or {})
        named.append(settings.get("client_key_id"))
        kms = connect(KmsTarget(source, endpoint), credentials_for_payload(source, settings))
        used.append(kms)
        return kms

    jwk_path = Path(jwk).expanduser() if jwk is not None else None
    result = unseal_text(text, wrapper_for, jwk=jwk_path, skip_verification=skip_verification)
    verdicts: dict[str, str] = dict(inspect(text).verdicts)
    client_key = used[0].credentials.client_key.key_id if used else None
    named_key = named[0] if named else None
    notes: list[Note] = []
    if result.stripped_whitespace:
        notes.append(Note("warning", "ignored whitespace around the sealed string (upstream CDH with verification "
                                     "would reject it as given)"))
    if result.verified:
        notes.append(Note("info", f"signature verified with {jwk_path} (kid {result.secret.kid!r})"))
    else:
        notes.append(Note("warning", "the signature was NOT verified (verification skipped)"))
    if client_key is not None:
        if named_key and named_key != client_key:
            notes.append(Note("info", f"the secret names client key {named_key}; opened with {client_key}"))
        else:
            notes.append(Note("info", f"opened with client key {client_key}"))
    notes.append(Note("warning" if "rejected" in verdicts.values() else "info",
                      "as given: " + ", ".join(f"{c} {v}" for c, v in verdicts.items())))
    return Unsealed(result.plaintext, result.secret.kid, result.verified, result.stripped_whitespace, client_key,
                    named_key, verdicts, tuple(notes))
