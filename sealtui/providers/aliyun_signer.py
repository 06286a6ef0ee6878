"""A JWS signer whose ES256 key never leaves the KMS instance."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from sealtui.core.errors import ProviderError, UsageError
from sealtui.core.keyref import KeyRef, parse_key_ref

if TYPE_CHECKING:
    from sealtui.providers.aliyun import AliyunKms

__all__ = ["AliyunKmsSigner"]


class AliyunKmsSigner:
    """A `Signer` whose ES256 key never leaves the KMS: `Sign` (RAW, ECDSA_SHA_256), DER → raw `r‖s`."""

    def __init__(self, kms: AliyunKms, key_ref: str | KeyRef, kid: str) -> None:
        self.kms = kms
        self.key_ref = parse_key_ref(key_ref) if isinstance(key_ref, str) else key_ref
        self.kid = kid

    def sign(self, data: bytes) -> bytes:
        """The raw 64-byte ES256 signature of `data`."""
        try:
            sig = self.kms.sign(self.key_ref, data, "ECDSA_SHA_256")
        except ProviderError as e:
            if e.code == "InvalidParameter":  # the sandbox and the docs: Sign on a key of the wrong type
                e.fix = f"a JWS signing key must be an EC_P256 KMS key; check that {self.key_ref} is one"
            raise
        try:
            r, s = utils.decode_dss_signature(sig)
        except ValueError:
            if len(sig) == 64:  # a KMS answering raw r‖s already (the encoding is undocumented)
                return sig
            raise ProviderError(
                f"KMS Sign returned {len(sig)} bytes that are not an ECDSA signature",
                fix=f"check that {self.key_ref} is an EC_P256 key",
            ) from None
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def public_jwk(self) -> dict[str, str]:
        """The P-256 public JWK of the KMS key (from `GetPublicKey`), with this signer's `kid`."""
        pem = self.kms.get_public_key(self.key_ref)
        try:
            pub = serialization.load_pem_public_key(pem.encode("ascii"))
        except ValueError:
            raise ProviderError(f"KMS GetPublicKey for {self.key_ref} did not return a PEM public key") from None
        if not isinstance(pub, ec.EllipticCurvePublicKey) or not isinstance(pub.curve, ec.SECP256R1):
            raise UsageError(f"{self.key_ref} is not an EC P-256 key", fix="ES256 needs an EC_P256 KMS key")
        nums = pub.public_numbers()

        def b64(n: int) -> str:
            return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode("ascii")

        return {"kty": "EC", "crv": "P-256", "x": b64(nums.x), "y": b64(nums.y), "alg": "ES256", "kid": self.kid}
