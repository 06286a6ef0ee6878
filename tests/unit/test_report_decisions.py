"""The report carries each consumer's decision (step, own error text, code version) and structured fixes."""

from __future__ import annotations

import json

import pytest

from sealtui.cli._fixes import CLI_ACTIONS, render_action
from sealtui.core.errors import InvalidInputError, VerificationError
from sealtui.core.lint import inspect
from sealtui.core.report import ACTIONS
from sealtui.core.sealing import ensure_cdh_accepts
from sealtui.core.verify import verify_sealed
from tests.unit.sealed_builders import VAULT, b64u, fake, js, signed


def test_json_has_each_decision_beside_the_verdicts(test_key):
    d = json.loads(inspect(fake(VAULT)).to_json())
    assert d["verdicts"]["cdh"] == "rejected"
    cdh = d["decisions"]["cdh"]
    assert cdh["step"] == "parse-jws" and cdh["error"] == "parse SealedSecret failed: Failed to parse JWS"
    assert "guest-components 8246e5e0" in cdh["code_version"]
    assert "f132e630" in d["decisions"]["openanolis-cdh"]["code_version"]
    assert d["decisions"]["kata-agent"] == d["decisions"]["kata-agent"] | {"verdict": "accepted", "step": "forward",
                                                                            "error": None}


def test_json_fix_is_text_with_its_action_beside_it():
    d = json.loads(inspect(fake(VAULT)).to_json())
    unsigned = next(f for f in d["findings"] if f["code"] == "unsigned")
    assert isinstance(unsigned["fix"], str) and unsigned["fix_action"] == "resign"


def test_text_view_names_the_step_the_error_and_the_model():
    text = inspect(fake(VAULT)).render_text()
    assert "cdh                    rejected at parse-jws" in text
    assert "error: parse SealedSecret failed: Failed to parse JWS" in text
    assert "model: inclavare-containers/guest-components f132e630" in text
    assert "kata-agent             accepted at forward" in text and "forwarded to CDH" in text


def test_text_view_renders_actions_through_the_front_end(test_key):
    report = inspect(signed(VAULT, test_key))
    plain, cli = report.render_text(), report.render_text(render_action)
    assert "--jwk" not in plain
    assert "(--jwk PUBLIC.json)" in cli
    assert set(CLI_ACTIONS) == set(ACTIONS)


def test_fresh_sealed_strings_pass_the_models(test_key):
    ensure_cdh_accepts(signed(VAULT, test_key))  # cdh needs the key; skip mode and the agent take it


def test_sealing_refuses_what_a_model_refuses(test_key):
    with pytest.raises(InvalidInputError, match="cdh would reject this secret at create-kms-provider"):
        ensure_cdh_accepts(signed(VAULT | {"provider": "aws"}, test_key))


def test_verify_decides_on_the_signature_first(test_key):
    good = signed(VAULT, test_key)
    h, _, s = good.removeprefix("sealed.").split(".")
    no_provider = {k: v for k, v in VAULT.items() if k != "provider"}
    tampered = f"sealed.{h}.{b64u(js(no_provider))}.{s}"
    with pytest.raises(VerificationError, match="signature does not match"):
        verify_sealed(tampered, test_key)
    # Signed as it is, the same payload passes the signature and fails on its own.
    with pytest.raises(InvalidInputError, match="provider"):
        verify_sealed(signed(no_provider, test_key), test_key)
