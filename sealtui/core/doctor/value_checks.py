"""Checks of the sealed value itself (checklist 13–20): what the kata agent forwards and what CDH does with it.

The value goes through the core's consumer verdicts (`sealtui.core.lint.inspect`): the verdict of the CDH the
guest runs (verification on, skipped, or a guest-components older than v0.18.0, which never verifies) decides
whether it is accepted; the checks say which step refuses it. A finding the checks do not explain themselves
is attributed by its part (prefix → 14, header → 15, signature → 17, anything else → 18), so a refusal is never
lost: a rejected verdict always fails some check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sealtui.core.doctor.k8s import FoundValue
from sealtui.core.doctor.model import Check, blocked, make_check, not_applicable
from sealtui.core.doctor.pod_checks import GuestSetup
from sealtui.core.doctor.trustee import Trustee, kbs_path_problem, operator_path_problem, resource_path
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import Jwk, jwk_from_dict
from sealtui.core.lint import inspect
from sealtui.core.report import Finding, InspectionReport

Mode = Literal["verify", "skip", "legacy"]
KATA_PROVIDERS = ("kbs", "aliyun")
"""Providers a kata-built guest has: CDH's Makefile defaults (KMS_PROVIDER ?= aliyun, ENABLE_KBS ?= true)."""


@dataclass
class Examined:
    """One value as the guest will treat it, shared by all value checks."""

    found: FoundValue
    setup: GuestSetup
    trustee: Trustee | None
    mode: Mode
    consumer: str
    """The verdict that decides: `cdh` (verification on) or `cdh-skip-verification`."""
    forwarded: bool
    """The kata agent hands it to CDH (it starts with `sealed.`)."""
    raw_report: InspectionReport
    report: InspectionReport
    """The report of the value with surrounding whitespace removed, verified with the best key at hand."""
    key: Jwk | None = None
    key_origin: str | None = None
    """`trustee` when the key came from the --trustee resource at the kid, else `given`."""
    trustee_key_problem: tuple[str, str] | None = None
    """(detail, guest message) when the resource at the kid is not a usable P-256 JWK."""
    stops: bool = False
    """The value never reaches CDH (see check 14): the later value checks cannot be decided."""

    @property
    def payload(self) -> dict[str, Any]:
        p = self.report.payload
        return p if isinstance(p, dict) else {}

    @property
    def provider(self) -> str:
        return str(self.payload.get("provider") or "").lower()

    @property
    def kid_path(self) -> str | None:
        """The KBS path of the signing key CDH fetches (verification on only)."""
        kid = self.report.signature.kid
        return resource_path(kid) if self.mode == "verify" and kid else None

    @property
    def vault_path(self) -> str | None:
        if self.report.kind == "vault" and self.provider == "kbs":
            return resource_path(str(self.payload.get("name") or ""))
        return None


def examine(found: FoundValue, setup: GuestSetup, trustee: Trustee | None, jwk: Jwk | None,
            kid_map: Mapping[str, Jwk] | None) -> Examined:
    mode: Mode = "legacy" if not setup.kata.verifies_signatures else "skip" if setup.skip_verification else "verify"
    consumer = "cdh" if mode == "verify" else "cdh-skip-verification"
    raw_report = inspect(found.text)
    clean = found.text.strip()
    report = raw_report if clean == found.text else inspect(clean)
    ex = Examined(found, setup, trustee, mode, consumer, raw_report.verdicts.get("kata-agent") == "accepted",
                  raw_report, report)
    kid = report.signature.kid
    if kid and mode == "verify":
        path = resource_path(kid)
        content = trustee.get(path) if trustee is not None and path is not None else None
        if content is not None:
            ex.key, ex.key_origin = _trustee_key(ex, content, str(path)), "trustee"
        elif trustee is None or path is None:
            ex.key, ex.key_origin = (kid_map or {}).get(kid) or jwk, "given"
        if ex.key is not None:
            ex.report = inspect(clean, ex.key)
    return ex


def _trustee_key(ex: Examined, content: bytes, path: str) -> Jwk | None:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deeply
        ex.trustee_key_problem = (f"the resource at {path} is not JSON", "`JSON Parsing Error`")
        return None
    try:
        return jwk_from_dict(data, f"the resource at {path}")
    except InvalidInputError as e:
        ex.trustee_key_problem = (e.message, "`Signing key error: Key must be P256`")
        return None


