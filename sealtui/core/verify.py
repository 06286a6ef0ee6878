"""Signature verification of a sealed secret (DESIGN §3.3)."""

from __future__ import annotations

from sealtui.core.codec import Form, SealedSecret, parse_sealed
from sealtui.core.errors import VerificationError
from sealtui.core.jws import ALG, load_jwk, verify_raw
from sealtui.core.lint import JwkLike, key_location


def verify_sealed(sealed: SealedSecret | str, jwk: JwkLike) -> SealedSecret:
    """Check the ES256 signature of `sealed` with `jwk`; return the parsed secret or raise `VerificationError`.

    Checks `alg == ES256`, that the header names a `kid`, and the signature over the exact received
    `<header>.<payload>` bytes. Never accepts `alg: none` or another algorithm.
    """
    if isinstance(sealed, str):
        sealed = parse_sealed(sealed)
    if sealed.form not in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX):
        raise VerificationError(f"a {sealed.form.value} string carries no signature to verify",
                                fix="sign it with `sealtui resign`")
    if sealed.alg != ALG:
        raise VerificationError(f"header alg is {sealed.alg!r}; only ES256 is accepted")
    if not sealed.kid:
        raise VerificationError("header has no 'kid', so CDH cannot find the public key")
    key = load_jwk(jwk)
    assert sealed.signing_input is not None and sealed.signature is not None  # signed forms always have both
    if not verify_raw(sealed.signing_input, sealed.signature, key):
        raise VerificationError(
            f"the signature does not verify with {key.source}",
            fix=f"the string was altered or signed with another key; CDH uses the key at kid {sealed.kid!r}: "
            f"{key_location(sealed.kid)}",
        )
    return sealed
