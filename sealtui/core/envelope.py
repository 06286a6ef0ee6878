"""Envelope sealing: AES-256-GCM over the data, the data key wrapped by a provider (`KeyWrapper`).

The core never knows which KMS it talks to: the provider wraps the 32-byte data key and says what goes into
`provider_settings` and `annotations`; the core does the data encryption, exactly as CDH undoes it
(12-byte nonce, 16-byte tag appended, no AAD).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealtui.core.b64 import b64std_encode
from sealtui.core.codec import decode_std_field
from sealtui.core.errors import InvalidInputError, ProviderError
from sealtui.core.keywrap import KeyWrapper
from sealtui.core.models import SUPPORTED_VERSION, EnvelopePayload

DATA_KEY_BYTES = 32
NONCE_BYTES = 12


def seal_envelope(plaintext: bytes, wrapper: KeyWrapper) -> EnvelopePayload:
    """Encrypt `plaintext` under a fresh data key that `wrapper` wraps; return the envelope payload."""
    if not isinstance(plaintext, bytes | bytearray | memoryview):
        raise InvalidInputError(f"plaintext must be bytes, not {type(plaintext).__name__}")
    data_key = AESGCM.generate_key(bit_length=8 * DATA_KEY_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, bytes(plaintext), None)
    wrapped = wrapper.wrap_key(data_key)
    return EnvelopePayload(
        version=SUPPORTED_VERSION,
        provider=wrapper.provider,
        key_id=wrapped.key_id,
        encrypted_key=b64std_encode(wrapped.encrypted_key),
        encrypted_data=b64std_encode(sealed),
        wrap_type="A256GCM",
        iv=b64std_encode(nonce),
        provider_settings=dict(wrapped.provider_settings),
        annotations=dict(wrapped.annotations),
    )


def open_envelope(payload: EnvelopePayload, wrapper: KeyWrapper) -> bytes:
    """Unwrap the data key through `wrapper` and decrypt the data. Raises `SealtuiError` subclasses."""
    if payload.provider != wrapper.provider:
        raise InvalidInputError(
            f"the secret was sealed with provider {payload.provider!r}, not {wrapper.provider!r}",
            fix=f"unseal it with the {payload.provider} provider",
        )
    if payload.version != SUPPORTED_VERSION:
        raise InvalidInputError(f"payload version {payload.version!r} is not {SUPPORTED_VERSION}",
                                fix="CDH would refuse it too; re-seal it")
    if payload.wrap_type != "A256GCM":
        raise InvalidInputError(f"wrap_type {payload.wrap_type!r} is not supported for unsealing by sealtui",
                                fix="re-seal with A256GCM (authenticated)")
    encrypted_key = decode_std_field(payload.encrypted_key, "encrypted_key")
    data = decode_std_field(payload.encrypted_data, "encrypted_data")
    nonce = decode_std_field(payload.iv, "iv")
    if len(nonce) != NONCE_BYTES:
        raise InvalidInputError(f"payload field 'iv' is {len(nonce)} bytes; A256GCM needs 12")
    data_key = wrapper.unwrap_key(payload.key_id, encrypted_key, payload.provider_settings or {},
                                  payload.annotations or {})
    if len(data_key) != DATA_KEY_BYTES:
        raise ProviderError(f"the KMS returned a {len(data_key)}-byte data key; A256GCM needs 32",
                            fix="check that key_id names the key that sealed this secret")
    try:
        return AESGCM(data_key).decrypt(nonce, data, None)
    except InvalidTag:
        raise InvalidInputError(
            "encrypted_data does not decrypt: the data or its iv was altered, or the data key is not its own",
        ) from None
