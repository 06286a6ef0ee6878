"""CDH with verification skipped, the OpenAnolis CDH as released, and the kata agent's own step, rule by rule."""

from __future__ import annotations

import pytest

from tests.unit.sealed_builders import VAULT, b64u, decision, fake, js, signed, verdict

SKIP = "cdh-skip-verification"
ANOLIS = "openanolis-cdh"
KATA = "kata-agent"


def test_skip_mode_rejects_three_parts():
    text = f"sealed.{b64u(js(VAULT))}.x"  # the payload at index 1 never counts: four parts or nothing
    d = decision(text, SKIP)
    assert (d.verdict, d.step, d.error) == ("rejected", "split",
                                            "parse SealedSecret failed: malformed input sealed secret")
    assert verdict(f"sealed.h.{b64u(js(VAULT))}", SKIP) == "rejected"


@pytest.mark.parametrize("consumer", [SKIP, ANOLIS])
def test_four_part_parsers_do_not_check_part_zero(consumer):
    assert verdict(f"foo.x.{b64u(js(VAULT))}.y", consumer) == "accepted"
    assert verdict(f"Sealed.x.{b64u(js(VAULT))}.y", consumer) == "accepted"


@pytest.mark.parametrize("consumer", [SKIP, ANOLIS])
def test_four_part_parsers_ignore_parts_one_and_three(consumer):
    assert verdict(f"sealed.!!!.{b64u(js(VAULT))}. trailing ", consumer) == "accepted"


@pytest.mark.parametrize("consumer, error", [
    (SKIP, "parse SealedSecret failed: failed to decode secret body as base64 (URL-safe without padding)"),
    (ANOLIS, "parse SealedSecret failed: base64 decode Secret body"),
])
@pytest.mark.parametrize("body", ["e30=", "e3+", "e3/", " e30", "e31", "e"])
def test_four_part_parsers_decode_part_two_as_canonical_base64url(consumer, error, body):
    d = decision(f"sealed.h.{body}.s", consumer)
    assert (d.verdict, d.step, d.error) == ("rejected", "decode-body", error)


def test_skip_mode_does_not_trim():
    # Leading whitespace stays in part 0, trailing whitespace in part 3: neither is looked at...
    assert verdict(" " + fake(VAULT) + "\n", SKIP) == "accepted"
    # ...but whitespace inside part 2 is.
    assert verdict(fake(VAULT).replace(".fakesignature", " .fakesignature"), SKIP) == "rejected"


def test_openanolis_checks_no_signature_or_prefix(test_key, test_key_2):
    assert verdict(fake(VAULT), ANOLIS) == "accepted"
    assert verdict(signed(VAULT, test_key_2), ANOLIS, test_key) == "accepted"  # signed by another key
    assert verdict(signed(VAULT, test_key, {"alg": "none"}), ANOLIS) == "accepted"
    assert verdict(fake(VAULT, prefix="notsealed."), ANOLIS) == "accepted"


def test_openanolis_never_needs_the_key(test_key):
    d = decision(signed(VAULT, test_key), ANOLIS)
    assert (d.verdict, d.step) == ("accepted", "get-secret")


def test_openanolis_does_not_strip_the_prefix_repeatedly(test_key):
    text = "sealed." + signed(VAULT, test_key)  # five parts for a splitter that never strips
    assert decision(text, ANOLIS).step == "split"
    assert verdict(text, "cdh", test_key) == "accepted"


@pytest.mark.parametrize("text, forwarded", [
    ("sealed.", True), ("sealed.anything at all", True), ("seald.!!!.???", False), ("Sealed.x.y.z", False),
    (" sealed.x.y.z", False), ("SEALED.x", False), ("", False), ("x.sealed.y", False),
])
def test_kata_agent_requires_exact_prefix(text, forwarded):
    d = decision(text, KATA)
    assert d.verdict == ("accepted" if forwarded else "rejected")
    assert d.step == "forward" and d.error is None
    assert ("forwarded to CDH" in d.detail) if forwarded else ("plain text" in d.detail)
