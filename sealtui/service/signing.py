"""Which key signs the JWS of what is sealed: a private P-256 JWK (a file, or one generated under the config
directory), or an EC P-256 key held in the KMS (the private key never leaves it; its public JWK can be exported
for CDH)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealtui.core.errors import UsageError

if TYPE_CHECKING:
    from sealtui.core.credentials import AliyunCredentials
    from sealtui.core.jws import Jwk
    from sealtui.core.keywrap import Signer
    from sealtui.service.kms import KmsTarget

__all__ = ["DEFAULT_JWK_KID", "DEFAULT_KMS_KID", "SigningKey", "check_kid_free", "export_public_jwk",
           "generate_signing_key", "kid_warning", "kms_key", "kms_signing_key", "load_signing_jwk", "signer_for",
           "unique_kid", "upload_command"]

DEFAULT_JWK_KID = "kbs:///default/sealtui-signing/jwk"
"""The kid offered for a generated signing JWK: CDH fetches the public key from Trustee as this resource (a
file-name kid needs a file under `/run/confidential-containers/cdh/sealed-secret/`, which a stock CoCo guest cannot
be given: guest-facts.md §4)."""
DEFAULT_KMS_KID = "kbs:///default/sealtui-signing/kms"
"""The kid offered for a signing key held in the KMS: not the JWK's, since CDH looks up one key per kid."""


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
    public_xy: tuple[str, str] | None = None
    """The public key's `x` and `y` (base64url), which tell two keys apart; None until known (a KMS key before its
    public key is fetched)."""

    @property
    def provision(self) -> str:
        """Where CDH looks for the public half (what to provision where)."""
        from sealtui.core.lint import key_location

        return key_location(self.kid) or ""

    @property
    def upload(self) -> str | None:
        """The command that puts the public JWK where CDH fetches it (a `kbs:///` kid), or None."""
        return upload_command(self.kid, self.public_path or Path(f"{_file_stem(self.kid)}-public.json"))

    @property
    def warning(self) -> str | None:
        """Why CDH in a stock CoCo guest would not find the public key of this kid, or None."""
        return kid_warning(self.kid)

    @property
    def identity(self) -> tuple[str, ...]:
        """What makes two signing keys the same key."""
        if self.public_xy is not None:
            return self.public_xy
        return ("kms", self.kms_key) if self.kms_key else ("jwk", self.source)


def kid_warning(kid: str) -> str | None:
    """Why CDH in a stock CoCo guest cannot find the public key of `kid`: a file-name kid (nothing can put a file
    under the sealed-secret directory: `[[credentials]]` paths must stay under `…/cdh/kbs`, guest-facts.md §4) or a
    `kbs://` URI Trustee cannot serve. None for a good `kbs:///<repo>/<type>/<tag>` kid."""
    from sealtui.core.consumers.jose import SEALED_SECRET_DIR, kid_problem

    where, why = kid_problem(kid)
    if why is not None:
        return why
    if where.startswith("KBS"):
        return None
    return (f"kid {kid} is a file name: CDH would read the public key from {SEALED_SECRET_DIR}/{kid}, which a stock "
            f"CoCo guest cannot be given; use a kbs:///<repo>/<type>/<tag> kid such as {DEFAULT_JWK_KID}, served by "
            "Trustee")


def upload_command(kid: str, public_file: Path) -> str | None:
    """The `kbs-client` command that uploads `public_file` as the resource of a `kbs:///` kid (its admin options,
    which changed in trustee v0.21, shown as `…`: `sealtui doctor --provision` writes both); None for another kid."""
    import shlex

    from sealtui.core.doctor.trustee import resource_path

    path = resource_path(kid)
    if path is None:
        return None
    try:  # a file under the home directory as ~/…: shorter, and the shell expands it
        shown = "~/" + shlex.quote(str(public_file.relative_to(Path.home())))
    except ValueError:
        shown = shlex.quote(str(public_file))
    return f"kbs-client … set-resource --path {path} --resource-file {shown}"


def _file_stem(kid: str) -> str:
    from sealtui.core.errors import InvalidInputError
    from sealtui.core.jws import key_file_stem

    try:
        return key_file_stem(kid)
    except InvalidInputError:
        return "public"


def unique_kid(kid: str, taken: set[str]) -> str:
    """`kid`, or `kid-2`, `kid-3`… (the tag of a `kbs:///` kid numbered) when it is taken."""
    n = 2
    candidate = kid
    while candidate in taken:
        candidate = f"{kid}-{n}"
        n += 1
    return candidate


def check_kid_free(key: SigningKey, in_use: Mapping[str, SigningKey], keys_dir: Path | None = None) -> None:
    """Refuse `key` when its kid already names another key: one used this session (`in_use`, by kid) or one
    generated under `keys_dir`. CDH looks up one key per kid, so values signed by one of the two would fail."""
    other = in_use.get(key.kid)
    if other is not None and other.identity != key.identity:
        raise _kid_taken(key.kid, f"another key this session ({other.kms_key or other.source})", in_use)
    if keys_dir is not None:
        public = keys_dir / f"{_file_stem(key.kid)}-public.json"
        if public.is_file() and key.public_xy is not None and public != key.public_path:
            from sealtui.core.jws import load_jwk

            nums = load_jwk(public).public_dict()
            if (nums["x"], nums["y"]) != key.public_xy:
                raise _kid_taken(key.kid, f"the key generated in {public}", in_use)


def _kid_taken(kid: str, holder: str, in_use: Mapping[str, SigningKey]) -> UsageError:
    free = unique_kid(kid, {*in_use, kid})
    return UsageError(f"kid {kid} is already used by {holder}: CDH looks up one key per kid, so values signed by "
                      "one of the two keys would fail verification", fix=f"give this key another kid, e.g. {free}")


def load_signing_jwk(path: Path, kid: str | None = None) -> SigningKey:
    """Sign with the private JWK in the file `path` (its `kid`, or `kid` if given)."""
    from sealtui.core.jws import JwkSigner, load_jwk

    path = Path(path).expanduser()
    jwk = load_jwk(path)
    signer = JwkSigner(jwk, kid or None)  # checks it is private and has a kid
    public = jwk.public_dict()
    return SigningKey(signer.kid, str(path), jwk=replace(jwk, kid=signer.kid), public_xy=(public["x"], public["y"]))


def generate_signing_key(keys_dir: Path, kid: str = DEFAULT_JWK_KID,
                         in_use: Mapping[str, SigningKey] | None = None) -> SigningKey:
    """A signing key pair for `kid` under `keys_dir`, generated the first time and loaded after that; refused when
    `kid` is another key's (`check_kid_free`), before anything is written."""
    from sealtui.core.jws import key_file_stem, keygen

    in_use = in_use or {}
    stem = key_file_stem(kid)
    private, public = keys_dir / f"{stem}-private.json", keys_dir / f"{stem}-public.json"
    if not private.exists():
        if kid in in_use:
            other = in_use[kid]
            raise _kid_taken(kid, f"another key this session ({other.kms_key or other.source})", in_use)
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keygen(kid, keys_dir)
    key = replace(load_signing_jwk(private, kid), public_path=public)
    check_kid_free(key, in_use)
    return key


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
    public = _kms_signer(key, target, credentials).public_jwk()
    return replace(key, public_xy=(public["x"], public["y"])), public


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
