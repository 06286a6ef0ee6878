"""The one family of errors a user can cause.

Every error that a user can provoke (a bad file, a wrong password, a malformed string, a refused key, a timeout)
is a `SealtuiError`. Its message names the thing at fault; `fix` says what to do. The CLI maps each class to an
exit code; the TUI shows the message and keeps running.
"""

from __future__ import annotations


class SealtuiError(Exception):
    """Base class of every user-caused error."""

    exit_code: int = 3
    """The CLI exit code for this kind of error (see `sealtui.cli`)."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong, naming the file, field or part at fault."""
        self.fix = fix
        """What the user should do about it, when there is something to say."""

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message} ({self.fix})"


class UsageError(SealtuiError):
    """The command was called wrongly (missing or conflicting options)."""

    exit_code = 2


class InvalidInputError(SealtuiError):
    """Input that cannot be used: a malformed sealed string, a bad JWK, an unreadable file."""

    exit_code = 3


class CredentialError(InvalidInputError):
    """A credential file (client key, password, CA bundle) is missing, unreadable or wrong."""


class VerificationError(SealtuiError):
    """A signature did not verify, or could not be checked with the key given."""

    exit_code = 4


class ProviderError(SealtuiError):
    """The KMS (or another provider) refused or failed a request."""

    exit_code = 5

    def __init__(self, message: str, *, fix: str | None = None, code: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.code = code
        """The provider's own error code, when it gave one (e.g. `Forbidden.NoPermission`)."""
