"""The string-to-sign, byte for byte as in dkms-protocol.md §3.1 and the SDK."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sealtui.sandbox import signing

HEADERS = {
    "accept": "application/x-protobuf",
    "host": "127.0.0.1:9998",
    "date": "Sun, 22 Nov 2026 15:04:51 GMT",
    "x-kms-apiversion": "dkms-gcs-0.2",
    "x-kms-apiname": "Encrypt",
    "x-kms-signaturemethod": "RSA_PKCS1_SHA_256",
    "x-kms-acccesskeyid": "KAAP.local-best",
    "content-type": "application/x-protobuf",
    "content-sha256": "75387D91A52945987DF0ED86A41D21E44343730D41FF09DABE3F82009B9686A1",
}

EXPECTED = (
    "POST\n75387D91A52945987DF0ED86A41D21E44343730D41FF09DABE3F82009B9686A1\napplication/x-protobuf\n"
    "Sun, 22 Nov 2026 15:04:51 GMT\nx-kms-acccesskeyid:KAAP.local-best\nx-kms-apiname:Encrypt\n"
    "x-kms-apiversion:dkms-gcs-0.2\nx-kms-signaturemethod:RSA_PKCS1_SHA_256\n/"
)


def test_string_to_sign_matches_the_captured_example():
    assert signing.string_to_sign("POST", HEADERS) == EXPECTED


def test_string_to_sign_matches_the_sdk():
    sdk_util = pytest.importorskip("openapi_util.client")
    extra = dict(HEADERS, **{"x-kms-migrationkeyversionid": " 5d0c "})
    expected = sdk_util.Client.get_string_to_sign("POST", "/", extra, None)
    assert signing.string_to_sign("POST", extra) == expected


def test_sign_and_verify():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth = signing.sign_string(key, EXPECTED)
    assert auth.startswith("Bearer ") and len(auth) == 351
    assert signing.verify_signature(key.public_key(), EXPECTED, auth)
    assert not signing.verify_signature(key.public_key(), EXPECTED + " ", auth)
    assert not signing.verify_signature(key.public_key(), EXPECTED, auth.replace("Bearer ", "Basic "))
    assert not signing.verify_signature(key.public_key(), EXPECTED, "Bearer !!!not base64")


def test_body_hash_is_upper_case_hex():
    assert signing.body_sha256(b"") == "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
