"""Seal one value, or many at once (the KMS calls in parallel, all or nothing), as aliyun envelope secrets.

The rules both front ends share: a value with nothing in it is refused (nothing was typed, piped or in the file;
in KEY=value lines, `KEY=` says so on purpose and is sealed); so is a value, or a set of values for one Secret,
whose sealed strings would not fit a Kubernetes Secret (`core.manifest.SECRET_MAX_BYTES`), unless asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sealtui.core.errors import InvalidInputError
from sealtui.core.manifest import check_secret_size

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
               credentials: AliyunCredentials | None = None, allow_oversized: bool = False) -> SealedValue:
    """Seal `plaintext` through the KMS key of `target` and sign it. `name`, when given, must not be empty.

    An empty value is refused, and so is one whose sealed string would not fit a Kubernetes Secret (checked
    before the KMS is asked, when its size alone says so) unless `allow_oversized`."""
    if name is not None and not name:
        raise InvalidInputError("the value has no name", fix="give the Secret key it goes under")
    if not plaintext:
        raise InvalidInputError(f"the value of {name!r} is empty" if name else "the value is empty",
                                fix="give the value to seal (nothing was typed, piped or in the file)")
    _check_size({name or "": plaintext}, allow_oversized, "the sealed value")
    seal_one = _Sealer(target, signing, credentials)
    value = seal_one.value(name or "", seal_one(plaintext))
    if not allow_oversized:
        check_secret_size({value.name: len(value.sealed)}, "the sealed value")
    return value


def seal_values(target: KmsTarget, signing: SigningKey, values: Mapping[str, bytes], *,
                progress: Callable[[int, int], None] | None = None, workers: int | None = None,
                credentials: AliyunCredentials | None = None, allow_oversized: bool = False) -> list[SealedValue]:
    """Seal every value, the KMS calls in parallel (`core.bulk.seal_many`: in processes, one per CPU, when this
    process runs a single thread), in the input order. All or none: the first failure raises the core's error,
    which names the key. As `seal_value`, for values that go into one Secret together."""
    import os

    from sealtui.core import bulk

    if not values:
        raise InvalidInputError("nothing to seal", fix="give at least one KEY=value")
    _check_size(values, allow_oversized, "the Secret")
    seal_one = _Sealer(target, signing, credentials)
    sealed = bulk.seal_many(values, seal_one, workers=workers or bulk.DEFAULT_WORKERS, progress=progress,
                            processes=os.cpu_count() or 1)
    out = [seal_one.value(name, text) for name, text in sealed.items()]
    if not allow_oversized:
        check_secret_size({v.name: len(v.sealed) for v in out}, "the Secret")
    return out


def _check_size(values: Mapping[str, bytes], allow_oversized: bool, what: str) -> None:
    """Before any KMS call: refuse values whose sealed strings alone would not fit one Secret."""
    if not allow_oversized:
        check_secret_size({n: _sealed_floor(len(p)) for n, p in values.items()}, what, at_least=True)


def _sealed_floor(plaintext_bytes: int) -> int:
    """The fewest characters a sealed envelope of `plaintext_bytes` can have: its encrypted data alone (AES-GCM
    adds a 16-byte tag), in standard base64 in the payload JSON, itself in base64url in the JWS."""
    in_payload = 4 * ((plaintext_bytes + 16 + 2) // 3)
    return (4 * in_payload + 2) // 3


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
