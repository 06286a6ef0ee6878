"""Plain data types of the sandbox API (standard library only, so importing them is cheap)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_KEY_ALIAS",
    "KEY_OPERATIONS",
    "KEY_SPECS",
    "KEY_STATES",
    "SECRET_OPERATIONS",
    "SIGNING_KEY_ALIAS",
    "KeyInfo",
    "SandboxStatus",
]

KEY_SPECS = ("Aliyun_AES_256", "EC_P256")
"""Key specs the sandbox can create: symmetric AES-256 (Encrypt/Decrypt/GenerateDataKey), EC P-256 (Sign)."""

KEY_STATES = ("PreActive", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed_Compromised")
"""Key states (KMIP names, as in the KMS-server seed). Only `Active` keys can be used."""

KEY_OPERATIONS = ("Decrypt", "Encrypt", "GenerateDataKey", "GetPublicKey", "Sign", "Verify")
"""Operations a client key can be granted on a key (`read_access.permissions` holds API names)."""

SECRET_OPERATIONS = ("GetSecretValue",)
"""Operations a client key can be granted on a secret."""

DEFAULT_KEY_ALIAS = "alias/sealtui-default"
"""Alias of the AES-256 key `init` creates."""

SIGNING_KEY_ALIAS = "alias/sealtui-signing"
"""Alias of the EC P-256 key `init` creates."""


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed by `status`: id, aliases, spec and state."""

    id: str
    aliases: list[str]
    spec: str
    state: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class SandboxStatus:
    """What a sandbox instance is and where to find it."""

    root_dir: Path
    kms_instance_id: str
    endpoint: str
    """`host:port` the server last bound (from `serve.json`), or the configured one."""
    running: bool
    """Whether a server is serving this root directory right now."""
    client_key_id: str
    """The client key `init` issued (its files are in `credentials_dir`)."""
    credentials_dir: Path
    """Holds exactly what CDH reads: `clientKey_<id>.json`, `password_<id>.json`, `PrivateKmsCA_<inst>.pem`."""
    ca_file: Path
    client_key_file: Path
    password_file: Path
    default_key_id: str | None = None
    """The key behind `alias/sealtui-default`, if it still has that alias."""
    signing_key_id: str | None = None
    """The key behind `alias/sealtui-signing`, if it still has that alias."""
    keys: list[KeyInfo] = field(default_factory=list)
    client_key_ids: list[str] = field(default_factory=list)
    """Every registered client key (the issued one and any registered later)."""
    secrets: list[str] = field(default_factory=list)
    master_key_file: Path | None = None
    """Where the master key that seals the instance's keys lives (outside `root_dir`)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (paths as strings)."""
        data = asdict(self)
        for name in ("root_dir", "credentials_dir", "ca_file", "client_key_file", "password_file"):
            data[name] = str(data[name])
        data["master_key_file"] = str(self.master_key_file) if self.master_key_file else None
        return data
