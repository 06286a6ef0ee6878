"""The linter's rules: each one names its consumer and says what to do."""

from __future__ import annotations

import base64
import json

import pytest

from sealtui.core.codec import encode_sealed
from sealtui.core.jws import JwkSigner
from sealtui.core.lint import inspect
from sealtui.core.models import payload_from_dict

from .conftest import gc_json

B64_32 = base64.b64encode(b"k" * 32).decode()
B64_IV = base64.b64encode(b"i" * 12).decode()
B64_DATA = base64.b64encode(b"d" * 40).decode()

ALIYUN_ENVELOPE = {
    "version": "0.1.0", "type": "envelope", "key_id": "key-1", "encrypted_key": B64_32,
    "encrypted_data": B64_DATA, "wrap_type": "A256GCM", "iv": B64_IV, "provider": "aliyun",
    "provider_settings": {"client_key_id": "KAAP.1", "kms_instance_id": "kst-1", "client_type": "client_key"},
    "annotations": {"iv": B64_IV},
}


def fake(payload: dict) -> str:
    """The payload in the fake-jws form (no signature involved), so only payload rules differ."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"sealed.fakejwsheader.{body}.fakesignature"


def codes(payload: dict) -> set[str]:
    return {f.code for f in inspect(fake(payload)).findings}


def skip_verdict(payload: dict) -> str:
    return inspect(fake(payload)).verdicts["cdh-skip-verification"]


def test_good_aliyun_envelope_is_accepted():
    assert skip_verdict(ALIYUN_ENVELOPE) == "accepted"
    assert {f.severity for f in inspect(fake(ALIYUN_ENVELOPE)).findings if f.code != "unsigned"} <= {"info"}


@pytest.mark.parametrize("change, code", [
    ({"version": "0.2.0"}, "version-unsupported"),
    ({"iv": ""}, "iv-length"),
    ({"wrap_type": "A256CTR"}, "iv-length"),  # a 12-byte iv: CTR needs a 16-byte counter block
    ({"encrypted_key": "not base64!"}, "field-not-base64"),
    ({"encrypted_data": base64.urlsafe_b64encode(b"\xfb\xff" * 20).decode()}, "field-not-base64"),
    ({"encrypted_key": B64_32.rstrip("=")}, "field-not-base64"),
    ({"wrap_type": "A128GCM"}, "wrap-type-unknown"),
    ({"provider": "nope"}, "provider-unknown"),
    ({"provider_settings": {"client_key_id": "KAAP.1", "kms_instance_id": "kst-1"}}, "aliyun-client-type-missing"),
    ({"provider_settings": {"client_type": "client_key", "kms_instance_id": "kst-1"}},
     "aliyun-client-key-id-missing"),
    ({"annotations": {}}, "aliyun-iv-missing"),
    ({"provider": "kbs"}, "kbs-envelope"),
    # CDH's default build (Makefile KMS_PROVIDER=aliyun) has no aws or ehsm plugin.
    ({"provider": "aws", "provider_settings": {"region": "r"}}, "provider-unsupported"),
    ({"provider": "ehsm", "provider_settings": {"app_id": "a", "endpoint": "e"}}, "provider-unsupported"),
])
def test_envelope_errors_reject(change, code):
    payload = ALIYUN_ENVELOPE | change
    assert code in codes(payload)
    assert skip_verdict(payload) == "rejected"
    finding = next(f for f in inspect(fake(payload)).findings if f.code == code)
    assert finding.severity == "error" and "cdh" in finding.consumers and "kata-agent" not in finding.consumers


@pytest.mark.parametrize("missing", ["annotations", "provider_settings"])
def test_missing_maps_reject(missing):
    payload = {k: v for k, v in ALIYUN_ENVELOPE.items() if k != missing}
    report = inspect(fake(payload))
    finding = next(f for f in report.findings if f.code == f"{missing.replace('_', '-')}-missing")
    assert finding.fix is not None and finding.fix.text == f'add "{missing}": {{}}' and finding.fix.action == "resign"
    assert report.verdicts["cdh-skip-verification"] == "rejected"


def test_ctr_and_unknown_fields_warn_only():
    payload = ALIYUN_ENVELOPE | {"wrap_type": "A256CTR", "iv": base64.b64encode(b"i" * 16).decode(), "extra": 1}
    report = inspect(fake(payload))
    by_code = {f.code: f for f in report.findings}
    assert by_code["wrap-type-ctr"].severity == "warning"
    assert by_code["unknown-field"].severity == "warning"
    assert report.verdicts["cdh-skip-verification"] == "accepted"


def test_kbs_uri_with_two_slashes():
    payload = gc_json("vault-2.json") | {"name": "kbs://one/2/trois"}
    finding = next(f for f in inspect(fake(payload)).findings if f.code == "resource-uri-two-slashes")
    assert finding.fix is not None and "kbs:///one/2/trois" in finding.fix.text


def test_signed_header_rules(test_key):
    payload = payload_from_dict(gc_json("vault-2.json"))
    good = encode_sealed(payload, JwkSigner(test_key))
    _, h, p, s = good.split(".")

    def with_header(header: dict) -> str:
        hb = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
        return f"sealed.{hb}.{p}.{s}"

    none = inspect(with_header({"alg": "none", "kid": "test-key"}), test_key)
    assert "alg-unsupported" in {f.code for f in none.findings} and none.verdicts["cdh"] == "rejected"
    assert none.signature.verified is None  # never even attempted with alg none
    nokid = inspect(with_header({"alg": "ES256"}))
    assert "kid-missing" in {f.code for f in nokid.findings} and nokid.verdicts["cdh"] == "rejected"
    assert nokid.verdicts["cdh-skip-verification"] == "accepted"
    notjson = inspect(f"sealed.{base64.urlsafe_b64encode(b'hello').rstrip(b'=').decode()}.{p}.{s}")
    assert notjson.verdicts["cdh"] == "rejected"
    der_like = inspect(f"sealed.{h}.{p}.{base64.urlsafe_b64encode(b'0' + bytes(70)).rstrip(b'=').decode()}")
    assert "signature-length" in {f.code for f in der_like.findings}


def test_unchecked_signature_says_where_the_key_is(test_key):
    sealed = encode_sealed(payload_from_dict(gc_json("vault-2.json")), JwkSigner(test_key, kid="kbs:///a/b/c"))
    report = inspect(sealed)
    assert report.signature.verified is None
    assert "Trustee" in (report.signature.key_location or "")
    file_kid = inspect(encode_sealed(payload_from_dict(gc_json("vault-2.json")), JwkSigner(test_key)))
    location = file_kid.signature.key_location or ""
    assert location.endswith("/run/confidential-containers/cdh/sealed-secret/test-key in the guest")


def test_bad_jwk_is_a_finding_not_an_exception():
    sealed_report = inspect("sealed.fakejwsheader.e30.fakesignature", jwk="/nonexistent.json")
    assert sealed_report.form == "fake-jws"


def test_report_json_shape(test_key):
    sealed = encode_sealed(payload_from_dict(gc_json("vault-2.json")), JwkSigner(test_key))
    d = json.loads(inspect(sealed, test_key).to_json())
    assert set(d) >= {"form", "verdicts", "findings", "header", "payload", "signature"}
    assert d["signature"] == {"alg": "ES256", "kid": "test-key", "verified": True,
                              "key_location": d["signature"]["key_location"]}
    assert all({"severity", "code", "message", "consumers"} <= set(f) for f in d["findings"])


def test_report_renders_for_notebooks():
    report = inspect(fake(ALIYUN_ENVELOPE | {"key_id": "<script>alert(1)</script>"}))
    html = report._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html  # untrusted text is escaped
    assert "| cdh | **rejected** |" in report._repr_markdown_()
