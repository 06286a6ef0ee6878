"""Sandbox configuration: command-line flags > environment variables > `.env` in the current directory.

The names follow the KMS-server seed (`seeds/004`): `KMS_HOSTNAME`, `KMS_PORT`, `KMS_ROOT_DIR`. Unlike that
server the default host is `127.0.0.1`: a sandbox holding test keys must not listen on every interface unless
asked to. `KMS_MASTER_KEY_DIR` says where the instance's master key lives (outside the state directory), and
`KMS_ALLOW_CHOSEN_IV` lets `Encrypt` take a caller's IV (for compatibility tests only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sealtui.core.errors import UsageError
from sealtui.sandbox.layout import default_root_dir

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "SandboxSettings", "default_root_dir", "load_settings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9998


class SandboxSettings(BaseSettings):
    """Where the sandbox listens and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="KMS_", env_file=".env", extra="ignore")

    hostname: str = Field(default=DEFAULT_HOST, min_length=1)
    """Address to listen on (`KMS_HOSTNAME`, `--hostname`)."""
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    """TCP port (`KMS_PORT`, `--port`); 0 picks a free port, written to `<root>/serve.json`."""
    root_dir: Path = Field(default_factory=default_root_dir)
    """State directory (`KMS_ROOT_DIR`, `--root-dir`)."""
    master_key_dir: Path | None = None
    """Directory of the master keys (`KMS_MASTER_KEY_DIR`, `--master-key-dir`); default
    `$XDG_CONFIG_HOME/sealtui/local-kms`."""
    allow_chosen_iv: bool = False
    """Let `Encrypt` use an IV the caller chose (`KMS_ALLOW_CHOSEN_IV`, `--allow-chosen-iv`): unsafe, for
    compatibility tests only (a reused AES-GCM IV exposes the data)."""

    @field_validator("root_dir", "master_key_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


_SOURCES = {
    "hostname": "--hostname / KMS_HOSTNAME",
    "port": "--port / KMS_PORT",
    "root_dir": "--root-dir / KMS_ROOT_DIR",
    "master_key_dir": "--master-key-dir / KMS_MASTER_KEY_DIR",
    "allow_chosen_iv": "--allow-chosen-iv / KMS_ALLOW_CHOSEN_IV",
}


def load_settings(
    *,
    hostname: str | None = None,
    port: int | None = None,
    root_dir: Path | str | None = None,
    master_key_dir: Path | str | None = None,
    allow_chosen_iv: bool | None = None,
    env_file: Path | str | None = ".env",
) -> SandboxSettings:
    """Settings from the given flags (None = not given), then the environment, then `env_file`."""
    given = {
        "hostname": hostname,
        "port": port,
        "root_dir": root_dir,
        "master_key_dir": master_key_dir,
        "allow_chosen_iv": allow_chosen_iv,
    }
    flags: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    try:
        return SandboxSettings(_env_file=env_file, **flags)  # type: ignore[call-arg]
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "setting"
        raise UsageError(
            f"invalid sandbox setting {_SOURCES.get(name, name)}: {first['msg']}",
            fix="check the flag, the environment variable and the .env file in the current directory",
        ) from None
