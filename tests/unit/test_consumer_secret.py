"""The payload as CDH reads it (serde's derived `Secret`, serde_json 1.0.150), then `unseal()`, in both modes.

Verification-skipped CDH gives the payload rules with the least around them; the verifying CDH shares them.
"""

from __future__ import annotations

import base64

import pytest

from tests.unit.sealed_builders import ENVELOPE, VAULT, decision, fake, signed, verdict

SKIP = "cdh-skip-verification"
PARSE_ERROR = "parse SealedSecret failed: malformed input sealed secret format (json deserialization failed)"


def payload_verdict(payload) -> str:
    return verdict(fake(payload), SKIP)


def refused_at(payload) -> tuple[str, str, str | None]:
    d = decision(fake(payload), SKIP)
    return d.verdict, d.step, d.error


def vault_json(extra: str = "", **changes: str) -> str:
    """VAULT as JSON text with some members written literally (to write what Python's json cannot)."""
    members = {k: f'"{v}"' if isinstance(v, str) else ("{}" if v == {} else str(v)) for k, v in VAULT.items()}
    members.update(changes)
    return "{" + ",".join(f'"{k}":{v}' for k, v in members.items()) + extra + "}"


@pytest.mark.parametrize("payload", ["null", "[]", '"x"', "1", "true"])
def test_payload_must_be_an_object(payload):
    assert refused_at(payload) == ("rejected", "parse-secret", PARSE_ERROR)


def test_payload_null_is_rejected_in_both_modes(test_key):
    assert payload_verdict("null") == "rejected"
    assert verdict(signed(None, test_key), "cdh", test_key) == "rejected"


@pytest.mark.parametrize("repeated", ['"version":"0.1.0"', '"type":"vault"', '"name":"kbs:///a/b/c"',
                                      '"provider":"kbs"', '"annotations":{}', '"provider_settings":{}'])
def test_cdh_rejects_duplicate_member(repeated):
    assert refused_at(vault_json("," + repeated))[:2] == ("rejected", "parse-secret")


def test_duplicate_unknown_member_is_ignored():
    assert payload_verdict(vault_json(',"x":1,"x":2')) == "accepted"
    assert payload_verdict(vault_json(provider_settings='{"a":1,"a":2}')) == "accepted"  # a map: the last wins


def test_duplicate_variant_field_of_the_other_variant_is_ignored():
    assert payload_verdict(vault_json(',"iv":1,"iv":2')) == "accepted"  # `iv` is no field of a vault secret


def test_nesting_deeper_than_128_is_an_error():
    # serde_json's budget is 128 levels, the top-level object included: 127 fit, 128 do not.
    assert payload_verdict(vault_json(',"x":' + "[" * 126 + "]" * 126)) == "accepted"
    assert refused_at(vault_json(',"x":' + "[" * 127 + "]" * 127))[:2] == ("rejected", "parse-secret")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 400])
def test_nan_infinity_and_out_of_range_numbers_are_not_json(value):
    assert payload_verdict(vault_json(f',"x":{value}')) == "rejected"


def test_big_numbers_in_range_are_json():
    assert payload_verdict(vault_json(',"x":' + "9" * 300 + ',"y":1e300,"z":-0')) == "accepted"


def test_lone_surrogate_escapes_are_errors():
    assert payload_verdict(vault_json(',"x":"\\ud800"')) == "rejected"
    assert payload_verdict(vault_json(',"\\udc00":1')) == "rejected"
    assert payload_verdict(vault_json(',"x":"\\ud83d\\ude00"')) == "accepted"  # a pair is one character


def test_payload_must_be_utf8():
    body = base64.urlsafe_b64encode(vault_json().encode()[:-1] + b',"x":"\xff"}').rstrip(b"=").decode()
    assert verdict(f"sealed.fakejwsheader.{body}.fakesignature", SKIP) == "rejected"


@pytest.mark.parametrize("version", ["1", "null", "[]"])
def test_version_must_be_a_string(version):
    assert refused_at(vault_json(version=version))[:2] == ("rejected", "parse-secret")


