"""One request in, one response out: authentication, dispatch and the error body (no sockets here).

Kept apart from the HTTP plumbing in `server.py` so the protocol logic reads top to bottom.
"""

from __future__ import annotations

import sys
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
    error_code: str = ""


class KmsApp:
    """The KMS instance API over one storage."""

    def __init__(self, storage: Storage, log: Callable[[str], None] | None = None) -> None:
        self.storage = storage
        self.auth = Authenticator(storage.client_public_key)
        self.ops = Operations(storage)
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

    def handle(self, headers: Mapping[str, str], body: bytes) -> Response:
        """Authenticate and run one call. `headers` has lower-case names."""
        request_id = str(uuid.uuid4())
        api_name = headers.get("x-kms-apiname", "")
        client_key_id = ""
        try:
            client_key_id = self.auth.authenticate(headers, body)
            if not self.ops.supports(api_name):
                raise KmsError.invalid_api_name(api_name)
            result = self.ops.run(api_name, body, client_key_id, headers)
            payload = proto.serialize(result.message, RequestId=request_id, **result.fields)
            return Response(200, payload, result.headers, api_name, client_key_id)
        except KmsError as e:
            response = self.error(e, request_id)
        except Exception:  # a bug: answer 500 like the real service, and keep the traceback for the log
            self._log(f"sealtui sandbox: internal error in {api_name or 'request'}:\n{traceback.format_exc()}")
            response = self.error(KmsError.internal(), request_id)
        response.api_name, response.client_key_id = api_name, client_key_id
        return response