def bucket(f: Finding) -> str:
    """The check a consumer's error finding belongs to when no check explains it itself."""
    code, part = f.code, f.part or ""
    if code == "unsigned":
        return "13-signature-mode"
    if code.startswith(("kid-two", "kid-not")):
        return "16-kid-uri"
    if code.startswith("provider-") or code == "kbs-envelope":
        return "19-provider"
    if code.startswith("resource-uri"):
        return "20-vault-name"
    if part in ("prefix", "input") or "whitespace" in code:
        return "14-clean-value"
    if part == "header":
        return "15-jws-header"
    if part == "signature" or code.startswith("signature"):
        return "17-kid-jwk"
    return "18-payload"


def _errors(ex: Examined, check_id: str) -> list[Finding]:
    return [f for f in ex.report.findings
            if f.severity == "error" and ex.consumer in f.consumers and bucket(f) == check_id]


def _from_findings(ex: Examined, check_id: str, ok: Check) -> Check:
    """`ok` unless the verdict refuses the value and a finding of this check says why."""
    errors = _errors(ex, check_id)
    if errors and ex.report.verdicts.get(ex.consumer) == "rejected":
        fix = errors[0].fix
        return make_check(check_id, "fails", "; ".join(f.message for f in errors), fix=fix.text if fix else None)
    return ok


def value_checks(ex: Examined) -> list[Check]:
    clean = _clean_value(ex)
    if ex.stops:
        ids = ("13-signature-mode", "15-jws-header", "16-kid-uri", "17-kid-jwk", "18-payload", "19-provider",
               "20-vault-name")
        return [clean, *(blocked(i, clean.id, "the value never reaches CDH") for i in ids)]
    mode, header, kid_uri, kid_jwk = _signature_mode(ex), _header(ex), _kid_uri(ex), _kid_jwk(ex)
    provider, vault = _provider(ex), _vault_name(ex)
    payload = _payload(ex, [mode, clean, header, kid_uri, kid_jwk, provider, vault])
    return [mode, clean, header, kid_uri, kid_jwk, payload, provider, vault]


def _clean_value(ex: Examined) -> Check:
    cid = "14-clean-value"
    f, text = ex.found, ex.found.text
    if f.data_object is not None and f.key in f.data_object.bad:
        ex.stops = True
        return make_check(cid, "fails", f.data_object.bad[f.key or ""], guest="the Secret is not created at all",
                          fix="write the value under stringData, or base64-encode it under data")
    try:
        f.raw.decode("utf-8")
    except UnicodeDecodeError as e:
        ex.stops = True
        return make_check(cid, "fails", f"the value is not UTF-8 (byte {e.start}): the kata agent reads a sealed "
                          "file as text", guest="`Failed to unseal file: …` (invalid UTF-8)")
    if not ex.forwarded:
        ex.stops = True
        first = text.splitlines()[0] if text.strip() else ""
        if text[:1].isspace():
            why = "it starts with whitespace"
        elif first.startswith("Warning"):
            why = "its first line is the `Warning: Secrets must be provisioned…` line that `secret seal vault` prints"
        elif first[:1] in ("\"", "'"):
            why = "it is wrapped in quotes"
        elif text[:7].lower() == "sealed.":
            why = f"it starts with {text[:7]!r}; the kata agent needs lower-case `sealed.`"
        else:
            why = "it does not start with `sealed.`"
        return make_check(cid, "fails", f"the kata agent passes it through unsealed: {why}",
                          guest="silent: the container gets the raw text")
    if text != text.rstrip():
        tail = repr(text[len(text.rstrip()):])
        if ex.raw_report.verdicts.get(ex.consumer) == "rejected":
            return make_check(cid, "fails", f"the value ends with {tail}: CDH cannot decode the signature part",
                              guest="`Failed to parse JWS`")
        return make_check(cid, "ok", f"the value ends with {tail}, which this guest ignores (verification skipped)")
    return _from_findings(ex, cid, make_check(cid, "ok", "exactly one sealed string"))