@pytest.mark.parametrize("tag, outcome", [
    ('"vault"', "accepted"), ("1", "accepted"),  # a buffered tag may be the variant index
    ('"Vault"', "rejected"), ('"VAULT"', "rejected"), ("2", "rejected"), ("-0", "rejected"), ("1.0", "rejected"),
    ("true", "rejected"), ("null", "rejected"),
])
def test_type_is_a_variant_identifier(tag, outcome):
    assert payload_verdict(vault_json(type=tag)) == outcome


def test_missing_type_is_an_error():
    payload = {k: v for k, v in VAULT.items() if k != "type"}
    assert refused_at(payload)[:2] == ("rejected", "parse-secret")


@pytest.mark.parametrize("field", ["key_id", "encrypted_key", "encrypted_data", "wrap_type", "iv", "provider",
                                   "provider_settings", "annotations"])
def test_envelope_needs_every_field(field):
    assert payload_verdict({k: v for k, v in ENVELOPE.items() if k != field}) == "rejected"


@pytest.mark.parametrize("change", [{"key_id": 1}, {"iv": None}, {"provider_settings": []},
                                    {"annotations": None}, {"name": 1}])
def test_fields_have_their_json_types(change):
    base = VAULT if "name" in change else ENVELOPE
    assert payload_verdict(base | change) == "rejected"


def test_unknown_members_are_ignored():
    assert payload_verdict(VAULT | {"extra": {"deep": [1, 2]}, "key_id": 5}) == "accepted"


@pytest.mark.parametrize("wrap, outcome", [
    ("A256GCM", "accepted"), ({"A256GCM": None}, "accepted"), ({"A256GCM": {}}, "accepted"),
    ("a256gcm", "rejected"), ("A128GCM", "rejected"), ({"A256GCM": 1}, "rejected"), ({"A256GCM": []}, "rejected"),
    ({}, "rejected"), (0, "rejected"),
])
def test_wrap_type_is_a_unit_enum(wrap, outcome):
    assert payload_verdict(ENVELOPE | {"wrap_type": wrap}) == outcome


def test_wrap_type_object_with_two_members_is_an_error():
    text = fake('{"version":"0.1.0","type":"envelope","key_id":"k","encrypted_key":"a2tr",'
                '"encrypted_data":"ZGRkZGRkZGRkZGRkZGRkZGRkZGQ=","wrap_type":{"A256GCM":null,"A256GCM":null},'
                f'"iv":"{ENVELOPE["iv"]}","provider":"aliyun","provider_settings":{{"client_type":"client_key",'
                f'"client_key_id":"a","kms_instance_id":"b"}},"annotations":{{"iv":"{ENVELOPE["iv"]}"}}}}')
    assert verdict(text, SKIP) == "rejected"


def test_unseal_refuses_another_version():
    d = decision(fake(VAULT | {"version": "0.2.0"}), SKIP)
    assert (d.verdict, d.step, d.error) == ("rejected", "check-version", "version not supported, only 0.1.0 supported")


@pytest.mark.parametrize("field, value", [
    ("encrypted_key", base64.b64encode(b"k" * 32).decode().rstrip("=")),       # padding missing
    ("encrypted_key", base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode()),   # the url alphabet
    ("encrypted_key", "aR=="),                                                  # "aQ==" with a stray bit
    ("encrypted_data", "ZGRk=ZGRk"),                                            # padding in the middle
    ("iv", " " + ENVELOPE["iv"]),                                               # whitespace
])
def test_envelope_byte_fields_are_canonical_standard_base64(field, value):
    assert refused_at(ENVELOPE | {field: value})[0] == "rejected"
    assert decision(fake(ENVELOPE | {field: value}), SKIP).code == "field-not-base64"


@pytest.mark.parametrize("payload", [VAULT | {"provider": "KBS"}, VAULT | {"provider": "Kbs"},
                                     ENVELOPE | {"provider": "Aliyun"}, ENVELOPE | {"provider": "ALIYUN"}])
def test_provider_names_are_ascii_case_insensitive(payload):
    assert payload_verdict(payload) == "accepted"


def test_provider_name_matching_is_ascii_only():
    assert payload_verdict(VAULT | {"provider": "\u212abs"}) == "rejected"  # KELVIN SIGN is no ASCII 'K'


