"""Which key signs the JWS of what is sealed: a private P-256 JWK (a file, or one generated under the config
directory), or an EC P-256 key held in the KMS (the private key never leaves it; its public JWK can be exported
for CDH)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealtui.core.errors import UsageError

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.core.jws import Jwk
    from sealtui.core.keywrap import Signer
    from sealtui.service.kms import KmsTarget

__all__ = ["DEFAULT_KID", "SigningKey", "export_public_jwk", "generate_signing_key", "kms_key", "kms_signing_key",
           "load_signing_jwk", "signer_for"]

DEFAULT_KID = "sealtui-signing"
"""The kid offered for a generated signing key: CDH then reads the public key from
`/run/confidential-containers/cdh/sealed-secret/sealtui-signing` in the guest."""


@dataclass(frozen=True)
class SigningKey:
    """A chosen signing key: a private JWK, or a key held in the KMS."""

    kid: str
    """The JWS `kid`: where CDH looks the public key up."""
    source: str
    """Where it comes from: the JWK file, or the KMS key reference."""
    jwk: Jwk | None = None
    """The private JWK, when the key is a JWK."""
    kms_key: str | None = None
    """The KMS key reference (id, alias or URI), when the key is held in the KMS."""
    public_path: Path | None = None
    """The public JWK file written for it (generated or exported), if any."""

    @property
    def provision(self) -> str:
        """Where CDH looks for the public half (what to provision where)."""
        from sealtui.core.lint import key_location

        return key_location(self.kid) or ""


def load_signing_jwk(path: Path, kid: str | None = None) -> SigningKey:
    """Sign with the private JWK in the file `path` (its `kid`, or `kid` if given)."""
    from sealtui.core.jws import JwkSigner, load_jwk

    path = Path(path).expanduser()
    jwk = load_jwk(path)
    signer = JwkSigner(jwk, kid or None)  # checks it is private and has a kid
    return SigningKey(signer.kid, str(path), jwk=replace(jwk, kid=signer.kid))


def generate_signing_key(keys_dir: Path, kid: str = DEFAULT_KID) -> SigningKey:
    """A signing key pair for `kid` under `keys_dir`, generated the first time and loaded after that."""
    from sealtui.core.jws import key_file_stem, keygen

    stem = key_file_stem(kid)
    private, public = keys_dir / f"{stem}-private.json", keys_dir / f"{stem}-public.json"
    if not private.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keygen(kid, keys_dir)
    return replace(load_signing_jwk(private, kid), public_path=public)


def kms_key(key_text: str, kid: str) -> SigningKey:
    """Sign with the EC P-256 key `key_text` (id, alias or URI) held in a KMS, as `kid` (checked, no KMS call)."""
    from sealtui.core.keyref import parse_key_ref

    key_text, kid = key_text.strip(), kid.strip()
    if not key_text:
        raise UsageError("no KMS signing key given", fix="give its id, alias/<name> or alibabakms:// URI")
    if not kid:
        raise UsageError("a KMS signing key needs a kid", fix="give the kid CDH will look the public key up by")
    parse_key_ref(key_text)
    return SigningKey(kid, key_text, kms_key=key_text)


def kms_signing_key(target: KmsTarget, key_text: str, kid: str,
                    credentials: AliyunCredentials | None = None) -> tuple[SigningKey, dict[str, str]]:
    """`kms_key`, with its public key fetched first (a KMS call), so a key that does not exist, is not P-256 or is
    not allowed is refused here rather than at the first seal. Returns the key and its public JWK."""
    key = kms_key(key_text, kid)
    return key, _kms_signer(key, target, credentials).public_jwk()


def signer_for(key: SigningKey, target: KmsTarget | None = None,
               credentials: AliyunCredentials | None = None) -> Signer:
    """The signer of `key`; a key held in the KMS signs through `target` (see `service.kms.connect`)."""
    if key.kms_key is not None:
        return _kms_signer(key, target, credentials)
    from sealtui.core.jws import JwkSigner

    assert key.jwk is not None
    return JwkSigner(key.jwk)


def export_public_jwk(key: SigningKey, target: KmsTarget | None, path: Path,
                      credentials: AliyunCredentials | None = None) -> SigningKey:
    """Write the public JWK of a KMS-held signing key to the new file `path` (mode 0644, never overwrites; its
    directory is created, mode 0700). The file is checked before the KMS is asked."""
    from sealtui.core.files import check_new_file, ensure_directory, write_public_file

    if key.kms_key is None:
        raise UsageError("the signing key is not held in a KMS", fix="its public JWK is the file beside it")
    check_new_file(path)
    ensure_directory(Path(path).expanduser().parent)
    public: dict[str, Any] = _kms_signer(key, target, credentials).public_jwk()
    path = write_public_file(path, (json.dumps(public, indent=2) + "\n").encode("utf-8"))
    return replace(key, public_path=path)


def _kms_signer(key: SigningKey, target: KmsTarget | None, credentials: AliyunCredentials | None) -> Any:
    from sealtui.providers.aliyun import AliyunKmsSigner
    from sealtui.service.kms import connect

    if target is None:
        raise UsageError("no KMS credentials to sign with", fix="choose the credentials of the KMS holding the key")
    assert key.kms_key is not None
    # The signing key is the client's key: an endpoint in its URI (other than a region's gateway) is honoured.
    return AliyunKmsSigner(connect(target.with_key(key.kms_key), credentials), key.kms_key, key.kid)
