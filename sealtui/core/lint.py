"""Inspect any input string: its form, what each consumer would do with it, and every reason why.

The verdicts come only from the consumer models (`sealtui.core.consumers`), which replay each consumer's code.
This module explains them: its rules name the form, the payload's problems (all of them, where a model stops at
the first) and the signature's state. One rule holds the two together, for every input: an `error` finding speaks
only for consumers that reject the input, and every consumer that rejects it has an `error` finding that speaks
for it (the model's own reason, when no rule already does).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sealtui.core.codec import Decoded, Form, decode
from sealtui.core.consumers import Context, decide
from sealtui.core.consumers.base import shown as _short
from sealtui.core.consumers.jose import SEALED_SECRET_DIR, key_refusal, kid_problem
from sealtui.core.consumers.providers import OPENANOLIS, UPSTREAM
from sealtui.core.consumers.secret import parse_secret, secret_steps
from sealtui.core.errors import SealtuiError
from sealtui.core.files import read_bytes
from sealtui.core.jws import ALG, Jwk, load_jwk, verify_raw
from sealtui.core.report import (
    CONSUMERS,
    VERIFYING_CONSUMERS,
    Decision,
    Finding,
    Fix,
    InspectionReport,
    Severity,
    SignatureInfo,
)

ALL = tuple(CONSUMERS)
PAYLOAD_CONSUMERS = ("cdh", "cdh-skip-verification", "openanolis-cdh")
"""The consumers that parse and unseal the payload."""
_BUILD_CONSUMERS = ((UPSTREAM, ("cdh", "cdh-skip-verification")), (OPENANOLIS, ("openanolis-cdh",)))

JwkLike = Jwk | Mapping[str, Any] | str | os.PathLike[str]

_RESIGN = Fix("re-sign it into the canonical signed form (nothing is decrypted)", "resign")


class _Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []
        self._index: dict[tuple[str, str, str], int] = {}

    def add(self, severity: Severity, code: str, message: str, consumers: tuple[str, ...] = PAYLOAD_CONSUMERS,
            *, fix: Fix | str | None = None, part: str | None = None, position: int | None = None) -> None:
        if isinstance(fix, str):
            fix = Fix(fix)
        i = self._index.get((severity, code, message))
        if i is not None:  # the same finding from two builds: one finding, both consumers
            f = self.items[i]
            self.items[i] = replace(f, consumers=f.consumers + tuple(c for c in consumers if c not in f.consumers))
            return
        self._index[(severity, code, message)] = len(self.items)
        self.items.append(Finding(severity, code, message, tuple(consumers), fix, part, position))


def key_location(kid: str | None) -> str | None:
    """Where CDH looks for the public key named by `kid` (or why it cannot)."""
    if not kid:
        return None
    where, why = kid_problem(kid)
    if why is not None:
        return why
    if where.startswith("KBS"):
        return f"CDH fetches it from Trustee (KBS) as resource {kid}"
    return f"CDH reads it from {SEALED_SECRET_DIR}/{kid} in the guest"


def inspect(text: str, jwk: JwkLike | None = None) -> InspectionReport:
    """Inspect `text` (any string) and return the report. Never raises for a `str` input."""
    if not isinstance(text, str):
        text = str(text)
    key, key_error, refusal = _load_key(jwk)
    ctx = Context(text, key, refusal)
    d = decode(text, ctx)
    decisions = decide(text, key, ctx)
    f = _Findings()
    _form_rules(d, f)
    kind = _payload_rules(d, f, ctx)
    sig = _signature_rules(d, f, key, key_error, ctx.results)
    findings = _aligned(f.items, decisions)
    verdicts = {c: decisions[c].verdict for c in CONSUMERS}
    return InspectionReport(
        form=d.form.value,
        form_description=d.form.description,
        verdicts=verdicts,
        findings=findings,
        header=d.header,
        payload=d.payload,
        signature=sig,
        input_length=len(text),
        kind=kind,
        summary=_summary(d.form, verdicts, findings),
        decisions=decisions,
    )


def _load_key(jwk: JwkLike | None) -> tuple[Jwk | None, SealtuiError | None, tuple[str, str] | None]:
    """The key sealtui verifies with, why it cannot, and why CDH would refuse it (given as its kid's key)."""
    if jwk is None:
        return None, None, None
    raw = _key_bytes(jwk)
    refusal = key_refusal(raw) if raw is not None else None
    try:
        return load_jwk(jwk), None, refusal
    except SealtuiError as e:
        return None, e, refusal


def _key_bytes(jwk: JwkLike) -> bytes | None:
    """The key as CDH would read it from its file, when the source can be read (else: no key at all)."""
    if isinstance(jwk, Jwk):
        return None
    if isinstance(jwk, Mapping):
        try:
            return json.dumps(dict(jwk)).encode()
        except (TypeError, ValueError):
            return None
    text = str(jwk)
    if text.lstrip().startswith("{"):
        return text.encode("utf-8", "surrogatepass")
    try:
        return read_bytes(text, "the public JWK")  # a regular file only: `/dev/zero` would never end
    except (SealtuiError, ValueError):
        return None


def _form_rules(d: Decoded, f: _Findings) -> None:
    json_refused = d.payload_doc is not None and not d.payload_doc.ok  # the payload rules explain that
    for p in d.problems:
        if json_refused and p.part == "payload" and p.reason.startswith("decodes to"):
            continue
        consumers: tuple[str, ...] = VERIFYING_CONSUMERS if p.part in ("header", "signature") else PAYLOAD_CONSUMERS
        if p.part == "input":
            consumers = ALL  # the kata agent's part is pruned when it forwards the value
        code = "undecodable" if p.part == "input" else f"{p.part}-malformed"
        if p.part == "payload" and "padded standard base64" in p.reason:
            code = "payload-padded"
        f.add("error", code, f"{p.part} {p.reason}" if not p.reason.startswith(p.part) else p.reason,
              consumers, fix=p.fix, part=p.part, position=p.position)
    if d.form is Form.UNRECOGNISED:
        return

    if d.leading_whitespace:
        f.add("error", "leading-whitespace", "the string starts with whitespace: the kata agent does not forward "
              "it, and CDH with verification on does not strip the prefix", ("cdh", "kata-agent"),
              fix=Fix("remove the leading whitespace", "strip-whitespace"), part="prefix", position=0)
    if d.trailing_whitespace:
        shown = repr(d.trailing_whitespace[:20])
        f.add("error", "trailing-whitespace",
              f"the string ends with {shown}: upstream CDH then cannot decode the signature part and rejects it",
              ("cdh",), fix=Fix("write it without the trailing whitespace (in YAML, a plain or `|-` scalar)",
                                "strip-whitespace"),
              part="signature", position=len(d.text) - len(d.trailing_whitespace))
        f.add("info", "trailing-whitespace-ignored", "CDH with verification skipped and the OpenAnolis CDH never "
              "decode the last part, so whitespace at its end does not matter to them",
              ("openanolis-cdh", "cdh-skip-verification"))
    if d.prefix is not None and d.prefix != "sealed.":
        f.add("error", "prefix-case", f"the prefix is {d.prefix!r}: the kata agent forwards only values that start "
              "with lower-case `sealed.`, and CDH with verification on strips only that", ("cdh", "kata-agent"),
              fix=Fix("write it as `sealed.`", "resign"), part="prefix", position=len(d.leading_whitespace))

    form = d.form
    if form is Form.JWS_WITHOUT_PREFIX:
        f.add("error", "prefix-missing", "no `sealed.` prefix: the kata agent passes the value through as plain "
              "text, and CDH with verification skipped and the OpenAnolis CDH need four parts",
              ("cdh-skip-verification", "kata-agent", "openanolis-cdh"), fix=Fix("prepend `sealed.`", "resign"),
              part="prefix", position=0)
    elif form is Form.BARE_JSON:
        f.add("error", "bare-json", "a bare JSON payload is not a sealed secret for any current consumer", ALL,
              fix=_RESIGN)
    elif form is Form.LEGACY_BASE64:
        f.add("error", "legacy-two-part", "`sealed.<base64 JSON>` (two parts) is the original spec's form; CDH now "
              "needs the JWS parts", PAYLOAD_CONSUMERS, fix=_RESIGN, part="payload")
    elif form in (Form.FAKE_JWS, Form.FAKE_JWS_PADDED):
        f.add("error", "unsigned", "placeholder header and signature (`fakejwsheader`/`fakesignature`): CDH verifies "
              "the signature by default and rejects it", VERIFYING_CONSUMERS,
              fix=Fix("sign it into the canonical form, or run CDH with SKIP_SEALED_SECRET_VERIFICATION=true",
                      "resign"), part="signature")


def _payload_rules(d: Decoded, f: _Findings, ctx: Context) -> str | None:
    """Every problem each CDH build finds in the payload shown (a model stops at the first); the payload type."""
    doc = d.payload_doc
    if doc is None:
        return None
    for build, consumers in _BUILD_CONSUMERS:
        for _step, problems in secret_steps(ctx, doc, build):
            for p in problems:
                f.add(p.severity, p.code, p.detail, consumers, fix=p.fix, part=p.part)
    secret, _ = parse_secret(doc)
    if secret is not None:
        return secret.kind
    tag = doc.value.get("type") if isinstance(doc.value, dict) else None
    return tag if tag in ("envelope", "vault") else None


def _signature_rules(d: Decoded, f: _Findings, key: Jwk | None, key_error: SealtuiError | None,
                     results: dict[str, Any]) -> SignatureInfo:
    sig = SignatureInfo()
    if key_error is not None:
        f.add("error", "jwk-invalid", f"the verification key cannot be used: {key_error.message}", (),
              fix=key_error.fix)
    if d.form not in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX) or not isinstance(d.header, dict):
        return sig
    h = d.header
    alg, kid = h.get("alg"), h.get("kid")
    sig.alg = alg if isinstance(alg, str) else None
    sig.kid = kid if isinstance(kid, str) else None
    sig.key_location = key_location(sig.kid)
    resign = Fix("re-sign it with an ES256 (P-256) key", "resign")
    if alg is None:
        f.add("error", "alg-missing", "header has no 'alg'", VERIFYING_CONSUMERS, fix=resign, part="header")
    elif alg != ALG:
        extra = " ('none' means no signature at all)" if str(alg).lower() == "none" else ""
        f.add("error", "alg-unsupported", f"header alg is {_short(alg)}{extra}; CDH accepts only ES256",
              VERIFYING_CONSUMERS, fix=resign, part="header")
    if not sig.kid:
        f.add("error", "kid-missing", "header has no 'kid', so CDH cannot find the public key", VERIFYING_CONSUMERS,
              fix=Fix("re-sign it with a kid (a kbs:/// URI or a file name)", "resign"), part="header")
    elif sig.kid.startswith("kbs://") and not sig.kid.startswith("kbs:///"):
        f.add("error", "kid-two-slashes", f"kid {_short(sig.kid)} has two slashes after 'kbs:'", VERIFYING_CONSUMERS,
              fix=Fix(f"re-sign it with kid kbs:///{_short(sig.kid[len('kbs://'):])}", "resign"), part="header")
    if h.get("b64", True) is not True:
        f.add("warning", "b64-false", "header sets b64 to something other than true; CDH ignores its value: the "
              "signature covers the encoded payload, which it decodes as base64url", VERIFYING_CONSUMERS,
              part="header")
    if d.signature is not None and len(d.signature) != 64:
        hint = " (it looks like DER; JWS needs raw r‖s)" if d.signature[:1] == b"\x30" else ""
        f.add("error", "signature-length", f"signature is {len(d.signature)} bytes; ES256 needs 64{hint}",
              VERIFYING_CONSUMERS, fix=Fix("re-sign it", "resign"), part="signature")
    if key is None:
        if key_error is None and d.signature is not None:
            f.add("info", "signature-unchecked", "the signature was not checked: no public key given"
                  + (f"; {sig.key_location}" if sig.key_location else ""), VERIFYING_CONSUMERS,
                  fix=Fix("verify it with the signer's public JWK", "verify-with-jwk"), part="signature")
        return sig
    if key.kid and sig.kid and key.kid != sig.kid:
        f.add("warning", "kid-mismatch", f"the JWK's kid {_short(key.kid)} differs from the header's "
              f"{_short(sig.kid)}", VERIFYING_CONSUMERS, fix="check that this is the key CDH will use")
    if d.signature is None or d.signing_input is None or alg != ALG:
        return sig
    verified = results.get("verified")
    sig.verified = verified if verified is not None else verify_raw(d.signing_input, d.signature, key)
    if sig.verified:
        f.add("info", "signature-verified", f"the signature verifies with {key.source}", VERIFYING_CONSUMERS)
    else:
        f.add("error", "signature-invalid", f"the signature does not match {key.source}", VERIFYING_CONSUMERS,
              fix=Fix("the string was altered, or signed with another key; re-sign it", "resign"), part="signature")
    return sig


