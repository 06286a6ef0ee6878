"""Every form of DESIGN §3.2 is recognised, and its verdicts match the table there."""

from __future__ import annotations

import base64
import json

import pytest

from sealtui.core.codec import Form, encode_sealed, parse_sealed
from sealtui.core.jws import JwkSigner
from sealtui.core.lint import inspect
from sealtui.core.models import payload_from_dict

from .conftest import gc_json

VAULT = gc_json("vault-2.json")
VAULT_JSON = json.dumps(VAULT, separators=(",", ":"))


def url(data: str) -> str:
    return base64.urlsafe_b64encode(data.encode()).rstrip(b"=").decode()


def std(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


@pytest.fixture(scope="module")
def signed(test_key):
    return encode_sealed(payload_from_dict(VAULT), JwkSigner(test_key))


def padded_payload_json() -> str:
    # Grow the JSON until its standard base64 needs padding, so the padded form is unambiguous.
    data = dict(VAULT)
    while "=" not in std(json.dumps(data)):
        data["name"] += "x"
    return json.dumps(data)


def verdicts(text, jwk=None):
    return inspect(text, jwk).verdicts


def test_signed_jws(signed, test_key):
    assert inspect(signed).form == "signed-jws"
    # The OpenAnolis CDH as released checks no signature: it never needs the key.
    assert verdicts(signed) == {"cdh": "needs-key", "cdh-skip-verification": "accepted",
                                "kata-agent": "accepted", "openanolis-cdh": "accepted"}
    assert verdicts(signed, test_key) == {"cdh": "accepted", "cdh-skip-verification": "accepted",
                                          "kata-agent": "accepted", "openanolis-cdh": "accepted"}


@pytest.mark.parametrize("suffix", ["\n", "  ", "\r\n", " \n"])
def test_signed_jws_with_trailing_whitespace(signed, test_key, suffix):
    report = inspect(signed + suffix, test_key)
    assert report.form == "signed-jws"
    assert report.verdicts == {"cdh": "rejected", "cdh-skip-verification": "accepted",
                               "kata-agent": "accepted", "openanolis-cdh": "accepted"}
    assert "trailing-whitespace" in {f.code for f in report.findings}


def test_leading_whitespace_is_not_forwarded_by_the_kata_agent(signed, test_key):
    v = verdicts(" " + signed, test_key)
    assert v["kata-agent"] == "rejected" and v["cdh"] == "rejected" and v["openanolis-cdh"] == "accepted"


def test_fake_jws():
    text = f"sealed.fakejwsheader.{url(VAULT_JSON)}.fakesignature"
    report = inspect(text)
    assert report.form == "fake-jws"
    assert report.verdicts == {"cdh": "rejected", "cdh-skip-verification": "accepted",
                               "kata-agent": "accepted", "openanolis-cdh": "accepted"}
    assert report.payload == VAULT


def test_fake_jws_padded():
    body = std(padded_payload_json())
    assert any(c in body for c in "=+/")
    report = inspect(f"sealed.fakejwsheader.{body}.fakesignature")
    assert report.form == "fake-jws-padded"
    assert report.verdicts == {"cdh": "rejected", "cdh-skip-verification": "rejected",
                               "kata-agent": "accepted", "openanolis-cdh": "rejected"}
    padded = next(f for f in report.findings if f.code == "payload-padded")
    assert "base64url without padding" in padded.message and padded.part == "payload"
    assert padded.position == len("sealed.fakejwsheader.")


def test_legacy_two_part_base64():
    report = inspect(f"sealed.{std(VAULT_JSON)}")
    assert report.form == "legacy-base64"
    assert report.verdicts == {"cdh": "rejected", "cdh-skip-verification": "rejected",
                               "kata-agent": "accepted", "openanolis-cdh": "rejected"}
    assert report.payload == VAULT


def test_bare_json():
    report = inspect(VAULT_JSON)
    assert report.form == "bare-json"
    assert set(report.verdicts.values()) == {"rejected"}
    assert report.payload == VAULT


def test_jws_without_prefix(signed, test_key):
    text = signed.removeprefix("sealed.")
    assert inspect(text).form == "jws-without-prefix"
    assert verdicts(text) == {"cdh": "needs-key", "cdh-skip-verification": "rejected",
                              "kata-agent": "rejected", "openanolis-cdh": "rejected"}
    assert verdicts(text, test_key)["cdh"] == "accepted"


@pytest.mark.parametrize("text", ["", "   ", "hello", "sealed.", "sealed.a.b", "a.b.c", "{not json",
                                  "sealed.!!!.x.y", "Sealed.x"])
def test_unrecognised_or_broken(text):
    report = inspect(text)
    assert report.verdicts["cdh"] == "rejected"
    assert report.findings and all(f.consumers for f in report.errors())


def test_wrong_prefix_case_is_not_forwarded_nor_stripped(signed):
    # The kata agent needs exactly `sealed.` and CDH (verifying) strips only that; the four-part parsers never
    # look at part 0.
    report = inspect("SEALED." + signed.removeprefix("sealed."))
    assert report.verdicts == {"cdh": "rejected", "cdh-skip-verification": "accepted",
                               "kata-agent": "rejected", "openanolis-cdh": "accepted"}
    prefix = next(f for f in report.findings if f.code == "prefix-case")
    assert set(prefix.consumers) == {"cdh", "kata-agent"}


def test_parse_names_each_form(signed):
    assert parse_sealed(signed).form is Form.SIGNED_JWS
    assert parse_sealed(f"sealed.fakejwsheader.{url(VAULT_JSON)}.fakesignature").form is Form.FAKE_JWS
    body = std(padded_payload_json())
    assert parse_sealed(f"sealed.fakejwsheader.{body}.fakesignature").form is Form.FAKE_JWS_PADDED
    assert parse_sealed(f"sealed.{std(VAULT_JSON)}").form is Form.LEGACY_BASE64
    assert parse_sealed(VAULT_JSON).form is Form.BARE_JSON
    assert parse_sealed(signed.removeprefix("sealed.")).form is Form.JWS_WITHOUT_PREFIX
