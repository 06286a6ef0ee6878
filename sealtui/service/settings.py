"""What outlives a TUI session: the credentials directory, whether the local KMS is used, the endpoint, the
recently used keys and the directories files were last saved to, in `$XDG_CONFIG_HOME/sealtui/config.json`
(default `~/.config/sealtui`), mode 0600. Never plaintext, never a password."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["DEFAULT_CLIPBOARD_CLEAR_SECONDS", "MAX_RECENT_KEYS", "Settings", "default_config_dir", "load_settings",
           "save_directory", "save_settings"]

DEFAULT_CLIPBOARD_CLEAR_SECONDS = 30.0
"""How long a copied secret stays on the clipboard before sealtui clears it."""

MAX_RECENT_KEYS = 10
"""How many recently used key references are remembered."""


def default_config_dir() -> Path:
    """`$XDG_CONFIG_HOME/sealtui`, or `~/.config/sealtui`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sealtui"


@dataclass(frozen=True)
class Settings:
    """The saved choices."""

    credentials_dir: Path | None = None
    endpoint: str | None = None
    sandbox: bool = False
    """True when the local KMS instance was in use."""
    recent_keys: tuple[str, ...] = field(default_factory=tuple)
    """Most recent first, at most `MAX_RECENT_KEYS`."""
    last_dir: Path | None = None
    """Where a file (sealed strings, a manifest, a public JWK) was last saved."""
    plaintext_dir: Path | None = None
    """Where an unsealed plaintext was last saved: kept apart, so plaintext never defaults to where a manifest or
    a checkout is."""

    @property
    def is_configured(self) -> bool:
        """True when a previous run chose credentials or the local KMS."""
        return self.sandbox or self.credentials_dir is not None

    def with_recent_key(self, key: str) -> Settings:
        return replace(self, recent_keys=(key, *[k for k in self.recent_keys if k != key])[:MAX_RECENT_KEYS])

    def with_saved(self, path: Path, *, plaintext: bool = False) -> Settings:
        """These settings, remembering the directory of `path` (a file just saved)."""
        directory = path.expanduser().absolute().parent
        return replace(self, plaintext_dir=directory) if plaintext else replace(self, last_dir=directory)


def save_directory(settings: Settings, *, plaintext: bool = False) -> Path:
    """Where a save dialog starts: the directory last saved to (for plaintext, the one a plaintext was last saved
    to) while it exists, else the home directory. Never the current directory by default: it is often a checkout,
    and a plaintext saved there is one `git add` from being published."""
    remembered = settings.plaintext_dir if plaintext else settings.last_dir
    if remembered is not None and remembered.is_dir():
        return remembered
    return Path.home()


def _file(config_dir: Path) -> Path:
    return config_dir / "config.json"


def load_settings(config_dir: Path) -> Settings:
    """The settings saved in `config_dir`; defaults when there are none or they cannot be read."""
    from sealtui.core.errors import InvalidInputError
    from sealtui.core.files import read_text

    path = _file(config_dir)
    if not path.exists():
        return Settings()
    try:
        data = json.loads(read_text(path, "the settings file"))
    except (InvalidInputError, ValueError, RecursionError):  # RecursionError: `[[[[…` nested too deeply
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    keys = data.get("recent_keys")

    def path_at(name: str) -> Path | None:
        return Path(data[name]) if isinstance(data.get(name), str) else None

    return Settings(
        credentials_dir=path_at("credentials_dir"),
        endpoint=data["endpoint"] if isinstance(data.get("endpoint"), str) else None,
        sandbox=data.get("sandbox") is True,
        recent_keys=tuple(k for k in keys if isinstance(k, str)) if isinstance(keys, list) else (),
        last_dir=path_at("last_dir"),
        plaintext_dir=path_at("plaintext_dir"),
    )


def save_settings(config_dir: Path, settings: Settings) -> None:
    """Write `settings` to `config_dir/config.json`, mode 0600, replacing the file whole."""
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    def text(p: Path | None) -> str | None:
        return str(p) if p else None

    data = {"credentials_dir": text(settings.credentials_dir), "endpoint": settings.endpoint,
            "sandbox": settings.sandbox, "recent_keys": list(settings.recent_keys),
            "last_dir": text(settings.last_dir), "plaintext_dir": text(settings.plaintext_dir)}
    path = _file(config_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    tmp.replace(path)
