"""Request authentication, in the order of dkms-protocol.md §3.3.

1. `x-kms-apiversion` is `dkms-gcs-0.2` (400 InvalidApiVersion);
2. `x-kms-signaturemethod` is `RSA_PKCS1_SHA_256` (400 InvalidParam);
3. `x-kms-acccesskeyid` is present (400 MissingParameter);
4. `content-type` is `application/x-protobuf` (415 InvalidContentType);
5. `date` parses and is within 15 minutes of the server clock (400 InvalidParam / RequestTimeTooSkewed);
6. `content-sha256` matches the body (401 SignatureNotMatch);
7. the client key is registered (404 Unauthorized);
8. `authorization` verifies over the string-to-sign rebuilt from the received headers (401 SignatureNotMatch).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealtui.sandbox import signing
from sealtui.sandbox.kmserror import KmsError

__all__ = ["MAX_SKEW", "Authenticator"]

MAX_SKEW = dt.timedelta(minutes=15)


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

    def authenticate(self, headers: Mapping[str, str], body: bytes, now: dt.datetime | None = None) -> str:
        """Return the client key id of a correctly signed request; raise `KmsError` otherwise.

        `headers` must have lower-case names (first value of each).
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
        if headers.get("content-sha256", "").strip().upper() != signing.body_sha256(body):
            raise KmsError.signature_not_match()
        public_key = self._public_key(key_id)
        if public_key is None:
            raise KmsError.unknown_access_key(key_id)
        text = signing.string_to_sign("POST", headers)
        if not signing.verify_signature(public_key, text, headers.get("authorization", "")):
            raise KmsError.signature_not_match()
        return key_id


def _check_date(value: str, now: dt.datetime) -> None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise KmsError.invalid_date() from None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        when = when.replace(tzinfo=dt.UTC)
    if abs(now - when) > MAX_SKEW:
        raise KmsError.time_skewed()
