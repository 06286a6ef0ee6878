"""What holds for every input: the models decide, findings explain, and the two never contradict each other.

- an `accepted` verdict means the model passed its last step;
- an `error` finding speaks only for consumers that reject, and every consumer that rejects has one;
- no model ever fails on its own (a model error would fail closed, but it is a bug);
- the report always renders and always encodes as UTF-8; fixes never name a front end's flags or keys.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealtui.core.jws import JwkSigner, generate_jwk
from sealtui.core.lint import inspect
from tests.unit.sealed_builders import ENVELOPE, VAULT, b64u, check_report, fake

KEY = generate_jwk("prop-key")
SIGNER = JwkSigner(KEY)


B64ISH = st.text(alphabet="ABCxyz019+/=-_.{}\"': \n\x00", max_size=120)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(
    ["envelope", "vault", "0.1.0", "A256GCM", "A256CTR", "kbs", "aliyun", "KBS", "kbs:///a/b/c", "client_key"])
JSON_VALUES = st.recursive(JSON_SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(
    st.text(max_size=8), c, max_size=3), max_leaves=8)
MEMBERS = st.sampled_from(["version", "type", "name", "provider", "key_id", "iv", "encrypted_key", "encrypted_data",
                           "wrap_type", "annotations", "provider_settings", "client_type", "x"])


@st.composite
def payload_texts(draw: st.DrawFn) -> str:
    """A payload as JSON text: a real one with members changed, dropped, repeated or of another type."""
    base = dict(draw(st.sampled_from([VAULT, ENVELOPE])))
    for name in draw(st.lists(MEMBERS, max_size=3)):
        if draw(st.booleans()):
            base.pop(name, None)
        else:
            base[name] = draw(JSON_VALUES)
    members = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in base.items()]
    for name in draw(st.lists(MEMBERS, max_size=2)):  # repeated members, which Python's dicts cannot hold
        members.append(f"{json.dumps(name)}:{json.dumps(draw(JSON_VALUES))}")
    return "{" + ",".join(draw(st.permutations(members))) + "}"


@st.composite
def headers(draw: st.DrawFn) -> str:
    header: dict = {"alg": draw(st.sampled_from(["ES256", "ES384", "none", "XYZ", None])),
                    "kid": draw(st.sampled_from(["k", "", "kbs:///a/b/c", "kbs://a/b", "../k", None]))}
    for name in draw(st.lists(st.sampled_from(["crit", "nonce", "b64", "jwk", "x5c", "x5t", "typ", "zz"]), max_size=2)):
        header[name] = draw(JSON_VALUES)
    return json.dumps({k: v for k, v in header.items() if v is not None})


@st.composite
def sealed_strings(draw: st.DrawFn) -> str:
    payload = draw(payload_texts())
    kind = draw(st.sampled_from(["fake", "signed", "raw"]))
    if kind == "fake":
        return fake(payload)
    h, p = b64u(draw(headers())), b64u(payload)
    if kind == "signed":
        return f"sealed.{h}.{p}.{b64u(SIGNER.sign(f'{h}.{p}'.encode()))}"
    return f"{draw(st.sampled_from(['sealed.', '', 'Sealed.', ' sealed.']))}{h}.{p}.{draw(B64ISH)}"


ANY_TEXT = st.one_of(
    st.text(max_size=200),
    B64ISH,
    st.builds(lambda a, b, c: f"sealed.{a}.{b}.{c}", B64ISH, B64ISH, B64ISH),
    st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", B64ISH, B64ISH, B64ISH, B64ISH),
    sealed_strings(),
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(ANY_TEXT)
def test_inspect_returns_and_verdicts_and_findings_agree(text):
    check_report(inspect(text))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(sealed_strings())
def test_with_the_key_too(text):
    check_report(inspect(text, KEY))


def test_every_rejecting_consumer_has_a_finding_even_where_no_rule_speaks():
    # A header member of the wrong type: no explaining rule knows it, the model's own reason stands in.
    h = b64u(json.dumps({"alg": "ES256", "kid": "k", "typ": 1}))
    p = b64u(json.dumps(VAULT))
    report = inspect(f"sealed.{h}.{p}.{b64u(SIGNER.sign(f'{h}.{p}'.encode()))}")
    assert report.verdicts["cdh"] == "rejected"
    finding = next(f for f in report.errors() if "cdh" in f.consumers)
    assert finding.code == "header-member-type" and "typ" in finding.message
    check_report(report)


def test_a_rule_never_speaks_for_a_consumer_that_accepts():
    # Leading whitespace: the verifying CDH and the kata agent refuse; the four-part parsers never see part 0.
    report = inspect(" " + fake(VAULT))
    finding = next(f for f in report.findings if f.code == "leading-whitespace")
    assert set(finding.consumers) == {"cdh", "kata-agent"}
    assert report.verdicts["cdh-skip-verification"] == report.verdicts["openanolis-cdh"] == "accepted"
    check_report(report)
