"""Sandbox configuration: command-line flags > environment variables > `.env` in the current directory.

The names follow the KMS-server seed (`seeds/004`): `KMS_HOSTNAME`, `KMS_PORT`, `KMS_ROOT_DIR`. Unlike that
server the default host is `127.0.0.1`: a sandbox holding test keys must not listen on every interface unless
asked to.
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

    @field_validator("root_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


_SOURCES = {
    "hostname": "--hostname / KMS_HOSTNAME",
    "port": "--port / KMS_PORT",
    "root_dir": "--root-dir / KMS_ROOT_DIR",
}


def load_settings(
    *,
    hostname: str | None = None,
    port: int | None = None,
    root_dir: Path | str | None = None,
    env_file: Path | str | None = ".env",
) -> SandboxSettings:
    """Settings from the given flags (None = not given), then the environment, then `env_file`."""
    flags: dict[str, Any] = {
        k: v for k, v in {"hostname": hostname, "port": port, "root_dir": root_dir}.items() if v is not None
    }
    try:
        return SandboxSettings(_env_file=env_file, **flags)  # type: ignore[call-arg]
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "setting"
        raise UsageError(
            f"invalid sandbox setting {_SOURCES.get(name, name)}: {first['msg']}",
            fix="check the flag, the environment variable and the .env file in the current directory",
        ) from None
