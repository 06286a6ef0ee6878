"""One request in, one response out: authentication, dispatch and the error body (no sockets here).

Kept apart from the HTTP plumbing in `server.py` and `connection.py` so the protocol logic reads top to bottom.
A request goes through two steps, so that no body is read for a request that is not correctly signed:
`check_head` (headers only) and then `run` (the body).
"""

from __future__ import annotations

import sqlite3
import sys
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sealtui.core.errors import SealtuiError
from sealtui.sandbox import proto
from sealtui.sandbox.auth import Authenticator
from sealtui.sandbox.kmserror import KmsError
from sealtui.sandbox.ops import Operations
from sealtui.sandbox.storage import Storage

__all__ = ["MAX_BODY", "KmsApp", "Response"]

MAX_BODY = 3 * 1024 * 1024
"""Larger request bodies get 413 (dkms-protocol.md §2.2)."""


@dataclass
class Response:
    """An HTTP response: status, extra headers and the protobuf body."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    api_name: str = ""
    client_key_id: str = ""
    """Set once the request's signature verified: the connection may then be kept open."""
    error_code: str = ""


class KmsApp:
    """The KMS instance API over one storage."""

    def __init__(
        self, storage: Storage, *, allow_chosen_iv: bool = False, log: Callable[[str], None] | None = None
    ) -> None:
        self.storage = storage
        self.auth = Authenticator(storage.client_public_key)
        self.ops = Operations(storage, allow_chosen_iv=allow_chosen_iv)
        self._log = log or (lambda line: sys.stderr.write(line + "\n"))

    @staticmethod
    def error(err: KmsError, request_id: str | None = None) -> Response:
        """The response for a refusal: `Error{StatusCode, ErrorCode, ErrorMessage, RequestId}`."""
        body = proto.serialize(
            "Error",
            StatusCode=err.status,
            ErrorCode=err.code,
            ErrorMessage=err.message,
            RequestId=request_id or str(uuid.uuid4()),
        )
        return Response(err.status, body, error_code=err.code)

    def check_head(self, headers: Mapping[str, str]) -> str:
        """The client key id of a request whose headers are correctly signed; raises `KmsError` otherwise.

        `headers` has lower-case names. Nothing of the body is needed (see `auth`).
        """
        try:
            return self.auth.check_head(headers)
        except KmsError:
            raise
        except (sqlite3.Error, SealtuiError) as e:  # the storage failed: say so in one line, answer 500
            self._log(f"sealtui sandbox: cannot authenticate a request: {e}")
            raise KmsError.internal() from None

    def run(self, headers: Mapping[str, str], body: bytes, client_key_id: str) -> Response:
        """Run one call whose headers `check_head` accepted for `client_key_id`."""
        request_id = str(uuid.uuid4())
        api_name = headers.get("x-kms-apiname", "")
        try:
            self.auth.check_body(headers, body)
        except KmsError as e:
            response = self.error(e, request_id)
            response.api_name = api_name
            return response  # no client_key_id: the body is not what was signed
        try:
            if not self.ops.supports(api_name):
                raise KmsError.invalid_api_name(api_name)
            result = self.ops.run(api_name, body, client_key_id, headers)
            payload = proto.serialize(result.message, RequestId=request_id, **result.fields)
            return Response(200, payload, result.headers, api_name, client_key_id)
        except KmsError as e:
            response = self.error(e, request_id)
        except (sqlite3.Error, SealtuiError) as e:  # the storage failed (full disk, damaged database, …)
            self._log(f"sealtui sandbox: {api_name or 'request'} failed: {e}")
            response = self.error(KmsError.internal(), request_id)
        except Exception:  # a bug: answer 500 like the real service, and keep the traceback for the log
            self._log(f"sealtui sandbox: internal error in {api_name or 'request'}:\n{traceback.format_exc()}")
            response = self.error(KmsError.internal(), request_id)
        response.api_name, response.client_key_id = api_name, client_key_id
        return response

    def handle(self, headers: Mapping[str, str], body: bytes) -> Response:
        """Both steps at once (for callers that already hold the whole request)."""
        try:
            client_key_id = self.check_head(headers)
        except KmsError as e:
            response = self.error(e)
            response.api_name = headers.get("x-kms-apiname", "")
            return response
        return self.run(headers, body, client_key_id)
