"""The false accepts issue 8 names, through the public API only (each failed before the consumer models)."""

from __future__ import annotations

import base64
import json

import pytest

import sealtui


def b64u(data: str) -> str:
    return base64.urlsafe_b64encode(data.encode()).rstrip(b"=").decode()


VAULT = {"version": "0.1.0", "type": "vault", "name": "kbs:///default/key/1", "provider": "kbs",
         "provider_settings": {}, "annotations": {}}


def signed(payload: str, test_key, header: str = '{"alg":"ES256","kid":"test-key"}') -> str:
    from sealtui.core.jws import JwkSigner

    h, p = b64u(header), b64u(payload)
    sig = base64.urlsafe_b64encode(JwkSigner(test_key).sign(f"{h}.{p}".encode())).rstrip(b"=").decode()
    return f"sealed.{h}.{p}.{sig}"


def test_payload_null_is_not_accepted(test_key):
    verdicts = sealtui.inspect(signed("null", test_key), test_key).verdicts
    assert verdicts["cdh"] == verdicts["cdh-skip-verification"] == verdicts["openanolis-cdh"] == "rejected"


@pytest.mark.parametrize("prefix", ["", "sealed"])
def test_three_parts_under_skip_mode_are_not_accepted(prefix):
    text = f"{prefix}fakejwsheader.{b64u(json.dumps(VAULT))}.fakesignature"  # the prefix's dot is missing
    assert sealtui.inspect(text).verdicts["cdh-skip-verification"] == "rejected"


@pytest.mark.parametrize("member", ['"kid":1', '"typ":1', '"crit":"x"', '"b64":"true"', '"x5t":"AAAA"'])
def test_headers_whose_known_members_have_the_wrong_type_are_not_accepted(test_key, member):
    kid = "" if member.startswith('"kid"') else '"kid":"test-key",'
    header = '{"alg":"ES256",' + kid + member + "}"
    assert sealtui.inspect(signed(json.dumps(VAULT), test_key, header), test_key).verdicts["cdh"] == "rejected"


def test_payloads_with_duplicate_members_are_not_accepted(test_key):
    payload = json.dumps(VAULT)[:-1] + ',"provider":"kbs"}'
    verdicts = sealtui.inspect(signed(payload, test_key), test_key).verdicts
    assert verdicts["cdh"] == verdicts["cdh-skip-verification"] == verdicts["openanolis-cdh"] == "rejected"


def test_seald_is_not_forwarded_by_the_kata_agent():
    assert sealtui.inspect("seald.!!!.???").verdicts["kata-agent"] == "rejected"