def _signature_mode(ex: Examined) -> Check:
    cid = "13-signature-mode"
    kata = ex.setup.kata
    if ex.found.source in ("env", "envFrom") and not kata.unseals_env:
        return make_check(cid, "fails", f"{kata.short} does not unseal env values (from kata 3.7.0)",
                          guest="silent: the container gets the raw text", fix="upgrade kata, or mount the value as "
                          "a file (kata >= 3.10)")
    how = {"verify": "verifies signatures", "skip": "skips verification (skip_sealed_secret_verification)",
           "legacy": f"does not verify signatures ({kata.guest_components})"}[ex.mode]
    signed = ex.report.signature.alg is not None or ex.report.signature.kid is not None
    verdicts = ex.report.verdicts
    if ex.mode == "verify" and not signed and verdicts.get("cdh-skip-verification") != "rejected":
        return make_check(cid, "fails", "the value is unsigned (fakejwsheader / fakesignature) and this guest "
                          f"({kata.short}) {how}", guest="`parse SealedSecret failed: Failed to parse JWS`")
    if ex.mode != "verify" and verdicts.get("cdh-skip-verification") == "rejected" \
            and verdicts.get("cdh") != "rejected":
        return make_check(cid, "fails", f"this guest {how}, which needs the 4-part sealed.<h>.<p>.<s> form",
                          guest="`malformed input sealed secret`")
    return _from_findings(ex, cid, make_check(cid, "ok", f"{kata.short} {how}; the value is "
                                              f"{'signed' if signed else 'unsigned'}"))


def _header(ex: Examined) -> Check:
    cid = "15-jws-header"
    if ex.mode != "verify":
        return not_applicable(cid, "verification is off: CDH does not read the header")
    sig = ex.report.signature
    if sig.alg is None and sig.kid is None:
        return _from_findings(ex, cid, not_applicable(cid, "the value is not a signed JWS (see 13)"))
    problem = ("the JWS header has no kid", "`Could not find kid`") if not sig.kid else \
        ("the JWS header has no alg", "`Could not get algorithm`") if sig.alg is None else \
        (f"the JWS header alg is {sig.alg!r}", "`Signing key error: JWS algorithm must be ES256`") \
        if sig.alg != "ES256" else None
    if problem:
        return make_check(cid, "fails", problem[0], guest=problem[1])
    return _from_findings(ex, cid, make_check(cid, "ok", f"ES256, kid {sig.kid}"))


def _kid_uri(ex: Examined) -> Check:
    cid = "16-kid-uri"
    kid = ex.report.signature.kid
    if ex.mode != "verify" or not kid:
        return not_applicable(cid, "verification is off" if ex.mode != "verify" else "no kid (see 15)")
    if resource_path(kid) is not None:
        return _from_findings(ex, cid, make_check(cid, "ok", f"kid {kid} is a KBS resource URI"))
    if kid.startswith("kbs:/"):
        return make_check(cid, "fails", f"kid {kid!r} is not kbs:/// followed by three segments: likely CDH asks "
                          "KBS for the wrong path", likely=True,
                          fix=f"use kbs:///{kid.split(':', 1)[1].lstrip('/')} (three slashes, repo/type/tag)")
    return make_check(cid, "fails", f"kid {kid!r} is not a KBS URI: CDH looks for it as a file under "
                      "/run/confidential-containers/cdh/sealed-secret/, which likely a stock CoCo guest cannot "
                      "be given", likely=True)


