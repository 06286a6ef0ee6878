"""Seal one value, or many at once (the KMS calls in parallel, all or nothing), as aliyun envelope secrets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sealtui.core.errors import InvalidInputError

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.service.kms import KmsTarget
    from sealtui.service.signing import SigningKey

__all__ = ["SealedValue", "seal_value", "seal_values"]


@dataclass(frozen=True)
class SealedValue:
    """One sealed value and what it takes to use it."""

    name: str
    """The key it goes under in a Secret (`stringData.<name>`); empty when it has none."""
    sealed: str
    """The `sealed.…` string."""
    key_id: str
    """The KMS key that wrapped its data key."""
    kid: str
    """The signing key's kid."""
    provision: str
    """Where CDH looks for the signing key's public half (what to provision where)."""


def seal_value(target: KmsTarget, signing: SigningKey, plaintext: bytes, *, name: str | None = None,
               credentials: AliyunCredentials | None = None) -> SealedValue:
    """Seal `plaintext` through the KMS key of `target` and sign it. `name`, when given, must not be empty."""
    if name is not None and not name:
        raise InvalidInputError("the value has no name", fix="give the Secret key it goes under")
    seal_one = _Sealer(target, signing, credentials)
    return seal_one.value(name or "", seal_one(plaintext))


def seal_values(target: KmsTarget, signing: SigningKey, values: Mapping[str, bytes], *,
                progress: Callable[[int, int], None] | None = None, workers: int | None = None,
                credentials: AliyunCredentials | None = None) -> list[SealedValue]:
    """Seal every value, the KMS calls in parallel (`core.bulk.seal_many`: in processes, one per CPU, when this
    process runs a single thread), in the input order. All or none: the first failure raises the core's error,
    which names the key."""
    import os

    from sealtui.core import bulk

    if not values:
        raise InvalidInputError("nothing to seal", fix="give at least one KEY=value")
    seal_one = _Sealer(target, signing, credentials)
    sealed = bulk.seal_many(values, seal_one, workers=workers or bulk.DEFAULT_WORKERS, progress=progress,
                            processes=os.cpu_count() or 1)
    return [seal_one.value(name, text) for name, text in sealed.items()]


class _Sealer:
    """Seals one plaintext into a sealed string (thread-safe: called from the bulk pool), remembering key ids."""

    def __init__(self, target: KmsTarget, signing: SigningKey, credentials: AliyunCredentials | None) -> None:
        from sealtui.core.sealing import seal_value
        from sealtui.service.kms import connect
        from sealtui.service.signing import signer_for

        self.signing = signing
        self.signer = signer_for(signing, target, credentials)  # first: a bad signing key costs no KMS call
        self.kms = connect(target, credentials)
        self.key_ids: dict[str, str] = {}
        self._seal = seal_value
        self._provision = signing.provision  # the same for every value (and not free: it checks the kid)

    def __call__(self, plaintext: bytes) -> str:
        result = self._seal(plaintext, self.kms, self.signer)
        self.key_ids[result.sealed] = result.payload.key_id
        return result.sealed

    def value(self, name: str, sealed: str) -> SealedValue:
        key_id = self.key_ids.get(sealed) or _key_id(sealed)  # sealed in a forked process: read from the payload
        return SealedValue(name, sealed, key_id, self.signer.kid, self._provision)


def _key_id(sealed: str) -> str:
    """The `key_id` in the payload of a sealed string sealtui just made (canonical: no checks needed)."""
    import json

    from sealtui.core.b64 import b64url_decode

    return str(json.loads(b64url_decode(sealed.split(".")[2]))["key_id"])
