"""A minimal KMS-instance client for tests: raw signed requests over a keep-alive connection.

The product talks to KMS instances through the official SDK (`sealtui.providers`). This client exists because
the SDK always signs correctly (tests must forge bad requests) and re-parses its RSA key on every call (~40 ms;
load tests need thousands of calls). It signs with an already-parsed key, using the same string-to-sign code
as the server's verification.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from sealtui.sandbox import proto, signing

__all__ = ["RawKmsClient", "RawResponse"]


@dataclass(frozen=True)
class RawResponse:
    """Status, lower-case headers and body of one response."""

    status: int
    headers: dict[str, str]
    body: bytes

    def message(self, name: str) -> Any:
        """Parse the body as the message `name` (e.g. `EncryptResponse`)."""
        return proto.parse(name, self.body)

    @property
    def error_code(self) -> str:
        """The `ErrorCode` of an error response ('' for a success)."""
        return "" if self.status < 400 else str(proto.parse("Error", self.body).ErrorCode)

    @property
    def error_message(self) -> str:
        """The `ErrorMessage` of an error response."""
        return "" if self.status < 400 else str(proto.parse("Error", self.body).ErrorMessage)


class RawKmsClient:
    """One keep-alive HTTPS connection to a KMS instance, signing as one client key. Not thread-safe."""

    def __init__(
        self, endpoint: str, ca_file: Path, key_id: str, private_key: rsa.RSAPrivateKey, *, timeout: float = 30.0
    ) -> None:
        host, _, port = endpoint.rpartition(":")
        self.endpoint = endpoint
        self.key_id = key_id
        self.private_key = private_key
        context = ssl.create_default_context(cafile=str(ca_file))
        self._conn = http.client.HTTPSConnection(host.strip("[]"), int(port), context=context, timeout=timeout)

    @classmethod
    def from_files(cls, endpoint: str, ca_file: Path, client_key_file: Path, password_file: Path) -> RawKmsClient:
        """Build a client from the credential files (`clientKey_<id>.json`, password file, CA bundle)."""
        from sealtui.core.credentials import load_client_key, read_password_file

        client_key = load_client_key(Path(client_key_file), read_password_file(Path(password_file)))
        return cls(endpoint, ca_file, client_key.key_id, client_key.private_key)

    def headers(self, api_name: str, body: bytes, **kwargs: Any) -> dict[str, str]:
        """The signed headers for a call (see `signing.signed_headers` for `date=` and `extra=`)."""
        return signing.signed_headers(api_name, body, self.key_id, self.private_key, host=self.endpoint, **kwargs)

    def send(self, headers: Mapping[str, str], body: bytes) -> RawResponse:
        """Send `POST /` with exactly these headers and body (nothing re-signed)."""
        self._conn.request("POST", "/", body=body, headers=dict(headers))
        response = self._conn.getresponse()
        data = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def call(self, api_name: str, **fields: Any) -> RawResponse:
        """A correctly signed call of `api_name` with the fields of its request message."""
        body = proto.serialize(f"{api_name}Request", **fields)
        return self.send(self.headers(api_name, body), body)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> RawKmsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