def _kid_jwk(ex: Examined) -> Check:
    cid = "17-kid-jwk"
    kid = ex.report.signature.kid
    if ex.mode != "verify" or not kid:
        return not_applicable(cid, "verification is off" if ex.mode != "verify" else "no kid (see 15)")
    path = resource_path(kid)
    if path is None:
        return blocked(cid, "16-kid-uri")
    if _unservable(ex, path):
        return blocked(cid, "21-trustee-path")
    verified = ex.report.signature.verified
    if ex.trustee is not None and ex.trustee.get(path) is None:
        return make_check(cid, "fails", f"no public JWK at the kid: {ex.trustee.missing_hint(path)}",
                          guest="`Failed to get key from KMS: Kbs client error: get resource failed: UnAuthorized`")
    if ex.trustee_key_problem:
        return make_check(cid, "fails", ex.trustee_key_problem[0], guest=ex.trustee_key_problem[1])
    if verified is False:
        where = f"the JWK at {path} in {ex.trustee.source}" if ex.trustee else ex.key.source if ex.key else "?"
        return make_check(cid, "fails", f"the signature does not verify with {where}", guest="`Signature Error: …`",
                          fix="re-seal with the private half of the key at the kid, or upload the public JWK of the "
                          "key it was signed with")
    private = " (warning: it is a private JWK; upload only the public half)" if ex.key and ex.key.is_private else ""
    checked = _from_findings(ex, cid, make_check(cid, "ok", f"the public JWK at {path} verifies the signature"
                                                 + private))
    if checked.status == "fails" or ex.key_origin == "trustee":
        return checked
    return make_check(cid, "cannot-tell", f"the signature verifies with {ex.key.source}" if verified and ex.key else
                      "the signature was not checked", would_tell=f"--trustee DIR: whether a P-256 public JWK is "
                      f"at {path}" + ("" if verified else "; or --jwk / --kid-map to check the signature"))


def _payload(ex: Examined, others: list[Check]) -> Check:
    cid = "18-payload"
    check = _from_findings(ex, cid, make_check(cid, "ok", f"a {ex.report.kind or '?'} payload CDH accepts"))
    if check.status == "ok" and ex.report.verdicts.get(ex.consumer) == "rejected" and \
            not any(c.status == "fails" for c in others):
        reasons = [f.message for f in ex.report.findings if f.severity == "error" and ex.consumer in f.consumers]
        return make_check(cid, "fails", "CDH refuses it: " + ("; ".join(reasons) or ex.report.summary))
    return check


def _provider(ex: Examined) -> Check:
    cid = "19-provider"
    provider, kind = ex.provider, ex.report.kind
    if not provider:
        return _from_findings(ex, cid, not_applicable(cid, "no provider in the payload (see 18)"))
    problem = None
    if provider == "kbs" and kind == "envelope":
        problem = ("an envelope with provider kbs: CDH decrypts envelopes only with a KMS",
                   "`Unsupported provider: kbs` (there is no envelope decryptor for kbs)", False)
    elif provider in ("aws", "ehsm"):
        problem = (f"provider {provider}: likely not built into kata guest images (kbs and aliyun only)",
                   f"`Unsupported provider: {provider}`", True)
    elif provider not in KATA_PROVIDERS:
        problem = (f"provider {provider!r} is not one CDH knows", f"`Unsupported provider: {provider}`", False)
    if problem:
        return make_check(cid, "fails", problem[0], guest=problem[1], likely=problem[2])
    return _from_findings(ex, cid, make_check(cid, "ok", f"provider {provider} is in kata guest images"))


def _vault_name(ex: Examined) -> Check:
    cid = "20-vault-name"
    if ex.report.kind != "vault" or ex.provider != "kbs":
        return _from_findings(ex, cid, not_applicable(cid, "not a vault secret of provider kbs"))
    name = str(ex.payload.get("name") or "")
    path = resource_path(name)
    if path is None:
        return make_check(cid, "fails", f"vault name {name!r} is not kbs:///<repo>/<type>/<tag>",
                          guest=f"`Kbs client error: illegal kbs resource uri: {name}`")
    if _unservable(ex, path):
        return blocked(cid, "21-trustee-path")
    if ex.trustee is None:
        return make_check(cid, "cannot-tell", f"vault name {name} is a KBS resource URI",
                          would_tell=f"--trustee DIR: whether the secret is at {path}")
    if ex.trustee.get(path) is None:
        return make_check(cid, "fails", f"vault name {name}: {ex.trustee.missing_hint(path)}",
                          guest="`kms interface when get secret from provider` + `request unauthorized`")
    return _from_findings(ex, cid, make_check(cid, "ok", f"the secret is at {path} in {ex.trustee.source}"))


def _unservable(ex: Examined, path: str) -> bool:
    """The path is one this Trustee cannot hold (check 21 says why), so whether it exists is moot."""
    operator = ex.trustee is not None and ex.trustee.mode == "operator"
    return bool(kbs_path_problem(path) or (operator and operator_path_problem(path)))
