"""Sandbox settings: flags > environment > .env > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealtui.core.errors import UsageError
from sealtui.sandbox.config import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("KMS_HOSTNAME", "KMS_PORT", "KMS_ROOT_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def test_defaults_listen_on_loopback():
    settings = load_settings()
    assert (settings.hostname, settings.port) == ("127.0.0.1", 9998)
    assert settings.root_dir == Path.home() / ".local" / "share" / "sealtui" / "sandbox"


def test_xdg_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings().root_dir == tmp_path / "xdg" / "sealtui" / "sandbox"


def test_precedence_flags_then_env_then_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    (tmp_path / ".env").write_text("KMS_HOSTNAME=10.0.0.1\nKMS_PORT=1111\nKMS_ROOT_DIR=/from/dotenv\nOTHER=x\n")
    s = load_settings()
    assert (s.hostname, s.port, s.root_dir) == ("10.0.0.1", 1111, Path("/from/dotenv"))
    monkeypatch.setenv("KMS_PORT", "2222")
    monkeypatch.setenv("KMS_ROOT_DIR", "~/from-env")
    s = load_settings()
    assert (s.hostname, s.port, s.root_dir) == ("10.0.0.1", 2222, Path.home() / "from-env")
    s = load_settings(hostname="::1", port=0, root_dir="/from/flag")
    assert (s.hostname, s.port, s.root_dir) == ("::1", 0, Path("/from/flag"))


def test_invalid_values_name_the_setting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KMS_PORT", "not-a-port")
    with pytest.raises(UsageError, match="KMS_PORT"):
        load_settings()
    with pytest.raises(UsageError, match="--port"):
        load_settings(port=70000)


def test_master_key_dir_and_chosen_iv_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("KMS_MASTER_KEY_DIR", raising=False)
    monkeypatch.delenv("KMS_ALLOW_CHOSEN_IV", raising=False)
    s = load_settings()
    assert (s.master_key_dir, s.allow_chosen_iv) == (None, False)  # a caller's IV is refused unless asked
    (tmp_path / ".env").write_text("KMS_MASTER_KEY_DIR=/from/dotenv\nKMS_ALLOW_CHOSEN_IV=true\n")
    s = load_settings()
    assert (s.master_key_dir, s.allow_chosen_iv) == (Path("/from/dotenv"), True)
    monkeypatch.setenv("KMS_MASTER_KEY_DIR", "~/keys")
    assert load_settings().master_key_dir == Path.home() / "keys"
    assert load_settings(master_key_dir="/flag", allow_chosen_iv=False).allow_chosen_iv is False
