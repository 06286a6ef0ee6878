"""The local KMS's PKI private keys at rest: sealed under passwords derived from the instance's master key.

The root CA's key is dropped once it has signed the intermediate; the intermediate's (issuing) key and the TLS
server key are written encrypted, so a copy of the state directory alone does not let anyone mint or present a
trusted server certificate. Both `admin` (which writes them) and `server` (which loads the server key) use this
module, so neither imports the other.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealtui.sandbox import fsutil, pki
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.masterkey import MasterKey

__all__ = ["issuing_key_password", "load_rsa_key", "seal_legacy_keys", "server_key_password"]

_SERVER_KEY_PURPOSE = "sealtui local KMS: pki/server-key.pem"
_ISSUING_KEY_PURPOSE = "sealtui local KMS: pki/intermediate-ca-key.pem"


def server_key_password(master: MasterKey) -> bytes:
    """The password of the encrypted TLS server key (`pki/server-key.pem`)."""
    return master.derive_password(_SERVER_KEY_PURPOSE)


def issuing_key_password(master: MasterKey) -> bytes:
    """The password of the encrypted intermediate (issuing) CA key (`pki/intermediate-ca-key.pem`)."""
    return master.derive_password(_ISSUING_KEY_PURPOSE)


def load_rsa_key(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (the PKI's keys are all RSA)."""
    key = serialization.load_pem_private_key(pem, password)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def seal_legacy_keys(layout: Layout, master: MasterKey) -> None:
    """Bring an instance made before the hardening up to it: drop the root CA key, encrypt the others."""
    layout.legacy_root_ca_key.unlink(missing_ok=True)
    for path, password in ((layout.intermediate_ca_key, issuing_key_password(master)),
                           (layout.server_key, server_key_password(master))):
        data = path.read_bytes() if path.is_file() else b""
        if data and b"ENCRYPTED" not in data:
            fsutil.write_private_atomic(path, pki.private_key_pem(load_rsa_key(data), password))
