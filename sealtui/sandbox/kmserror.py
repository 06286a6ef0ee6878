"""Errors the sandbox server answers with, as the KMS instance does (dkms-protocol.md §3.3, §4.2).

Each error is an HTTP status plus an `Error` protobuf body (`StatusCode`, `ErrorCode`, `ErrorMessage`,
`RequestId`). The constructors below carry the documented wording so that handlers cannot invent codes.
`Rejected.Throttling` is deliberately absent: the SDK retries it with 1 s sleeps.
"""

from __future__ import annotations

__all__ = ["KmsError"]

_INVALID_PARAMETER = "The specified parameter is not valid."


class KmsError(Exception):
    """A refusal the server sends back as an `Error` message with its HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        """The HTTP status (also sent as `StatusCode`)."""
        self.code = code
        """The Alibaba `ErrorCode`, e.g. `Forbidden.NoPermission`."""
        self.message = message
        """The `ErrorMessage` text."""

    # Authentication (§3.3), in the order the server checks them.

    @classmethod
    def invalid_api_version(cls, value: str) -> KmsError:
        return cls(400, "InvalidApiVersion", f'The ApiVersion "{value}" is invalid.')

    @classmethod
    def invalid_signature_method(cls, value: str | None) -> KmsError:
        if value is None:
            return cls(400, "InvalidParam", "The Param x-kms-signaturemethod is invalid.")
        return cls(400, "InvalidParam", f'The Param x-kms-signaturemethod is invalid. message:"{value}".')

    @classmethod
    def missing_access_key_id(cls) -> KmsError:
        return cls(400, "MissingParameter", "Parameter x-kms-acccesskeyid does not exist in http header or body.")

    @classmethod
    def invalid_content_type(cls, value: str) -> KmsError:
        return cls(415, "InvalidContentType", f'Content-Type "{value}" is unsupported.')

    @classmethod
    def invalid_date(cls) -> KmsError:
        return cls(400, "InvalidParam", "The Param Date is invalid.")

    @classmethod
    def time_skewed(cls) -> KmsError:
        return cls(400, "RequestTimeTooSkewed", "Request time exceeds server time more than 15 minutes.")

    @classmethod
    def unknown_access_key(cls, key_id: str) -> KmsError:
        return cls(404, "Unauthorized", f'The AccessKey ID "{key_id}" does not exist in our records.')

    @classmethod
    def signature_not_match(cls) -> KmsError:
        return cls(401, "SignatureNotMatch", "Signature is not matched.")

    @classmethod
    def invalid_api_name(cls, value: str) -> KmsError:
        return cls(400, "InvalidApiName", f'The ApiName "{value}" is invalid.')

    @classmethod
    def body_too_large(cls, size: int, limit: int) -> KmsError:
        # 413 has no documented ErrorCode; the name says what happened.
        return cls(413, "RequestEntityTooLarge", f"The request body of {size} bytes exceeds {limit} bytes.")

    # Operations.

    @classmethod
    def invalid_parameter(cls, detail: str) -> KmsError:
        return cls(400, "InvalidParameter", f"{_INVALID_PARAMETER} {detail}")

    @classmethod
    def key_not_found(cls, key_id: str) -> KmsError:
        return cls(404, "Forbidden.KeyNotFound", f'The specified key "{key_id}" does not exist.')

    @classmethod
    def resource_not_found(cls, what: str) -> KmsError:
        return cls(404, "Forbidden.ResourceNotFound", f"The resource {what} does not exist.")

    @classmethod
    def no_permission(cls, param: str) -> KmsError:
        return cls(403, "Forbidden.NoPermission", f'This operation for "{param}" is forbidden by permission system.')

    @classmethod
    def key_state(cls, key_id: str, state: str) -> KmsError:
        """409 for a key that is not `Active`: the code depends on the state."""
        code = "Rejected.PendingDeletion" if state.startswith("Destroyed") else "Rejected.Disabled"
        extra = " (it has not been activated yet)" if state == "PreActive" else ""
        return cls(409, code, f'The request was rejected because the key state is {state}{extra}: key "{key_id}".')

    @classmethod
    def internal(cls) -> KmsError:
        return cls(500, "InternalFailure", "Internal Failure.")
