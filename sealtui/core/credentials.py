"""Alibaba KMS-instance credential files: find them, load them, check them, export the in-guest bundle.

A KMS instance is reached with a *client key* (a JSON file holding a PKCS#12), its password, and the
instance's CA bundle. Two namings exist (DESIGN §3.2, §4):

- **cdh**: what CDH reads in the guest: `clientKey_<id>.json`, `password_<id>.json` (raw text, `trim_end`),
  `PrivateKmsCA_<kms_instance_id>.pem`. The console downloads the client key under the same name.
- **console**: other names the Alibaba console and its docs use: `clientKey_<id>_Password.txt`,
  `ClientKeyContent.json`, `ClientKeyPassword.json`; passwords as JSON `{"ClientKeyPassword": …}` or raw text.

The PKCS#12 is parsed with `cryptography` (never by the SDK, which re-parses the key on every request), in a
short-lived child process (`sealtui.core.pkcs12`: a crafted file crashes the bundled OpenSSL), once per file
and password in a process: a command that loads the same client key twice parses it once.
No SDK and no network code in this module.

Example:
    >>> creds = find_credentials(Path("~/kms").expanduser())      # doctest: +SKIP
    >>> creds.client_key.key_id, creds.kms_instance_id             # doctest: +SKIP
    ('KAAP.…', 'kst-…')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from sealtui.core.errors import CredentialError, SealtuiError, UsageError
from sealtui.core.files import read_bytes
from sealtui.core.pkcs12 import Pkcs12Crash, Pkcs12Parse, start_pkcs12

__all__ = [
    "AliyunCredentials",
    "ClientKey",
    "CredentialFile",
    "PasswordFile",
    "discover_credentials",
    "find_credentials",
    "load_ca_bundle",
    "load_client_key",
    "load_credentials",
    "not_after",
    "not_before",
    "parse_ahead",
    "parse_client_key_json",
    "pick_files",
    "read_file_bytes",
    "read_password_file",
]

Role = Literal["client_key", "password", "ca_bundle"]
Naming = Literal["cdh", "console", "other"]
Status = Literal["ok", "warning", "error"]

EXPIRY_WARNING = timedelta(days=30)
"""Certificates expiring within this window get a warning."""

# (pattern, role, naming); the first match wins, so the console's `clientKey_<id>_Password.txt` comes before
# the CDH `clientKey_<id>.json` it would otherwise never be confused with anyway.
_PATTERNS: list[tuple[re.Pattern[str], Role, Naming]] = [
    (re.compile(r"clientKey_(?P<id>.+)_Password\.txt"), "password", "console"),
    (re.compile(r"clientKey_(?P<id>.+)\.json"), "client_key", "cdh"),
    (re.compile(r"password_(?P<id>.+)\.json"), "password", "cdh"),
    (re.compile(r"password_(?P<id>.+)\.txt"), "password", "other"),
    (re.compile(r"ClientKeyContent\.json"), "client_key", "console"),
    (re.compile(r"ClientKeyPassword\.(json|txt)"), "password", "console"),
    (re.compile(r"PrivateKmsCA_(?P<id>.+)\.pem"), "ca_bundle", "cdh"),
    (re.compile(r"ca\.pem"), "ca_bundle", "other"),
]
_CN_INSTANCE = re.compile(r"(?P<id>.+)-client")


@dataclass(frozen=True)
class CredentialFile:
    """A file recognised by its name as one of the credential files."""

    path: Path
    role: Role
    naming: Naming
    """`cdh` (the name CDH reads), `console` (a console/doc name CDH does not read) or `other`."""
    name_id: str | None
    """The id in the name: the client key id (client key, password) or the KMS instance id (CA bundle)."""


@dataclass(frozen=True)
class PasswordFile:
    """A client-key password as read from its file."""

    path: Path
    password: str = field(repr=False)
    form: Literal["json", "raw"]
    """`json` (`{"ClientKeyPassword": …}`, what the console downloads) or `raw` text (what CDH reads)."""
    trimmed: bool
    """True when trailing whitespace (e.g. a newline) was removed from raw text, as CDH's `trim_end` does."""


@dataclass(frozen=True)
class ClientKey:
    """A client key parsed from its `clientKey_<id>.json`: the RSA key that signs every KMS request."""

    key_id: str
    """The `KeyId` in the JSON (`KAAP.…`): sent as `x-kms-acccesskeyid`, written as `client_key_id`."""
    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate | None
    """The PKCS#12's certificate (`CN=<kms_instance_id>-client` for Alibaba's keys), if it has one."""
    source_path: Path | None = None

    @property
    def instance_id_from_certificate(self) -> str | None:
        """The KMS instance id in the certificate's `CN=<instance>-client`, when present."""
        if self.certificate is None:
            return None
        cns = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        m = _CN_INSTANCE.fullmatch(str(cns[0].value)) if cns else None
        return m["id"] if m else None


