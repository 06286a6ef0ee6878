"""Small builders for sealed strings in the shapes the consumer tests need (smallest input that shows a rule),
and the check every report must pass."""

from __future__ import annotations

import base64
import json
from typing import Any

from sealtui.core.consumers import MODELS, decide
from sealtui.core.jws import Jwk, JwkSigner
from sealtui.core.report import ACTIONS, Decision, InspectionReport

VAULT: dict[str, Any] = {"version": "0.1.0", "type": "vault", "name": "kbs:///default/key/1", "provider": "kbs",
                         "provider_settings": {}, "annotations": {}}
IV = base64.b64encode(b"i" * 12).decode()
ENVELOPE: dict[str, Any] = {
    "version": "0.1.0", "type": "envelope", "key_id": "key-1", "encrypted_key": base64.b64encode(b"k" * 32).decode(),
    "encrypted_data": base64.b64encode(b"d" * 40).decode(), "wrap_type": "A256GCM", "iv": IV, "provider": "aliyun",
    "provider_settings": {"client_key_id": "KAAP.1", "kms_instance_id": "kst-1", "client_type": "client_key"},
    "annotations": {"iv": IV},
}
HEADER = {"alg": "ES256", "kid": "test-key"}


def b64u(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def js(value: Any) -> str:
    """Compact JSON (a dict keeps its order; a str is taken as JSON text already)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def fake(payload: Any, prefix: str = "sealed.") -> str:
    """The unsigned `fakejwsheader` form: only the payload matters to the four-part parsers."""
    return f"{prefix}fakejwsheader.{b64u(js(payload))}.fakesignature"


def signed(payload: Any, key: Jwk, header: Any = None, prefix: str = "sealed.", payload_part: str | None = None) -> str:
    """A JWS signed by `key` over exactly `<header>.<payload>` (either may be any JSON text)."""
    h = b64u(js(HEADER if header is None else header))
    p = b64u(js(payload)) if payload_part is None else payload_part
    sig = JwkSigner(key, kid="x").sign(f"{h}.{p}".encode())
    return f"{prefix}{h}.{p}.{b64u(sig)}"


def with_signature(text: str, sig: bytes) -> str:
    head, _, _ = text.rpartition(".")
    return f"{head}.{b64u(sig)}"


def verdict(text: str, consumer: str, key: Jwk | None = None) -> str:
    return decide(text, key)[consumer].verdict


def decision(text: str, consumer: str, key: Jwk | None = None) -> Decision:
    return decide(text, key)[consumer]


def check_report(report: InspectionReport) -> None:
    """Verdicts come from the models, accepted only at a last step; error findings and verdicts agree; the
    report always renders and encodes; fixes name no front end's flags or keys."""
    rejecting = {c for c, d in report.decisions.items() if d.verdict == "rejected"}
    assert report.verdicts == {c: d.verdict for c, d in report.decisions.items()}
    for c, d in report.decisions.items():
        assert d.code != "model-error", d.detail
        if d.verdict == "accepted":
            assert d.steps and d.step == d.steps[-1] and d.step in MODELS[c].TERMINAL, (c, d)
        if d.verdict == "needs-key":
            assert c == "cdh" and d.step == "verify-signature"
    spoken = set()
    for f in report.errors():
        assert set(f.consumers) <= rejecting, (f, report.verdicts)
        spoken |= set(f.consumers)
    assert rejecting <= spoken, (rejecting - spoken, report.findings)
    for f in report.findings:
        if f.fix is not None:
            assert f.fix.action is None or f.fix.action in ACTIONS
            text = f.fix.text
            assert "--" not in text and "sealtui " not in text and "ctrl+" not in text, text
    json.loads(report.to_json()).keys()  # valid JSON
    report.to_json().encode("utf-8")
    report.render_text().encode("utf-8")
