"""The client-key request signature of the KMS-instance protocol (dkms-protocol.md §3.1–§3.2).

The same string-to-sign serves the server (verification) and the raw test/benchmark client (signing), so the
two can never drift apart. The SDK's own code is the reference: `openapi_util.Client.get_string_to_sign`.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

__all__ = [
    "API_VERSION",
    "CONTENT_TYPE",
    "SIGNATURE_METHOD",
    "body_sha256",
    "http_date",
    "sign_string",
    "signed_headers",
    "string_to_sign",
    "verify_signature",
]

API_VERSION = "dkms-gcs-0.2"
SIGNATURE_METHOD = "RSA_PKCS1_SHA_256"
CONTENT_TYPE = "application/x-protobuf"
ACCESS_KEY_HEADER = "x-kms-acccesskeyid"
"""Sic: three "c"s, exactly as the SDK and the Rust client send it."""


def body_sha256(body: bytes) -> str:
    """The `content-sha256` header value: upper-case hex SHA-256 of the body."""
    return hashlib.sha256(body).hexdigest().upper()


def http_date(timestamp: float | None = None) -> str:
    """An IMF-fixdate (`Sun, 22 Nov 2026 15:04:51 GMT`), as the SDK sends in `date`."""
    return email.utils.formatdate(timestamp, usegmt=True)


def string_to_sign(method: str, headers: Mapping[str, str]) -> str:
    """Build the string-to-sign from lower-case header names.

    `POST\\n<content-sha256>\\n<content-type>\\n<date>\\n` + each `x-kms-*` header as `name:value\\n` sorted by
    name + `/` (the canonical resource is always `/`, with no trailing newline).
    """
    head = f"{method}\n{headers.get('content-sha256', '')}\n{headers.get('content-type', '')}\n"
    head += f"{headers.get('date', '')}\n"
    canonical = "".join(f"{name}:{headers[name].strip()}\n" for name in sorted(headers) if name.startswith("x-kms-"))
    return head + canonical + "/"


def sign_string(private_key: rsa.RSAPrivateKey, text: str) -> str:
    """The `authorization` header value for `text`: `Bearer <base64 RSASSA-PKCS1-v1_5 SHA-256>`."""
    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return "Bearer " + base64.b64encode(signature).decode("ascii")


def verify_signature(public_key: rsa.RSAPublicKey, text: str, authorization: str) -> bool:
    """Whether `authorization` (`Bearer <base64>`) is a valid signature of `text` by `public_key`."""
    if not authorization.startswith("Bearer "):
        return False
    try:
        signature = base64.b64decode(authorization[len("Bearer ") :].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        # Hashed here with hashlib: cheaper than cryptography's own hashing on this per-request path.
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        public_key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def signed_headers(
    api_name: str,
    body: bytes,
    key_id: str,
    private_key: rsa.RSAPrivateKey,
    *,
    host: str = "",
    date: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full header set the SDK sends for one call, signed. `extra` headers are added before signing."""
    headers = {
        "accept": CONTENT_TYPE,
        "date": date if date is not None else http_date(),
        "x-kms-apiversion": API_VERSION,
        "x-kms-apiname": api_name,
        "x-kms-signaturemethod": SIGNATURE_METHOD,
        ACCESS_KEY_HEADER: key_id,
        "content-type": CONTENT_TYPE,
        "content-sha256": body_sha256(body),
    }
    if host:
        headers["host"] = host
    if extra:
        headers.update({k.lower(): v for k, v in extra.items()})
    headers["authorization"] = sign_string(private_key, string_to_sign("POST", headers))
    return headers
