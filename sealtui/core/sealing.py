"""The seal and unseal operations as every interface performs them (CLI, TUI, Python API).

Sealing checks its own output with the consumer models: sealtui never hands out a string that CDH would refuse.
Unsealing verifies the signature first (or is told explicitly to skip it), refuses what is not an envelope,
and opens it through the provider the caller supplies for the payload.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from sealtui.core.codec import SealedSecret, encode_sealed, parse_sealed
from sealtui.core.envelope import open_envelope, seal_envelope
from sealtui.core.errors import InvalidInputError, UsageError
from sealtui.core.jws import Jwk
from sealtui.core.keywrap import KeyWrapper, Signer, VaultReader
from sealtui.core.models import EnvelopePayload, VaultPayload

_MUST_PASS = {"cdh": ("needs-key", "accepted"), "cdh-skip-verification": ("accepted",), "kata-agent": ("accepted",)}
"""What a string sealtui hands out must get from each consumer model (only the key is left open for CDH)."""


def ensure_cdh_accepts(sealed: str) -> None:
    """Raise `InvalidInputError` unless upstream CDH (verifying, or not) and the kata agent would take `sealed`.

    Decided by the consumer models themselves, not by the linter's findings (only these three run: bulk
    sealing checks every value).
    """
    from sealtui.core.consumers import MODELS, Context, run

    ctx = Context(sealed)
    for consumer, wanted in _MUST_PASS.items():
        d = run(MODELS[consumer], ctx)
        if d.verdict not in wanted:
            raise InvalidInputError(f"{consumer} would reject this secret at {d.step}: {d.detail}",
                                    fix=d.fix.text if d.fix else None)


def seal_payload(payload: EnvelopePayload | VaultPayload, signer: Signer) -> str:
    """Sign `payload` into the canonical sealed string, checked to be one CDH accepts."""
    sealed = encode_sealed(payload, signer)
    ensure_cdh_accepts(sealed)
    return sealed


@dataclass(frozen=True)
class SealedEnvelope:
    sealed: str
    payload: EnvelopePayload


def seal_value(plaintext: bytes, wrapper: KeyWrapper, signer: Signer) -> SealedEnvelope:
    """Seal `plaintext` as an envelope secret through `wrapper` and sign it."""
    payload = seal_envelope(plaintext, wrapper)
    return SealedEnvelope(seal_payload(payload, signer), payload)


@dataclass(frozen=True)
class Unsealed:
    plaintext: bytes
    secret: SealedSecret
    verified: bool
    """False when verification was explicitly skipped."""
    stripped_whitespace: bool
    """True when whitespace around the string was ignored (CDH with verification on would refuse it)."""


def unseal_text(text: str, wrapper_for: Callable[[EnvelopePayload | VaultPayload], KeyWrapper | VaultReader], *,
                jwk: Jwk | str | os.PathLike[str] | None = None, skip_verification: bool = False) -> Unsealed:
    """Verify (or explicitly skip verifying) a sealed string, then open it as CDH would.

    An envelope is decrypted with the data key that `wrapper_for(payload)` unwraps; a vault secret is read
    from the provider that holds it (`VaultReader`), except `kbs`, which only releases to an attested guest.
    """
    if jwk is None and not skip_verification:
        raise UsageError("no public JWK to verify the signature with",
                         fix="give the signer's public JWK, or skip verification explicitly")
    stripped = text.strip()
    if jwk is not None:  # CDH's order: the signature first, then the payload
        from sealtui.core.verify import verify_sealed

        secret = verify_sealed(stripped, jwk)
    else:
        secret = parse_sealed(stripped)
    payload = secret.payload
    if isinstance(payload, VaultPayload):
        plaintext = _read_vault(payload, wrapper_for)
    else:
        wrapper = wrapper_for(payload)
        if not isinstance(wrapper, KeyWrapper):
            raise InvalidInputError(f"provider {payload.provider!r} cannot open envelope secrets")
        plaintext = open_envelope(payload, wrapper)
    return Unsealed(plaintext, secret, jwk is not None, stripped != text)


def _read_vault(payload: VaultPayload,
                wrapper_for: Callable[[EnvelopePayload | VaultPayload], KeyWrapper | VaultReader]) -> bytes:
    if payload.provider == "kbs":
        raise InvalidInputError(
            f"{payload.name} is a KBS resource: Trustee releases it only to an attested guest",
            fix="sealtui cannot fetch it; check the sealed string with `sealtui inspect` and provision the "
            "resource to KBS",
        )
    reader = wrapper_for(payload)
    if not isinstance(reader, VaultReader):
        raise InvalidInputError(f"provider {payload.provider!r} holds no vault secrets sealtui can read")
    return reader.read_secret(payload.name, payload.provider_settings or {}, payload.annotations or {})
