"""Envelope sealing through the provider interface, with an in-memory test provider."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealtui.core.codec import encode_sealed, parse_sealed
from sealtui.core.envelope import open_envelope, seal_envelope
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import JwkSigner, generate_jwk
from sealtui.core.keywrap import KeyWrapper, WrappedKey
from sealtui.core.lint import inspect


class LocalWrapper:
    """A provider implemented in a few lines: wraps the data key with its own AES key."""

    provider = "aws"

    def __init__(self) -> None:
        self.key = AESGCM.generate_key(bit_length=256)

    def wrap_key(self, data_key: bytes) -> WrappedKey:
        nonce = os.urandom(12)
        return WrappedKey("local-key", nonce + AESGCM(self.key).encrypt(nonce, data_key, None),
                          {"region": "local-1"}, {})

    def unwrap_key(self, key_id, encrypted_key, provider_settings, annotations) -> bytes:
        assert key_id == "local-key" and provider_settings == {"region": "local-1"}
        return AESGCM(self.key).decrypt(encrypted_key[:12], encrypted_key[12:], None)


@pytest.mark.parametrize("plaintext", [b"", b"hunter2", bytes(range(256)), bytes(range(256)) * 4096],
                         ids=["empty", "text", "all-bytes", "1MiB"])
def test_seal_open_round_trip(plaintext):
    wrapper = LocalWrapper()
    assert isinstance(wrapper, KeyWrapper)
    payload = seal_envelope(plaintext, wrapper)
    sealed = encode_sealed(payload, JwkSigner(generate_jwk("k")))
    report = inspect(sealed)
    # The envelope itself is sound; only the provider is one CDH's default build (aliyun, kbs) lacks.
    assert {f.code for f in report.errors()} == {"provider-unsupported"}, report.render_text()
    assert report.decisions["cdh-skip-verification"].step == "create-kms-provider"
    assert open_envelope(parse_sealed(sealed).payload, wrapper) == plaintext  # type: ignore[arg-type]
    assert len(base64.b64decode(payload.iv)) == 12
    assert len(base64.b64decode(payload.encrypted_data)) == len(plaintext) + 16


def test_tampered_data_is_refused():
    wrapper = LocalWrapper()
    payload = seal_envelope(b"secret", wrapper)
    data = bytearray(base64.b64decode(payload.encrypted_data))
    data[0] ^= 1
    tampered = payload.model_copy(update={"encrypted_data": base64.b64encode(bytes(data)).decode()})
    with pytest.raises(InvalidInputError, match="does not decrypt"):
        open_envelope(tampered, wrapper)


def test_wrong_provider_is_refused():
    payload = seal_envelope(b"x", LocalWrapper()).model_copy(update={"provider": "aliyun"})
    with pytest.raises(InvalidInputError, match="provider 'aliyun'"):
        open_envelope(payload, LocalWrapper())