@dataclass(frozen=True)
class AliyunCredentials:
    """Everything needed to talk to one KMS instance with a client key."""

    client_key: ClientKey
    ca_file: Path
    kms_instance_id: str
    password_file: Path | None = None


def _classify(path: Path) -> CredentialFile | None:
    for pattern, role, naming in _PATTERNS:
        m = pattern.fullmatch(path.name)
        if m:
            return CredentialFile(path, role, naming, m.groupdict().get("id"))
    return None


def discover_credentials(directory: Path) -> list[CredentialFile]:
    """List the credential files in `directory` (not recursive), recognised by name, sorted by name."""
    if not directory.is_dir():
        raise CredentialError(f"{directory} is not a directory", fix="give the directory holding the credentials")
    found = [_classify(p) for p in sorted(directory.iterdir()) if p.is_file()]
    return [f for f in found if f is not None]


def read_file_bytes(path: Path, what: str) -> bytes:
    """The bytes of a credential file, through the one reader of user files (`core.files.read_bytes`)."""
    return read_bytes(path, f"the {what}", error=CredentialError)


def read_password_file(path: Path) -> PasswordFile:
    """Read a client-key password: JSON `{"ClientKeyPassword": …}` or raw text (trailing space trimmed)."""
    try:
        text = read_file_bytes(path, "password file").decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(f"{path} is not UTF-8 text", fix="give the client key's password file") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CredentialError(
                f"{path} starts with '{{' but is not valid JSON ({e.msg}, line {e.lineno})",
                fix='write {"ClientKeyPassword": "…"} or the password alone as raw text',
            ) from None
        except RecursionError:  # nested deeper than Python's stack: not a password file
            raise CredentialError(f"{path} starts with '{{' but is not a password file (JSON nested too deeply)",
                                  fix='write {"ClientKeyPassword": "…"} or the password alone as raw text') from None
        pw = data.get("ClientKeyPassword") if isinstance(data, dict) else None
        if not isinstance(pw, str) or not pw:
            keys = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
            raise CredentialError(
                f"{path}: no string field ClientKeyPassword (found: {keys or 'nothing'})",
                fix='write {"ClientKeyPassword": "…"} or the password alone as raw text',
            )
        return PasswordFile(path, pw, "json", False)
    # CDH reads this file raw and trim_end()s it; do the same so that what works here works in the guest.
    pw = text.rstrip()
    if not pw:
        raise CredentialError(f"{path} is empty", fix="write the client key's password into it")
    return PasswordFile(path, pw, "raw", pw != text)


def _legacy_available() -> bool:
    """Whether OpenSSL's legacy provider (RC2-40, used by Alibaba's PKCS#12 files) is loaded."""
    if os.environ.get("CRYPTOGRAPHY_OPENSSL_NO_LEGACY"):
        return False
    from cryptography.hazmat.bindings.openssl.binding import Binding

    return bool(getattr(Binding, "_legacy_provider_loaded", True))


def _wrong_password_hints(pw: PasswordFile, key_id: str) -> str:
    hints: list[str] = []
    if pw.form == "raw" and pw.trimmed:
        hints.append("its trailing newline/whitespace was already removed, as CDH does")
    if pw.form == "raw" and (pw.password[:1] in "\"'" or "ClientKeyPassword" in pw.password):
        hints.append("the raw text has quotes or a JSON fragment: write the password alone")
    cls = _classify(pw.path)
    if cls is not None and cls.role == "password" and cls.name_id and cls.name_id != key_id:
        hints.append(f"the file's name says it belongs to client key {cls.name_id}, not {key_id}")
    form = 'JSON {"ClientKeyPassword": …}' if pw.form == "json" else "raw text"
    return f"the password was read from {pw.path} as {form}" + ("; " + "; ".join(hints) if hints else "")


def parse_client_key_json(path: Path) -> tuple[str, bytes]:
    raw = read_file_bytes(path, "client key file")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: `[[[[…` nested too deeply
        raise CredentialError(
            f"{path} is not JSON", fix="give the clientKey_<id>.json downloaded from the KMS console"
        ) from None
    if not isinstance(data, dict):
        raise CredentialError(f"{path}: expected a JSON object with KeyId and PrivateKeyData")
    missing = [k for k in ("KeyId", "PrivateKeyData") if not isinstance(data.get(k), str) or not data.get(k)]
    if missing:
        raise CredentialError(
            f"{path}: missing or empty field(s) {', '.join(missing)}",
            fix="give the clientKey_<id>.json downloaded from the KMS console, unmodified",
        )
    try:
        der = base64.b64decode("".join(data["PrivateKeyData"].split()), validate=True)
    except (binascii.Error, ValueError):
        raise CredentialError(
            f"{path}: PrivateKeyData is not base64",
            fix="give the clientKey_<id>.json downloaded from the KMS console, unmodified",
        ) from None
    return data["KeyId"], der


