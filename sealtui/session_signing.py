"""The signing half of a `Session`, with no Textual in it: which key signs the JWS of what is sealed.

Two kinds of signer: a private P-256 JWK (loaded from a file or generated under the config directory), or an EC
P-256 key held in the KMS (`AliyunKmsSigner`: the private key never leaves the KMS; its public JWK can be
exported for CDH). Choosing one replaces the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealtui.core.errors import UsageError

if TYPE_CHECKING:
    from sealtui.core.jws import Jwk
    from sealtui.core.keywrap import Signer
    from sealtui.providers.aliyun import AliyunKms, AliyunKmsSigner

__all__ = ["DEFAULT_KID", "SigningMixin"]

DEFAULT_KID = "sealtui-signing"
"""The kid offered for a generated signing key: CDH then reads the public key from
`/run/confidential-containers/cdh/sealed-secret/sealtui-signing` in the guest."""


class SigningMixin:
    """Signing-key state and choices of a `Session` (which provides `config_dir`, `provider()` and the sandbox)."""

    config_dir: Path
    signing_jwk: Jwk | None
    """The private JWK that signs, when the signer is a JWK."""
    signing_source: str | None
    """Where the signer comes from: a JWK file, or the KMS key reference."""
    signing_kms_key: str | None
    """The KMS key reference (id, alias or URI) of an EC P-256 key that signs in the KMS, when that is the signer."""
    signing_kms_kid: str | None
    """The kid of the KMS-held signing key."""

    def provider(self) -> AliyunKms:  # provided by Session
        raise NotImplementedError

    def using_sandbox(self) -> bool:  # provided by Session
        raise NotImplementedError

    @property
    def keys_dir(self) -> Path:
        """Where generated signing keys are written."""
        return self.config_dir / "keys"

    @property
    def signing_kid(self) -> str | None:
        """The kid of the signer in use (JWK or KMS key), or None without one."""
        if self.signing_kms_key is not None:
            return self.signing_kms_kid
        return self.signing_jwk.kid if self.signing_jwk is not None else None

    def load_signing_key(self, path: Path, kid: str | None = None) -> Jwk:
        """Use the private JWK in `path` for signing (its `kid`, or `kid` if given)."""
        from dataclasses import replace

        from sealtui.core.jws import JwkSigner, load_jwk

        jwk = load_jwk(Path(path).expanduser())
        JwkSigner(jwk, kid)  # checks it is private and has a kid
        self.signing_jwk = jwk if not kid else replace(jwk, kid=kid)
        self.signing_source = str(path)
        self.signing_kms_key = self.signing_kms_kid = None
        return self.signing_jwk

    def generate_signing_key(self, kid: str = DEFAULT_KID) -> Path:
        """Generate a signing key pair under `keys_dir` (or load the one generated earlier for `kid`).
        Returns the public JWK's path: the file to provision where CDH looks for `kid`."""
        from sealtui.core.jws import key_file_stem, keygen

        stem = key_file_stem(kid)
        private, public = self.keys_dir / f"{stem}-private.json", self.keys_dir / f"{stem}-public.json"
        if not private.exists():
            self.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            keygen(kid, self.keys_dir)
        self.load_signing_key(private, kid)
        self.signing_source = str(private)
        return public

    def suggested_signing_key(self) -> str | None:
        """The KMS signing key to offer: the local KMS's EC P-256 key when it is in use."""
        if not self.using_sandbox():
            return None
        from sealtui.sandbox.models import SIGNING_KEY_ALIAS

        return SIGNING_KEY_ALIAS

    def use_kms_signing_key(self, key_text: str, kid: str) -> dict[str, str]:
        """Sign from now on with the EC P-256 key `key_text` held in the KMS of this session, as `kid`.

        Fetches its public key first (a KMS call), so a key that does not exist, is not P-256 or is not allowed
        is refused here rather than at the first seal. Returns the public JWK.
        """
        from sealtui.core.keyref import parse_key_ref

        key_text, kid = key_text.strip(), kid.strip()
        if not key_text:
            raise UsageError("no KMS signing key given", fix="give its id, alias/<name> or alibabakms:// URI")
        if not kid:
            raise UsageError("a KMS signing key needs a kid", fix="give the kid CDH will look the public key up by")
        parse_key_ref(key_text)
        public = self._kms_signer(key_text, kid).public_jwk()
        self.signing_kms_key, self.signing_kms_kid = key_text, kid
        self.signing_jwk = None
        self.signing_source = key_text
        return public

    def _kms_signer(self, key_text: str, kid: str) -> AliyunKmsSigner:
        from sealtui.providers.aliyun import AliyunKmsSigner

        return AliyunKmsSigner(self.provider(), key_text, kid)

    def signer(self) -> Signer:
        """The signer in use: the KMS-held key, or the private JWK."""
        if self.signing_kms_key is not None and self.signing_kms_kid:
            return self._kms_signer(self.signing_kms_key, self.signing_kms_kid)
        if self.signing_jwk is None:
            raise UsageError("no signing key",
                             fix="load a private JWK, generate one (ctrl+g) or use a KMS signing key (Seal screen)")
        from sealtui.core.jws import JwkSigner

        return JwkSigner(self.signing_jwk)

    def export_signing_public_jwk(self, path: Path) -> Path:
        """Write the public JWK of the KMS-held signing key to the new file `path` (never overwrites)."""
        from sealtui.core.files import write_new_file

        if self.signing_kms_key is None or not self.signing_kms_kid:
            raise UsageError("no KMS signing key in use", fix="use a KMS signing key first")
        public: dict[str, Any] = self._kms_signer(self.signing_kms_key, self.signing_kms_kid).public_jwk()
        path = Path(path).expanduser()
        write_new_file(path, (json.dumps(public, indent=2) + "\n").encode("utf-8"))
        return path

    def provisioning_note(self) -> str | None:
        """Where CDH looks for the public half of the signing key."""
        kid = self.signing_kid
        if not kid:
            return None
        from sealtui.core.lint import key_location

        return key_location(kid)
