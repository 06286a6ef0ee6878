"""Request authentication, in the order of dkms-protocol.md §3.3, split in two so that the server reads a body
only for a request whose headers carry a valid signature.

`check_head` (headers only, before any byte of the body is read):
1. `x-kms-apiversion` is `dkms-gcs-0.2` (400 InvalidApiVersion);
2. `x-kms-signaturemethod` is `RSA_PKCS1_SHA_256` (400 InvalidParam);
3. `x-kms-acccesskeyid` is present (400 MissingParameter);
4. `content-type` is `application/x-protobuf` (415 InvalidContentType);
5. `date` parses and is within 15 minutes of the server clock (400 InvalidParam / RequestTimeTooSkewed);
6. `content-sha256` has the form of a SHA-256 (401 SignatureNotMatch);
7. the client key is registered (404 Unauthorized);
8. `authorization` verifies over the string-to-sign rebuilt from the received headers (401 SignatureNotMatch).
   The signature covers `content-sha256`, not the body, so it can be checked before the body arrives.

`check_body` (once the body is read): `content-sha256` matches it (401 SignatureNotMatch).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import re
import threading
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealtui.sandbox import signing
from sealtui.sandbox.kmserror import KmsError

__all__ = ["MAX_SKEW", "Authenticator"]

MAX_SKEW = dt.timedelta(minutes=15)
_SHA256_HEX = re.compile(r"[0-9A-Fa-f]{64}")


class Authenticator:
    """Checks the signature of each request against the registered client keys."""

    def __init__(self, lookup_public_key: Callable[[str], bytes | None]) -> None:
        self._lookup = lookup_public_key
        # Client keys are never changed once registered, so their parsed public keys can be cached forever.
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def _public_key(self, key_id: str) -> rsa.RSAPublicKey | None:
        with self._lock:
            cached = self._keys.get(key_id)
        if cached is not None:
            return cached
        pem = self._lookup(key_id)
        if pem is None:
            return None
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, rsa.RSAPublicKey):
            return None
        with self._lock:
            self._keys[key_id] = key
        return key

    def check_head(self, headers: Mapping[str, str], now: dt.datetime | None = None) -> str:
        """Return the client key id of a request whose headers are correctly signed; raise `KmsError` otherwise.

        `headers` must have lower-case names (first value of each). The body is checked by `check_body`.
        """
        version = headers.get("x-kms-apiversion", "")
        if version != signing.API_VERSION:
            raise KmsError.invalid_api_version(version)
        method = headers.get("x-kms-signaturemethod")
        if method != signing.SIGNATURE_METHOD:
            raise KmsError.invalid_signature_method(method)
        key_id = headers.get(signing.ACCESS_KEY_HEADER, "").strip()
        if not key_id:
            raise KmsError.missing_access_key_id()
        content_type = headers.get("content-type", "")
        # A media-type parameter (`; charset=…`) is not something the SDK sends; compare the type only.
        if content_type.split(";")[0].strip().lower() != signing.CONTENT_TYPE:
            raise KmsError.invalid_content_type(content_type)
        _check_date(headers.get("date", ""), now or dt.datetime.now(dt.UTC))
        if not _SHA256_HEX.fullmatch(headers.get("content-sha256", "").strip()):
            raise KmsError.signature_not_match()
        public_key = self._public_key(key_id)
        if public_key is None:
            raise KmsError.unknown_access_key(key_id)
        text = signing.string_to_sign("POST", headers)
        if not signing.verify_signature(public_key, text, headers.get("authorization", "")):
            raise KmsError.signature_not_match()
        return key_id

    @staticmethod
    def check_body(headers: Mapping[str, str], body: bytes) -> None:
        """Raise 401 `SignatureNotMatch` unless the signed `content-sha256` is the body's."""
        if headers.get("content-sha256", "").strip().upper() != signing.body_sha256(body):
            raise KmsError.signature_not_match()

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: dt.datetime | None = None) -> str:
        """Both checks at once: the client key id of a correctly signed request with this body."""
        key_id = self.check_head(headers, now)
        self.check_body(headers, body)
        return key_id


@functools.lru_cache(maxsize=64)
def _parse_date(value: str) -> dt.datetime | None:
    """The date of a `date` header (cached: the requests of one second all carry the same text)."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        when = when.replace(tzinfo=dt.UTC)
    return when


def _check_date(value: str, now: dt.datetime) -> None:
    when = _parse_date(value)
    if when is None:
        raise KmsError.invalid_date()
    if abs(now - when) > MAX_SKEW:
        raise KmsError.time_skewed()