_PARSED: dict[bytes, Pkcs12Parse] = {}
"""PKCS#12s parsed (or being parsed) in this process, by SHA-256 of (PKCS#12, password): each is parsed (and
checked) once; a failed parse is forgotten, so that the next load tries again."""
_PARSED_MAX = 16
_PARSED_LOCK = threading.Lock()


def _start_parse(der: bytes, password: bytes) -> tuple[bytes, Pkcs12Parse]:
    digest = hashlib.sha256(len(der).to_bytes(8, "big") + der + password).digest()
    with _PARSED_LOCK:
        parse = _PARSED.get(digest)
        if parse is None:
            if len(_PARSED) >= _PARSED_MAX:
                del _PARSED[next(iter(_PARSED))]
            parse = _PARSED[digest] = start_pkcs12(der, password)
    return digest, parse


def _parse_pkcs12(der: bytes, password: bytes) -> tuple[PrivateKeyTypes | None, x509.Certificate | None]:
    digest, parse = _start_parse(der, password)
    try:
        return parse.result()
    except BaseException:  # refused, crashed or interrupted: the next load parses again
        with _PARSED_LOCK:
            if _PARSED.get(digest) is parse:
                del _PARSED[digest]
        raise


def parse_ahead(directory: Path | None = None, client_key_id: str | None = None, *,
                client_key_file: Path | None = None, password_file: Path | None = None) -> None:
    """Start parsing the client key that `find_credentials(directory, client_key_id)` (or `load_credentials` of
    `client_key_file` and `password_file`) will load, and return at once.

    The parse runs in its child process, on another CPU: the caller can do other work meanwhile (a KMS command
    imports the SDK), and the load that follows waits for it. Best effort: whatever is wrong with the files, the
    load says.
    """
    try:
        if client_key_file is None or password_file is None:
            if directory is None:
                return
            key, pw, _ = _select(directory, client_key_id)
            client_key_file, password_file = key.path, pw.path
        _, der = parse_client_key_json(client_key_file)
        password = read_password_file(password_file).password
    except (SealtuiError, OSError):
        return
    _start_parse(der, password.encode("utf-8"))


def load_client_key(client_key_file: Path, password: PasswordFile | str) -> ClientKey:
    """Parse `clientKey_<id>.json` with its password into a `ClientKey` (RSA key + certificate).

    `password` is a `PasswordFile` (preferred: errors then say how the file was read) or the password itself.
    The PKCS#12 is parsed in a child process, and once per process (see the module docstring).
    """
    key_id, der = parse_client_key_json(client_key_file)
    pw = password.password if isinstance(password, PasswordFile) else password
    try:
        key, cert = _parse_pkcs12(der, pw.encode("utf-8"))
    except Pkcs12Crash as e:
        raise CredentialError(
            f"{client_key_file}: this client key file is malformed: {e}",
            fix="download the client key again from the KMS console; never use a client key file of unknown origin",
        ) from None
    except ValueError as e:
        if "Could not deserialize" in str(e):
            raise CredentialError(
                f"{client_key_file}: PrivateKeyData is not a PKCS#12 file",
                fix="give the clientKey_<id>.json downloaded from the KMS console",
            ) from None
        if not _legacy_available():
            raise CredentialError(
                f"{client_key_file}: cannot open the PKCS#12: either the password is wrong or the file needs "
                "OpenSSL's legacy algorithms (RC2-40, as Alibaba's client keys use), which are disabled",
                fix="unset CRYPTOGRAPHY_OPENSSL_NO_LEGACY (or use an OpenSSL with the legacy provider)",
            ) from None
        where = _wrong_password_hints(password, key_id) if isinstance(password, PasswordFile) else ""
        raise CredentialError(
            f"{client_key_file}: wrong password for client key {key_id}" + (f" ({where})" if where else ""),
            fix=f"give the password downloaded together with clientKey_{key_id}.json",
        ) from None
    if key is None:
        raise CredentialError(f"{client_key_file}: the PKCS#12 holds no private key")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialError(
            f"{client_key_file}: the client key is {type(key).__name__}, not RSA",
            fix="KMS instances sign requests with RSA client keys: issue a new client key",
        )
    return ClientKey(key_id, key, cert, client_key_file)


