"""The master key that seals key material, secret values and the instance's private TLS/CA keys at rest.

32 random bytes, kept **outside** the state directory: `$XDG_CONFIG_HOME/sealtui/local-kms/<instance-id>.key`
(mode 0600, directory 0700), or in the directory named by `KMS_MASTER_KEY_DIR` (`--master-key-dir`). A copy of
the state directory alone (a backup, a tarball handed around, a volume mounted elsewhere) then holds nothing
that opens its keys. Each item is sealed with AES-256-GCM under a fresh 12-byte nonce, with the item's identity
(`<object id>|<version id>`) as AAD so that sealed blobs cannot be swapped between rows unnoticed.

Instances made before the key moved out kept it in `<root>/master.key`; `load` moves such a key to its new
place the first time it is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox import fsutil

__all__ = ["LEGACY_NAME", "MasterKey", "default_key_dir", "key_path"]

LEGACY_NAME = "master.key"
"""Where instances made before the key moved out kept it, under their root directory."""
KEY_DIR_ENV = "KMS_MASTER_KEY_DIR"


def default_key_dir() -> Path:
    """`$KMS_MASTER_KEY_DIR`, else `$XDG_CONFIG_HOME/sealtui/local-kms` (`~/.config/sealtui/local-kms`)."""
    configured = os.environ.get(KEY_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sealtui" / "local-kms"


def key_path(instance_id: str, key_dir: Path | None = None) -> Path:
    """The master key file of an instance (in `key_dir`, default `default_key_dir()`)."""
    return Path(key_dir if key_dir is not None else default_key_dir()).expanduser() / f"{instance_id}.key"


class MasterKey:
    """Seals and opens small blobs with the instance's master key."""

    def __init__(self, key: bytes, path: Path) -> None:
        self._key = key
        self._aead = AESGCM(key)
        self.path = path
        """Where the key is kept (named in error messages)."""

    @classmethod
    def create(cls, path: Path) -> MasterKey:
        """Generate and write a new master key at `path` (refusing to overwrite one)."""
        key = AESGCM.generate_key(bit_length=256)
        fsutil.make_private_dir(path.parent)
        try:
            fsutil.write_private(path, key)
        except FileExistsError:
            raise InvalidInputError(
                f"{path} already exists", fix="a master key is never overwritten: move it away first"
            ) from None
        return cls(key, path)

    @classmethod
    def load(cls, path: Path, root_dir: Path) -> MasterKey:
        """Read the master key at `path`, moving it there from `<root_dir>/master.key` if it is still there."""
        legacy = root_dir / LEGACY_NAME
        if not path.exists() and legacy.is_file():
            fsutil.make_private_dir(path.parent)
            fsutil.write_private(path, legacy.read_bytes())
            legacy.unlink()
        try:
            key = path.read_bytes()
        except OSError as e:
            raise InvalidInputError(
                f"cannot read the master key of the local KMS instance in {root_dir}: {path}: {e.strerror}",
                fix=f"the key lives outside the state directory; restore {path} from a backup, or point "
                f"{KEY_DIR_ENV} (--master-key-dir) at the directory that holds it",
            ) from None
        if len(key) != 32:
            raise InvalidInputError(f"{path} is not a 32-byte master key", fix="restore it from a backup")
        return cls(key, path)

    def seal(self, data: bytes, aad: str) -> str:
        """Encrypt `data` bound to `aad`; returns base64 of nonce ‖ ciphertext ‖ tag."""
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, data, aad.encode("utf-8"))).decode("ascii")

    def open(self, sealed: str, aad: str) -> bytes:
        """Decrypt what `seal` produced for the same `aad`."""
        raw = base64.b64decode(sealed)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], aad.encode("utf-8"))
        except InvalidTag:
            raise InvalidInputError(
                f"sealed data for {aad} does not open with the master key {self.path}",
                fix="the state directory and the master key must come from the same local KMS instance",
            ) from None

    def derive_password(self, purpose: str) -> bytes:
        """A password for one purpose (e.g. the encrypted TLS key file), derived from the master key."""
        return hmac.new(self._key, purpose.encode("utf-8"), hashlib.sha256).hexdigest().encode("ascii")
