"""Upstream CDH with signature verification on (the default): `Secret::from_signed_base64_string(s, false)`,
then `Secret::unseal()` (guest-components 8246e5e0, `confidential-data-hub/hub/src/secret/mod.rs`).

Steps, in the code's order: the input must be UTF-8; every leading `sealed.` is stripped (`trim_start_matches`);
jose-jws parses the rest (`parse-jws`); the header must name a `kid` and an `alg`; the key is fetched (a `kbs://`
URI from Trustee, else a file under the sealed-secret directory); `alg` must be ES256; the signature must be a
64-byte P-256 (r, s) pair and verify over `<header>.<payload>` as received; the payload part must not be empty;
then the payload is a `Secret` and is unsealed. A given key is taken as the one CDH fetches, and must itself be a
P-256 JWK. Without a key, every step but the signature's is still checked, and an input that passes them all
needs the key.
"""

from __future__ import annotations

from sealtui.core.consumers.base import Context, Problem, Reject, Replay
from sealtui.core.consumers.jose import kid_problem, parse_compact, signature_shape_problem
from sealtui.core.consumers.providers import UPSTREAM
from sealtui.core.consumers.secret import TERMINAL_STEPS, secret_steps
from sealtui.core.report import Fix

NAME = "cdh"
CODE_VERSION = ("confidential-containers/guest-components 8246e5e0, hub/src/secret/mod.rs, verification on "
                "(jose-jws 0.1.2, base64ct 1.8.3, serde_json 1.0.150, p256 0.13); default build: kbs, aliyun")
TERMINAL = TERMINAL_STEPS
PREFIX = "sealed."
UTF8_ERROR = "parse SealedSecret failed: Secret string must be UTF-8"
SIGNATURE_ERROR = "Signature Error: signature error"


def check_utf8(r: Replay, ctx: Context) -> None:
    """`String::from_utf8`: a lone surrogate (from a Python string) is not UTF-8."""
    at = ctx.utf8_error()
    if at is not None:
        r.fail("utf-8", "not-utf8", f"character {at} is a lone surrogate: the input is not UTF-8 text",
               UTF8_ERROR, part="input", position=at)
    r.passed("utf-8")


def replay(r: Replay, ctx: Context) -> None:
    check_utf8(r, ctx)
    stripped = 0  # `trim_start_matches("sealed.")`: each prefix stripped is one leading part "sealed"
    while ctx.parts[stripped] == "sealed" and stripped < len(ctx.parts) - 1:
        stripped += 1
    r.passed("strip-prefix")
    jws = parse_compact(ctx, ctx.parts[stripped:], len(PREFIX) * stripped)
    if isinstance(jws, Problem):
        raise Reject(jws)
    r.passed("parse-jws")
    if jws.kid is None:
        r.fail("find-kid", "kid-missing", "the header has no 'kid', so CDH cannot find the public key",
               "parse SealedSecret failed: Could not find kid", part="header",
               fix=Fix("re-sign it with a kid (a kbs:/// URI or a file name)", "resign"))
    r.passed("find-kid")
    if jws.alg is None:
        r.fail("find-alg", "alg-missing", "the header has no 'alg'", "parse SealedSecret failed: Could not get "
               "algorithm", part="header", fix=Fix("re-sign it with an ES256 (P-256) key", "resign"))
    r.passed("find-alg")
    location, why = kid_problem(jws.kid)
    if why is not None:
        error = ("Failed to get key from KMS: Kbs client error: get resource failed" if location.startswith("KBS")
                 else "parse SealedSecret failed: Invalid KID Key Path")
        r.fail("fetch-key", "kid-invalid", why, error, part="header",
               fix=Fix("re-sign it with a kid CDH can resolve (kbs:///repo/type/tag or a file name)", "resign"))
    ctx.results["key_location"] = location
    if ctx.key is None and ctx.key_refusal is None:
        r.awaiting_key = "verify-signature"
    else:
        r.passed("fetch-key")
    if jws.alg != "ES256":
        r.fail("check-alg", "alg-unsupported", f"header alg is {jws.alg!r}; CDH accepts only ES256",
               "Signing key error: JWS algorithm must be ES256", part="header",
               fix=Fix("re-sign it with an ES256 (P-256) key", "resign"))
    r.passed("check-alg")
    if ctx.key_refusal is not None:
        error, why = ctx.key_refusal
        r.fail("parse-key", "key-refused", f"{why}: CDH cannot verify with it", error,
               fix=Fix("provision the signer's public P-256 JWK where CDH looks for the kid", "verify-with-jwk"))
    if ctx.key is not None:
        r.passed("parse-key")
    shape = signature_shape_problem(jws.signature)
    if shape is not None:
        r.fail("check-signature", "signature-length" if len(jws.signature) != 64 else "signature-scalar",
               f"{shape}: CDH refuses it whatever the key", SIGNATURE_ERROR, part="signature",
               fix=Fix("re-sign it", "resign"))
    r.passed("check-signature")
    if ctx.key is not None:
        from sealtui.core.jws import verify_raw

        verified = verify_raw(jws.signing_input, jws.signature, ctx.key)
        ctx.results["verified"] = verified
        if not verified:
            r.fail("verify-signature", "signature-invalid", f"the signature does not match {ctx.key.source}",
                   SIGNATURE_ERROR, part="signature",
                   fix=Fix("the string was altered, or signed with another key; re-sign it", "resign"))
        r.passed("verify-signature")
    if jws.payload is None:
        r.fail("find-payload", "payload-empty", "the payload part is empty", "parse SealedSecret failed: Could "
               "not find JWS Payload", part="payload", fix=Fix("re-seal the secret", "reseal"))
    r.passed("find-payload")
    for step, problems in secret_steps(ctx, ctx.json(jws.payload), UPSTREAM):
        r.take(step, problems)