def load_ca_bundle(path: Path) -> list[x509.Certificate]:
    """Read a PEM CA bundle (`PrivateKmsCA_<instance>.pem`): one or more certificates."""
    data = read_file_bytes(path, "CA bundle")
    if b"PRIVATE KEY-----" in data:
        raise CredentialError(f"{path} contains a private key", fix="the CA bundle holds certificates only")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CredentialError(
            f"{path} holds no PEM certificate",
            fix="give the instance's PrivateKmsCA_<instance>.pem from the KMS console",
        ) from None
    return certs


def not_after(cert: x509.Certificate) -> datetime:
    return cert.not_valid_after.replace(tzinfo=UTC)  # naive UTC in cryptography 41


def not_before(cert: x509.Certificate) -> datetime:
    return cert.not_valid_before.replace(tzinfo=UTC)


def pick_files(files: list[CredentialFile], role: Role, name_id: str | None = None) -> list[CredentialFile]:
    rank = {"cdh": 0, "console": 1, "other": 2}
    out = [f for f in files if f.role == role and (name_id is None or f.name_id in (name_id, None))]
    return sorted(out, key=lambda f: (rank[f.naming], f.path.name))


def _select(directory: Path, client_key_id: str | None) -> tuple[CredentialFile, CredentialFile, CredentialFile]:
    files = discover_credentials(directory)
    keys = pick_files(files, "client_key")
    if client_key_id:
        # An exact name wins; ClientKeyContent.json (no id in its name) is checked against the id once loaded.
        keys = [k for k in keys if k.name_id == client_key_id] or [k for k in keys if k.name_id is None]
    if not keys:
        raise CredentialError(
            f"no client key file in {directory}" + (f" for {client_key_id}" if client_key_id else ""),
            fix="put clientKey_<id>.json (or ClientKeyContent.json) there",
        )
    if len({k.name_id for k in keys}) > 1:
        ids = ", ".join(sorted(str(k.name_id or k.path.name) for k in keys))
        raise UsageError(f"{directory} holds several client keys ({ids})", fix="say which one with its key id")
    key = keys[0]
    pws = pick_files(files, "password", key.name_id)
    if not pws:
        raise CredentialError(
            f"no password file for {key.path.name} in {directory}",
            fix=f"put password_{key.name_id or '<id>'}.json there (the password as raw text)",
        )
    cas = pick_files(files, "ca_bundle")
    if not cas:
        raise CredentialError(f"no CA bundle in {directory}", fix="put PrivateKmsCA_<kms_instance_id>.pem there")
    if len({c.name_id for c in cas}) > 1:
        names = ", ".join(c.path.name for c in cas)
        raise UsageError(f"{directory} holds several CA bundles ({names})", fix="keep the one of this instance")
    return key, pws[0], cas[0]


def load_credentials(
    client_key_file: Path, password_file: Path, ca_file: Path, kms_instance_id: str | None = None
) -> AliyunCredentials:
    """Load named files; the instance id defaults to the CA file's name, then the certificate's CN."""
    client_key = load_client_key(client_key_file, read_password_file(password_file))
    kcls = _classify(client_key_file)
    if kcls and kcls.role == "client_key" and kcls.name_id and kcls.name_id != client_key.key_id:
        raise CredentialError(
            f"{client_key_file.name} is named for client key {kcls.name_id}, but its KeyId is {client_key.key_id}",
            fix=f"rename it clientKey_{client_key.key_id}.json",
        )
    load_ca_bundle(ca_file)
    cls = _classify(ca_file)
    instance = kms_instance_id or (cls.name_id if cls and cls.role == "ca_bundle" else None)
    instance = instance or client_key.instance_id_from_certificate
    if not instance:
        raise UsageError(
            f"cannot tell the KMS instance id from {ca_file.name} or the client key",
            fix="give the instance id, or name the CA file PrivateKmsCA_<kms_instance_id>.pem",
        )
    return AliyunCredentials(client_key, ca_file, instance, password_file)


def find_credentials(directory: Path, client_key_id: str | None = None) -> AliyunCredentials:
    """Find and load the client key, its password and the CA bundle in `directory`."""
    key, pw, ca = _select(directory, client_key_id)
    creds = load_credentials(key.path, pw.path, ca.path)
    if client_key_id and creds.client_key.key_id != client_key_id:
        raise CredentialError(
            f"{key.path} holds client key {creds.client_key.key_id}, not {client_key_id}",
            fix=f"put clientKey_{client_key_id}.json in {directory}",
        )
    return creds