@pytest.mark.parametrize("payload, code", [
    (ENVELOPE | {"provider": "aws", "provider_settings": {"region": "r"}}, "provider-unsupported"),
    (ENVELOPE | {"provider": "ehsm", "provider_settings": {"app_id": "a", "endpoint": "e"}}, "provider-unsupported"),
    (ENVELOPE | {"provider": "kbs"}, "kbs-envelope"),
    (VAULT | {"provider": "nope"}, "provider-unknown"),
    (ENVELOPE | {"provider_settings": {"client_type": "ecs_ram_role"}}, "aliyun-client-type-cannot-decrypt"),
    (ENVELOPE | {"provider_settings": {"client_type": "x"}}, "aliyun-client-type-unknown"),
    (ENVELOPE | {"provider_settings": {"client_type": "client_key", "kms_instance_id": "k"}},
     "aliyun-client-key-id-missing"),
    (ENVELOPE | {"annotations": {}}, "aliyun-iv-missing"),
    (ENVELOPE | {"encrypted_key": ""}, "field-empty"),
    (VAULT | {"name": "kbs:///a/b"}, "resource-uri-invalid"),
    (VAULT | {"name": "kbs://a/b/c"}, "resource-uri-two-slashes"),
    (VAULT | {"provider": "aliyun", "provider_settings": {"client_type": "ecs_ram_role"},
              "annotations": {"version_stage": None}}, "field-type"),
])
def test_provider_steps_name_where_cdh_fails(payload, code):
    d = decision(fake(payload), SKIP)
    assert d.verdict == "rejected" and d.code == code
    assert d.step in ("create-kms-provider", "kms-decrypt", "get-secret")


@pytest.mark.parametrize("payload", [
    VAULT | {"provider": "aliyun", "provider_settings": {"client_type": "ecs_ram_role"}},
    VAULT | {"provider": "aliyun", "provider_settings": {"client_type": "sts_token", "token_path": "/t",
                                                         "region_id": "r"}},
    VAULT | {"name": "kbs:///a/b/c?version=2"}, VAULT | {"name": "kbs+pkcs11:///a/b/c"},
    VAULT | {"name": " kbs:///a/b/c"},  # the URL parser drops leading spaces
])
def test_provider_steps_accept_what_the_plugins_take(payload):
    assert payload_verdict(payload) == "accepted"


def test_openanolis_has_its_own_aliyun_client_types():
    attestation = VAULT | {"provider": "aliyun", "provider_settings": {"client_type": "attestation",
                                                                       "kms_instance_id": "kst", "sts_token": "a:b:c"}}
    assert verdict(fake(attestation), "openanolis-cdh") == "accepted"
    assert verdict(fake(attestation), SKIP) == "rejected"  # upstream knows no such client type
    bad = attestation | {"provider_settings": attestation["provider_settings"] | {"ecs_ram_role_name": "r"}}
    assert verdict(fake(bad), "openanolis-cdh") == "rejected"  # only one credential source
    not_pem = attestation | {"provider_settings": attestation["provider_settings"] | {"kms_ca_cert": "x"}}
    assert verdict(fake(not_pem), "openanolis-cdh") == "rejected"  # an inline CA must be a certificate


@pytest.mark.parametrize("change, outcome", [
    ({"iv": ""}, "rejected"),                                                # no nonce at all
    ({"iv": base64.b64encode(b"i" * 16).decode()}, "accepted"),              # OpenSSL takes 1..128 bytes
    ({"iv": base64.b64encode(b"i" * 129).decode()}, "rejected"),
    ({"wrap_type": "A256CTR"}, "rejected"),                                  # 12 bytes: CTR needs 16
    ({"wrap_type": "A256CTR", "iv": base64.b64encode(b"i" * 16).decode()}, "accepted"),
    ({"encrypted_data": base64.b64encode(b"d" * 15).decode()}, "rejected"),  # shorter than the GCM tag
])
def test_decrypt_step_follows_cdhs_openssl(change, outcome):
    assert payload_verdict(ENVELOPE | change) == outcome
