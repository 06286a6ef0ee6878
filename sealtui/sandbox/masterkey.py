"""The master key that seals key material and secret values at rest.

32 random bytes in `<root>/master.key` (mode 0600). Each item is sealed with AES-256-GCM under a fresh
12-byte nonce, with the item's identity (`<object id>|<version id>`) as AAD so that sealed blobs cannot be
swapped between rows unnoticed.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox import fsutil

__all__ = ["MASTER_KEY_NAME", "MasterKey"]

MASTER_KEY_NAME = "master.key"


class MasterKey:
    """Seals and opens small blobs with the instance's master key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def create(cls, root_dir: Path) -> MasterKey:
        """Generate and write a new master key (refusing to overwrite one)."""
        key = AESGCM.generate_key(bit_length=256)
        fsutil.write_private(root_dir / MASTER_KEY_NAME, key)
        return cls(key)

    @classmethod
    def load(cls, root_dir: Path) -> MasterKey:
        """Read the master key of an instance."""
        path = root_dir / MASTER_KEY_NAME
        try:
            key = path.read_bytes()
        except OSError as e:
            raise InvalidInputError(
                f"{path}: {e.strerror}", fix="the sandbox's master key is needed to use its keys"
            ) from None
        if len(key) != 32:
            raise InvalidInputError(f"{path} is not a 32-byte master key", fix="restore it from a backup")
        return cls(key)

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
                f"sealed data for {aad} does not open with this master key",
                fix="the database and master.key must come from the same sandbox instance",
            ) from None
