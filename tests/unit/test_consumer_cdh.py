"""Upstream CDH with verification on, rule by rule (guest-components 8246e5e0 `from_signed_base64_string`).

Each test is named after the rule and uses the smallest input that shows it.
"""

from __future__ import annotations

import pytest

from sealtui.core.consumers.jose import P256_ORDER
from tests.unit.sealed_builders import VAULT, b64u, decision, fake, js, signed, verdict, with_signature

CDH = "cdh"


@pytest.fixture(scope="module")
def good(test_key):
    return signed(VAULT, test_key)


def test_cdh_accepts_a_good_string_with_its_key_and_needs_the_key_without(good, test_key):
    assert decision(good, CDH, test_key).verdict == "accepted"
    d = decision(good, CDH)
    assert (d.verdict, d.step, d.error) == ("needs-key", "verify-signature", None)
    assert "/run/confidential-containers/cdh/sealed-secret/test-key" in d.detail


def test_cdh_strips_every_leading_prefix(good, test_key):
    assert verdict("sealed." + good, CDH, test_key) == "accepted"
    assert verdict(good.removeprefix("sealed."), CDH, test_key) == "accepted"  # no prefix: nothing to strip


@pytest.mark.parametrize("text", ["sealed.a.b", "sealed.a.b.c.d", "sealed."])
def test_cdh_needs_exactly_three_parts(text):
    d = decision(text, CDH)
    assert (d.verdict, d.step, d.error) == ("rejected", "parse-jws", "parse SealedSecret failed: Failed to parse JWS")


@pytest.mark.parametrize("mutate", [
    lambda h, p, s: (h + "=", p, s),             # padding
    lambda h, p, s: (h, p[:-1] + "+", s),        # standard alphabet
    lambda h, p, s: (h, p, s[:10] + "/" + s[11:]),
    lambda h, p, s: (h, p, s + "\n"),            # whitespace (a trailing newline)
    lambda h, p, s: (h, p + "A" * ((1 - len(p)) % 4 or 4), s),  # an impossible length (4n+1)
])
def test_cdh_decodes_each_part_as_canonical_base64url(good, test_key, mutate):
    h, p, s = good.removeprefix("sealed.").split(".")
    text = "sealed." + ".".join(mutate(h, p, s))
    d = decision(text, CDH, test_key)
    assert (d.verdict, d.step) == ("rejected", "parse-jws")


def test_cdh_refuses_non_zero_unused_bits(test_key):
    # "e30" is `{}`; "e31" decodes to the same byte with a stray bit set: base64ct refuses it.
    text = signed({}, test_key, payload_part="e31")
    assert decision(text, CDH, test_key).step == "parse-jws"
    assert decision(signed({}, test_key, payload_part="e30"), CDH, test_key).step != "parse-jws"


def test_cdh_empty_payload_fails_after_verification(test_key):
    text = signed({}, test_key, payload_part="")
    d = decision(text, CDH, test_key)
    assert (d.verdict, d.step, d.error) == ("rejected", "find-payload",
                                            "parse SealedSecret failed: Could not find JWS Payload")
    assert "verify-signature" in d.steps  # the signature over "<header>." verified first
    assert decision(text, CDH).step == "find-payload"  # whatever the key


def test_cdh_ignores_unknown_header_members(test_key):
    header = {"alg": "ES256", "kid": "test-key", "zzz": [1, {"x": None}], "url": 5, "jku": {}, "x5u": [],
              "zzz2": 1, "zzz2 ": 2}
    assert verdict(signed(VAULT, test_key, header), CDH, test_key) == "accepted"


@pytest.mark.parametrize("member", [
    {"crit": ["b64"]}, {"crit": None}, {"nonce": "AAAA"}, {"b64": False}, {"typ": "JOSE"}, {"cty": "json"},
    {"x5c": ["AAAA"]}, {"x5t": b64u(bytes(20))}, {"x5t#S256": b64u(bytes(32))}, {"kid": "test-key", "typ": None},
    {"jwk": {"kty": "EC", "crv": "P-256", "x": b64u(bytes(32)), "y": b64u(bytes(32))}},
    {"jwk": {"kty": "oct", "k": "AAAA", "key_ops": ["sign", "verify"], "use": "sig"}},
    {"alg": {"ES256": None}},  # a buffered unit variant may be written as a one-member object
])
def test_cdh_accepts_known_header_members_of_their_types(test_key, member):
    assert verdict(signed(VAULT, test_key, HEADER_WITH(member)), CDH, test_key) == "accepted"


def HEADER_WITH(member):
    return {"alg": "ES256", "kid": "test-key"} | member


@pytest.mark.parametrize("member", [
    {"crit": "b64"}, {"crit": [1]}, {"nonce": "!!"}, {"nonce": 1}, {"b64": "true"}, {"b64": None},
    {"alg": "XYZ"}, {"alg": "es256"}, {"alg": 1}, {"jwk": {}}, {"jwk": {"kty": "EC"}}, {"jwk": "key"},
    {"kid": 1}, {"x5c": "AAAA"}, {"x5c": ["-_-_"]}, {"x5t": b64u(bytes(19))}, {"x5t#S256": b64u(bytes(31))},
    {"typ": 1}, {"cty": []},
])
def test_cdh_rejects_header_members_of_the_wrong_type(test_key, member):
    d = decision(signed(VAULT, test_key, HEADER_WITH(member)), CDH, test_key)
    assert (d.verdict, d.step, d.error) == ("rejected", "parse-jws", "parse SealedSecret failed: Failed to parse JWS")


