"""Inspect any input string: its form, what each consumer would do with it, and every reason why.

Verdicts are derived from the findings: a consumer rejects the input when an `error` finding speaks for it;
a verifying consumer whose only open question is the signature gets `needs-key`; otherwise it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sealtui.core.codec import Decoded, Form, decode
from sealtui.core.errors import SealtuiError
from sealtui.core.jws import ALG, Jwk, load_jwk, verify_raw
from sealtui.core.provider_rules import PAYLOAD_CONSUMERS, check_payload
from sealtui.core.report import (
    CONSUMERS,
    VERIFYING_CONSUMERS,
    Finding,
    InspectionReport,
    Severity,
    SignatureInfo,
    Verdict,
)

ALL = tuple(CONSUMERS)
SEALED_SECRET_DIR = "/run/confidential-containers/cdh/sealed-secret/"

JwkLike = Jwk | Mapping[str, Any] | str | os.PathLike[str]


class _Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, severity: Severity, code: str, message: str, consumers: tuple[str, ...] = PAYLOAD_CONSUMERS,
            *, fix: str | None = None, part: str | None = None, position: int | None = None) -> None:
        self.items.append(Finding(severity, code, message, tuple(consumers), fix, part, position))


def key_location(kid: str | None) -> str | None:
    """Where CDH looks for the public key named by `kid`."""
    if not kid:
        return None
    if kid.startswith("kbs:///"):
        return f"CDH fetches it from Trustee (KBS) as resource {kid}"
    if kid.startswith("kbs://"):
        return f"{kid!r} is not a valid KBS resource URI (it needs three slashes: kbs:///…)"
    return f"CDH reads it from {SEALED_SECRET_DIR}{kid} in the guest"


def inspect(text: str, jwk: JwkLike | None = None) -> InspectionReport:
    """Inspect `text` (any string) and return the report. Never raises for a `str` input."""
    if not isinstance(text, str):
        text = str(text)
    d = decode(text)
    f = _Findings()
    _form_rules(d, f)
    kind = None
    if d.payload is not None:
        kind = check_payload(d.payload, f.add)
    sig = _signature_rules(d, f, jwk)
    verdicts = _verdicts(d, f.items, sig)
    return InspectionReport(
        form=d.form.value,
        form_description=d.form.description,
        verdicts=verdicts,
        findings=f.items,
        header=d.header,
        payload=d.payload,
        signature=sig,
        input_length=len(text),
        kind=kind,
        summary=_summary(d.form, verdicts, f.items),
    )


def _form_rules(d: Decoded, f: _Findings) -> None:
    for p in d.problems:
        consumers: tuple[str, ...] = VERIFYING_CONSUMERS if p.part in ("header", "signature") else PAYLOAD_CONSUMERS
        if p.part == "input":
            # The kata agent forwards anything that starts with `sealed.`; CDH then refuses it.
            forwarded = d.prefix == "sealed." and not d.leading_whitespace
            consumers = PAYLOAD_CONSUMERS if forwarded else ALL
        code = "undecodable" if p.part == "input" else f"{p.part}-malformed"
        if p.part == "payload" and "padded standard base64" in p.reason:
            code = "payload-padded"
        f.add("error", code, f"{p.part} {p.reason}" if not p.reason.startswith(p.part) else p.reason,
              consumers, fix=p.fix, part=p.part, position=p.position)
    if d.form is Form.UNRECOGNISED:
        return

    if d.leading_whitespace:
        f.add("error", "leading-whitespace", "the string starts with whitespace, so it does not start with `sealed.`",
              ("cdh", "cdh-skip-verification", "kata-agent"), fix="remove the leading whitespace", part="prefix",
              position=0)
    if d.trailing_whitespace:
        shown = repr(d.trailing_whitespace)
        f.add("error", "trailing-whitespace",
              f"the string ends with {shown}: upstream CDH then cannot decode the signature part and rejects it",
              ("cdh",), fix="strip it: `echo -n`, `printf %s`, or `sealtui seal … --no-newline`; in YAML use "
              "a plain or `|-` scalar", part="signature", position=len(d.text) - len(d.trailing_whitespace))
        f.add("info", "trailing-whitespace-trimmed", "the OpenAnolis CDH trims whitespace, and upstream CDH with "
              "verification skipped never decodes the signature part", ("openanolis-cdh", "cdh-skip-verification"))
    if d.prefix is not None and d.prefix != "sealed.":
        f.add("error", "prefix-case", f"the prefix is {d.prefix!r}; every consumer needs lower-case `sealed.`",
              ALL, fix="write it as `sealed.`", part="prefix", position=len(d.leading_whitespace))

    form = d.form
    if form is Form.JWS_WITHOUT_PREFIX:
        f.add("error", "prefix-missing", "no `sealed.` prefix: the kata agent passes the value through as plain "
              "text, and CDH with verification skipped or the OpenAnolis CDH refuse it",
              ("cdh-skip-verification", "kata-agent", "openanolis-cdh"), fix="prepend `sealed.`", part="prefix",
              position=0)
    elif form is Form.BARE_JSON:
        f.add("error", "bare-json", "a bare JSON payload is not a sealed secret for any current consumer", ALL,
              fix="seal it: `sealtui resign` turns it into the signed form without decrypting anything")
    elif form is Form.LEGACY_BASE64:
        f.add("error", "legacy-two-part", "`sealed.<base64 JSON>` (two parts) is the original spec's form; CDH now "
              "needs three JWS parts", PAYLOAD_CONSUMERS, fix="convert it with `sealtui resign`", part="payload")
    elif form in (Form.FAKE_JWS, Form.FAKE_JWS_PADDED):
        f.add("error", "unsigned", "placeholder header and signature (`fakejwsheader`/`fakesignature`): CDH verifies "
              "the signature by default and rejects it", VERIFYING_CONSUMERS,
              fix="sign it with `sealtui resign`, or run CDH with SKIP_SEALED_SECRET_VERIFICATION=true",
              part="signature")


def _signature_rules(d: Decoded, f: _Findings, jwk: JwkLike | None) -> SignatureInfo:
    sig = SignatureInfo()
    if d.form not in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX) or not isinstance(d.header, dict):
        return sig
    h = d.header
    alg, kid = h.get("alg"), h.get("kid")
    sig.alg = alg if isinstance(alg, str) else None
    sig.kid = kid if isinstance(kid, str) else None
    sig.key_location = key_location(sig.kid)
    header_ok = True
    if alg != ALG:
        header_ok = False
        extra = " ('none' means no signature at all)" if str(alg).lower() == "none" else ""
        f.add("error", "alg-unsupported", f"header alg is {alg!r}{extra}; CDH accepts only ES256",
              VERIFYING_CONSUMERS, fix="re-sign with an ES256 (P-256) key", part="header")
    if not sig.kid:
        header_ok = False
        f.add("error", "kid-missing", "header has no 'kid', so CDH cannot find the public key", VERIFYING_CONSUMERS,
              fix="re-sign with a kid (a kbs:/// URI or a file name)", part="header")
    elif sig.kid.startswith("kbs://") and not sig.kid.startswith("kbs:///"):
        f.add("error", "kid-two-slashes", f"kid {sig.kid!r} has two slashes after 'kbs:'", VERIFYING_CONSUMERS,
              fix=f"use kbs:///{sig.kid[len('kbs://'):]}", part="header")
    if h.get("b64", True) is not True:
        f.add("warning", "b64-false", "header sets b64 to something other than true; CDH expects base64url payloads",
              VERIFYING_CONSUMERS, part="header")
    if d.signature is not None and len(d.signature) != 64:
        header_ok = False
        hint = " (it looks like DER; JWS needs raw r‖s)" if d.signature[:1] == b"\x30" else ""
        f.add("error", "signature-length", f"signature is {len(d.signature)} bytes; ES256 needs 64{hint}",
              VERIFYING_CONSUMERS, part="signature")
    if jwk is None:
        if header_ok and d.signature is not None:
            f.add("info", "signature-unchecked", "the signature was not checked: no public key given"
                  + (f"; {sig.key_location}" if sig.key_location else ""), VERIFYING_CONSUMERS,
                  fix="pass the public JWK (--jwk) to verify it", part="signature")
        return sig
    try:
        key = load_jwk(jwk)
    except SealtuiError as e:
        f.add("error", "jwk-invalid", f"the verification key cannot be used: {e.message}", (), fix=e.fix)
        return sig
    if key.kid and sig.kid and key.kid != sig.kid:
        f.add("warning", "kid-mismatch", f"the JWK's kid {key.kid!r} differs from the header's {sig.kid!r}",
              VERIFYING_CONSUMERS, fix="check that this is the key CDH will use")
    if d.signature is None or d.signing_input is None or alg != ALG:
        return sig
    sig.verified = verify_raw(d.signing_input, d.signature, key)
    if sig.verified:
        f.add("info", "signature-verified", f"the signature verifies with {key.source}", VERIFYING_CONSUMERS)
    else:
        f.add("error", "signature-invalid", f"the signature does not verify with {key.source}", VERIFYING_CONSUMERS,
              fix="the string was altered, or it was signed with another key", part="signature")
    return sig


def _verdicts(d: Decoded, findings: list[Finding], sig: SignatureInfo) -> dict[str, Verdict]:
    out: dict[str, Verdict] = {}
    signed = d.form in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX)
    for consumer in CONSUMERS:
        if any(x.severity == "error" and consumer in x.consumers for x in findings):
            out[consumer] = "rejected"
        elif consumer in VERIFYING_CONSUMERS and signed and sig.verified is None:
            out[consumer] = "needs-key"
        else:
            out[consumer] = "accepted"
    return out


def _summary(form: Form, verdicts: dict[str, Verdict], findings: list[Finding]) -> str:
    errors = sum(1 for x in findings if x.severity == "error")
    warnings = sum(1 for x in findings if x.severity == "warning")
    return f"{form.value}: CDH {verdicts['cdh']}; {errors} error(s), {warnings} warning(s)"
