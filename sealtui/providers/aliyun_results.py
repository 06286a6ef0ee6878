"""What `AliyunKms` operations return (plain data, no SDK types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ConnectionReport", "ConnectionStep", "DataKey", "EncryptResult", "SecretValue", "StepName"]


@dataclass(frozen=True)
class EncryptResult:
    """What `Encrypt` returned: the resolved key id, the ciphertext and the IV to send back on `Decrypt`."""

    key_id: str
    ciphertext_blob: bytes
    iv: bytes


@dataclass(frozen=True)
class DataKey:
    """A data key from `GenerateDataKey`: the plaintext key and the same key encrypted under `key_id`."""

    key_id: str
    plaintext: bytes = field(repr=False)
    ciphertext_blob: bytes
    iv: bytes


@dataclass(frozen=True)
class SecretValue:
    """A secret from `GetSecretValue`."""

    name: str
    data: str = field(repr=False)
    version_id: str
    version_stages: list[str]
    secret_type: str
    data_type: str


StepName = Literal["reachability", "trust", "client_key", "permission"]


@dataclass(frozen=True)
class ConnectionStep:
    """One step of `check_connection`."""

    name: StepName
    status: Literal["ok", "error", "skipped"]
    message: str
    fix: str | None = None


@dataclass
class ConnectionReport:
    """What `check_connection` found, step by step; `failed` names the first failing step."""

    endpoint: str
    steps: list[ConnectionStep] = field(default_factory=list)

    @property
    def failed(self) -> str | None:
        """The name of the first step that failed, or None when all that ran passed."""
        return next((s.name for s in self.steps if s.status == "error"), None)

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return self.failed is None
