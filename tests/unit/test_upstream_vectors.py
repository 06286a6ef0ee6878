"""Mirror of guest-components' own sealed-secret tests, on its vectors (tests/vectors/guest-components)."""

from __future__ import annotations

import pytest

from sealtui.core.codec import encode_sealed, parse_sealed
from sealtui.core.errors import SealtuiError, VerificationError
from sealtui.core.jws import JwkSigner
from sealtui.core.lint import inspect
from sealtui.core.models import payload_from_dict
from sealtui.core.verify import verify_sealed

from .conftest import gc_json


@pytest.fixture(params=["envelope-1.json", "vault-1.json", "vault-2.json"])
def payload(request):
    return payload_from_dict(gc_json(request.param))


def test_signed_with_test_key_verifies_with_it(payload, test_key):
    sealed = encode_sealed(payload, JwkSigner(test_key))
    parsed = verify_sealed(sealed, test_key)
    assert parsed.kid == "test-key"
    assert parsed.payload.to_dict() == payload.to_dict()
    assert inspect(sealed, test_key).signature.verified is True


def test_signed_with_test_key_2_does_not_verify_with_test_key(payload, test_key, test_key_2):
    sealed = encode_sealed(payload, JwkSigner(test_key_2, kid="test-key"))
    with pytest.raises(VerificationError):
        verify_sealed(sealed, test_key)
    report = inspect(sealed, test_key)
    assert report.signature.verified is False
    assert report.verdicts["cdh"] == "rejected"


@pytest.mark.parametrize("offset", [50, 200, 250])
def test_one_changed_character_fails_verification(payload, test_key, offset):
    sealed = encode_sealed(payload, JwkSigner(test_key))
    assert len(sealed) > offset
    replacement = "A" if sealed[offset] != "A" else "B"
    tampered = sealed[:offset] + replacement + sealed[offset + 1:]
    with pytest.raises(SealtuiError):  # VerificationError, or InvalidInputError if the part no longer decodes
        verify_sealed(tampered, test_key)
    assert inspect(tampered, test_key).verdicts["cdh"] == "rejected"


@pytest.mark.parametrize("length", [0, 1, 2, 3])
def test_short_vault_names_serialize_without_padding(test_key, length):
    data = gc_json("vault-2.json") | {"name": "a" * length}
    sealed = encode_sealed(payload_from_dict(data), JwkSigner(test_key))
    assert "=" not in sealed
    assert parse_sealed(sealed).payload.name == "a" * length  # type: ignore[union-attr]


def test_header_is_exactly_what_secret_seal_writes(test_key):
    import base64
    import json

    sealed = encode_sealed(payload_from_dict(gc_json("vault-2.json")), JwkSigner(test_key))
    header = sealed.split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"b64": True, "alg": "ES256", "kid": "test-key"}
    assert not sealed.endswith("\n") and " " not in sealed
