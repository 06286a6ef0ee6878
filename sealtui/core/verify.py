"""Signature verification of a sealed secret (DESIGN §3.3), in CDH's order: the signature first.

CDH checks `alg`, finds the key by `kid` and verifies the signature over `<header>.<payload>` as received before
it reads the payload; so does `verify_sealed`: a payload changed after signing fails as a bad signature, whatever
else is wrong with it. Only a string whose signature holds is then parsed.
"""

from __future__ import annotations

from sealtui.core.codec import Form, SealedSecret, decode, parse_sealed
from sealtui.core.consumers.jose import signature_shape_problem
from sealtui.core.errors import InvalidInputError, VerificationError
from sealtui.core.jws import ALG, load_jwk, verify_raw
from sealtui.core.lint import JwkLike, key_location


def verify_sealed(sealed: SealedSecret | str, jwk: JwkLike) -> SealedSecret:
    """Check the ES256 signature of `sealed` with `jwk`; return the parsed secret or raise.

    Raises `VerificationError` when the string carries no usable signature or it does not match (checked before
    anything in the payload), then `InvalidInputError` when the payload itself is invalid. Checks `alg == ES256`,
    that the header names a `kid`, and the signature over the exact received `<header>.<payload>` bytes. Never
    accepts `alg: none` or another algorithm.
    """
    text = sealed.text if isinstance(sealed, SealedSecret) else sealed
    key = load_jwk(jwk)
    d = decode(text)
    if d.form not in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX):
        parse_sealed(text)  # a string that is not even readable says so first
        raise VerificationError(f"a {d.form.value} string carries no signature to verify",
                                fix="re-sign it into the canonical signed form")
    broken = [p for p in d.problems if p.part in ("header", "signature")]
    if broken or not isinstance(d.header, dict) or d.signature is None or d.signing_input is None:
        why = str(broken[0]) if broken else "the JWS header is not a JSON object"
        raise InvalidInputError(f"malformed sealed secret: {why}")
    alg, kid = d.header.get("alg"), d.header.get("kid")
    if alg != ALG:
        raise VerificationError(f"header alg is {alg!r}; only ES256 is accepted")
    if not isinstance(kid, str) or not kid:
        raise VerificationError("header has no 'kid', so CDH cannot find the public key")
    shape = signature_shape_problem(d.signature)
    if shape is not None:
        raise VerificationError(f"{shape}: it is not an ES256 signature")
    if not verify_raw(d.signing_input, d.signature, key):
        raise VerificationError(
            f"the signature does not verify with {key.source}: the signature does not match (the string was "
            "changed after signing, or signed with another key)",
            fix=f"CDH uses the key at kid {kid!r}: {key_location(kid)}",
        )
    return sealed if isinstance(sealed, SealedSecret) else parse_sealed(text)