def test_cdh_rejects_a_duplicate_header_member(test_key):
    header = '{"alg":"ES256","kid":"test-key","kid":"test-key"}'
    assert decision(signed(VAULT, test_key, header), CDH, test_key).step == "parse-jws"
    ignored = '{"alg":"ES256","kid":"test-key","zzz":1,"zzz":2}'
    assert verdict(signed(VAULT, test_key, ignored), CDH, test_key) == "accepted"


def test_cdh_ignores_the_value_of_b64(test_key):
    # b64:false would mean an unencoded payload; CDH still verifies and decodes the encoded one.
    assert verdict(signed(VAULT, test_key, HEADER_WITH({"b64": False})), CDH, test_key) == "accepted"


def test_cdh_requires_kid_then_alg_then_es256(test_key):
    assert decision(signed(VAULT, test_key, {"alg": "ES256"}), CDH).error == \
        "parse SealedSecret failed: Could not find kid"
    assert decision(signed(VAULT, test_key, {"kid": "test-key"}), CDH).error == \
        "parse SealedSecret failed: Could not get algorithm"
    d = decision(signed(VAULT, test_key, {"alg": "ES384", "kid": "test-key"}), CDH)
    assert (d.verdict, d.step, d.error) == ("rejected", "check-alg", "Signing key error: JWS algorithm must be ES256")
    assert decision(signed(VAULT, test_key, {"alg": "none", "kid": "test-key"}), CDH).step == "check-alg"


@pytest.mark.parametrize("sig", [
    bytes(64),                                                   # r = s = 0
    bytes(32) + (1).to_bytes(32, "big"),                         # r = 0
    (1).to_bytes(32, "big") + P256_ORDER.to_bytes(32, "big"),    # s = n
    b"\xff" * 64,                                                # r, s > n
    bytes(63), bytes(65), b"0" + bytes(70),                      # not 64 bytes (the last looks like DER)
])
def test_signature_scalar_zero_is_rejected_without_key(good, sig):
    d = decision(with_signature(good, sig), CDH)
    assert (d.verdict, d.step, d.error) == ("rejected", "check-signature", "Signature Error: signature error")


def test_cdh_verifies_over_the_parts_as_received(good, test_key, test_key_2):
    h, _, s = good.removeprefix("sealed.").split(".")
    tampered = signed(VAULT | {"name": "kbs:///default/key/2"}, test_key)
    tampered_payload = f"sealed.{h}.{tampered.split('.')[2]}.{s}"
    d = decision(tampered_payload, CDH, test_key)
    assert (d.verdict, d.step, d.error) == ("rejected", "verify-signature", "Signature Error: signature error")
    assert verdict(good, CDH, test_key_2) == "rejected"


@pytest.mark.parametrize("kid, outcome", [
    ("test-key", "needs-key"), ("sub/dir/key", "needs-key"), ("kbs:///default/keys/1", "needs-key"),
    ("kbs+pkcs11:///a/b/c", "needs-key"), ("/run/confidential-containers/cdh/sealed-secret/k", "needs-key"),
    ("", "rejected"), ("../x", "rejected"), ("/etc/passwd", "rejected"), ("k/", "rejected"), ("k/.", "rejected"),
    ("a\x00b", "rejected"), ("kbs://default/keys/1", "rejected"), ("kbs:///a/b", "rejected"),
])
def test_cdh_fetches_the_key_named_by_kid(test_key, kid, outcome):
    d = decision(signed(VAULT, test_key, {"alg": "ES256", "kid": kid}), CDH)
    assert d.verdict == outcome
    if outcome == "rejected":
        assert d.step == "fetch-key"


def test_cdh_takes_a_given_key_as_the_one_it_fetches(good):
    not_p256 = {"kty": "EC", "crv": "P-384", "x": b64u(bytes(48)), "y": b64u(bytes(48))}
    from sealtui.core.lint import inspect

    d = inspect(good, not_p256).decisions[CDH]
    assert (d.verdict, d.step, d.error) == ("rejected", "parse-key", "Signing key error: Key must be P256")
    missing = inspect(good, "/nonexistent/key.json")
    assert missing.verdicts[CDH] == "needs-key"  # no key could be read: still waiting for one
    assert "jwk-invalid" in {f.code for f in missing.findings}


def test_payload_null_is_rejected(test_key):
    d = decision(signed(None, test_key), CDH, test_key)
    assert (d.verdict, d.step) == ("rejected", "parse-secret")
    assert d.error == "parse SealedSecret failed: malformed input sealed secret format (json deserialization failed)"


def test_cdh_reads_the_payload_only_after_the_signature(test_key):
    text = fake(VAULT).replace("fakejwsheader", b64u(js({"alg": "ES256", "kid": "k"})))
    d = decision(text, CDH)
    assert (d.verdict, d.step) == ("rejected", "parse-jws")  # 'fakesignature' is not canonical base64url