def _aligned(findings: list[Finding], decisions: dict[str, Decision]) -> list[Finding]:
    """Errors speak only for consumers that reject; each rejecting consumer gets an error that speaks for it."""
    rejecting = [c for c in CONSUMERS if decisions[c].verdict == "rejected"]
    out: list[Finding] = []
    for x in findings:
        if x.severity == "error" and any(c not in rejecting for c in x.consumers):
            kept = tuple(c for c in x.consumers if c in rejecting)
            # A rule that speaks for nobody who rejects is a hint, not a reason: keep it, as a warning.
            x = replace(x, consumers=kept) if kept else replace(x, severity="warning", consumers=())
        out.append(x)
    spoken = {c for x in out if x.severity == "error" for c in x.consumers}
    extra: list[Finding] = []
    for c in rejecting:
        if c in spoken:
            continue
        d = decisions[c]
        same = next((i for i, x in enumerate(extra) if (x.code, x.message) == (d.code, d.detail)), None)
        if same is not None:
            extra[same] = replace(extra[same], consumers=(*extra[same].consumers, c))
        else:
            extra.append(Finding("error", d.code or d.step, d.detail, (c,), d.fix))
    return extra + out


def _summary(form: Form, verdicts: Mapping[str, str], findings: list[Finding]) -> str:
    errors = sum(1 for x in findings if x.severity == "error")
    warnings = sum(1 for x in findings if x.severity == "warning")
    return f"{form.value}: CDH {verdicts['cdh']}; {errors} error(s), {warnings} warning(s)"
