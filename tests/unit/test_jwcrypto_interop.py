"""Our JWS against an independent JOSE implementation (jwcrypto), in both directions."""

from __future__ import annotations

import json

from jwcrypto import jwk as jjwk
from jwcrypto import jws as jjws

from sealtui.core.codec import encode_sealed, parse_sealed
from sealtui.core.jws import JwkSigner, generate_jwk, load_jwk
from sealtui.core.models import payload_from_dict
from sealtui.core.verify import verify_sealed

from .conftest import gc_json


def test_sealtui_signature_verifies_in_jwcrypto():
    key = generate_jwk("interop")
    sealed = encode_sealed(payload_from_dict(gc_json("vault-2.json")), JwkSigner(key))
    token = jjws.JWS()
    token.deserialize(sealed.removeprefix("sealed."))
    token.verify(jjwk.JWK(**key.public_dict()))  # raises if invalid
    assert json.loads(token.payload)["name"] == "kbs:///one/2/trois"
    assert token.jose_header["kid"] == "interop"


def test_jwcrypto_signature_verifies_in_sealtui():
    key = jjwk.JWK.generate(kty="EC", crv="P-256", kid="made-by-jwcrypto")
    payload = json.dumps(gc_json("vault-2.json")).encode()
    token = jjws.JWS(payload)
    token.add_signature(key, alg="ES256", protected=json.dumps({"alg": "ES256", "kid": "made-by-jwcrypto"}))
    sealed = "sealed." + token.serialize(compact=True)
    public = load_jwk(key.export_public())
    parsed = verify_sealed(sealed, public)
    assert parsed.kid == "made-by-jwcrypto"
    assert parse_sealed(sealed).payload.to_dict()["name"] == "kbs:///one/2/trois"
