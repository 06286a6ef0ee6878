"""Where a sandbox instance keeps each file under its root directory (one place for every path)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_root_dir() -> Path:
    """`$XDG_DATA_HOME/sealtui/sandbox`, or `~/.local/share/sealtui/sandbox` (stdlib only: the TUI asks early)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sealtui" / "sandbox"


__all__ = ["Layout"]


@dataclass(frozen=True)
class Layout:
    """The files of one instance. Everything is mode 0600, directories 0700.

    The master key is not here: it lives outside the state directory (see `masterkey`). The private keys
    under `pki/` are encrypted with a password derived from it, and the root CA's private key is not kept
    at all (nothing needs it after `init`).
    """

    root: Path

    @property
    def database(self) -> Path:
        """SQLite state (`objects`, `read_access`, …)."""
        return self.root / "sandbox.db"

    @property
    def pki_dir(self) -> Path:
        """CA and server certificates and keys."""
        return self.root / "pki"

    @property
    def root_ca_cert(self) -> Path:
        return self.pki_dir / "root-ca.pem"

    @property
    def legacy_root_ca_key(self) -> Path:
        """Where instances made before the hardening kept the root CA key (removed on first use)."""
        return self.pki_dir / "root-ca-key.pem"

    @property
    def intermediate_ca_cert(self) -> Path:
        return self.pki_dir / "intermediate-ca.pem"

    @property
    def intermediate_ca_key(self) -> Path:
        """The issuing CA's key, encrypted (PKCS#8) with a password derived from the master key."""
        return self.pki_dir / "intermediate-ca-key.pem"

    @property
    def server_chain(self) -> Path:
        """Server leaf + intermediate (what the TLS handshake sends)."""
        return self.pki_dir / "server.pem"

    @property
    def server_key(self) -> Path:
        """The TLS server key, encrypted (PKCS#8) with a password derived from the master key."""
        return self.pki_dir / "server-key.pem"

    @property
    def credentials_dir(self) -> Path:
        """Exactly the files CDH reads in the guest."""
        return self.root / "credentials"

    def client_key_file(self, key_id: str) -> Path:
        return self.credentials_dir / f"clientKey_{key_id}.json"

    def password_file(self, key_id: str) -> Path:
        return self.credentials_dir / f"password_{key_id}.json"

    def ca_file(self, instance_id: str) -> Path:
        return self.credentials_dir / f"PrivateKmsCA_{instance_id}.pem"

    @property
    def serve_json(self) -> Path:
        """The endpoint the running (or last) server bound, for `status` and test fixtures."""
        return self.root / "serve.json"

    @property
    def serve_lock(self) -> Path:
        """Held (flock) by the serving process: tells `status` whether a server runs."""
        return self.root / "serve.lock"
