"""Checking a set of credential files, and exporting the in-guest bundle CDH reads.

`check_credentials` never raises for a bad file: each file (and each relation between files) becomes a
`CheckItem` with its status and the fix, for a table in the TUI or `sealtui credentials check --json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from sealtui.core.credentials import (
    EXPIRY_WARNING,
    ClientKey,
    CredentialFile,
    Status,
    discover_credentials,
    load_ca_bundle,
    load_client_key,
    load_credentials,
    not_after,
    parse_client_key_json,
    pick_files,
    read_file_bytes,
    read_password_file,
)
from sealtui.core.errors import CredentialError, SealtuiError
from sealtui.core.files import write_new_file

__all__ = ["CheckItem", "CheckReport", "check_credentials", "check_files", "export_guest_bundle",
           "guest_bundle_names"]

@dataclass(frozen=True)
class CheckItem:
    """One line of a credential check: a file (or a relation between files) and what was found."""

    file: str
    role: str
    naming: str
    status: Status
    message: str
    fix: str | None = None


@dataclass
class CheckReport:
    """The result of `check_credentials`: items for a table or `--json`."""

    directory: str
    items: list[CheckItem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """True when any item is an error (the CLI then exits 3)."""
        return any(i.status == "error" for i in self.items)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: `{"directory", "ok", "items": [...]}`."""
        return {"directory": self.directory, "ok": not self.has_errors, "items": [asdict(i) for i in self.items]}

    def add(self, f: CredentialFile | None, role: str, status: Status, message: str, fix: str | None = None) -> None:
        """Append an item about file `f` (or about the set when `f` is None)."""
        self.items.append(CheckItem(f.path.name if f else "", role, f.naming if f else "", status, message, fix))


def _check_cert_dates(report: CheckReport, f: CredentialFile, cert: x509.Certificate, what: str, now: datetime) -> None:
    end = not_after(cert)
    if end < now:
        report.add(f, f.role, "error", f"{what} expired on {end:%Y-%m-%d}", "get a new one from the KMS console")
    elif end - now < EXPIRY_WARNING:
        report.add(
            f,
            f.role,
            "warning",
            f"{what} expires on {end:%Y-%m-%d}, in {(end - now).days} days",
            "renew it in the KMS console before then",
        )


def _check_client_key(
    report: CheckReport, kf: CredentialFile, pws: list[CredentialFile], now: datetime
) -> ClientKey | None:
    try:
        key_id, _ = parse_client_key_json(kf.path)
    except CredentialError as e:
        report.add(kf, "client_key", "error", e.message, e.fix)
        return None
    if kf.name_id and kf.name_id != key_id:
        report.add(
            kf,
            "client_key",
            "error",
            f"file name says client key {kf.name_id}, the JSON KeyId is {key_id}",
            f"CDH looks for clientKey_{key_id}.json: rename it, or use export-guest-bundle",
        )
    pw_files = pick_files(pws, "password", key_id) or (pws if len(pws) == 1 else [])
    if not pw_files:
        report.add(
            kf,
            "password",
            "error",
            f"no password file for client key {key_id}",
            f"add password_{key_id}.json holding the password as raw text",
        )
        return None
    ck: ClientKey | None = None
    for pf in pw_files:  # check every candidate: a stale password file next to a good one is worth knowing
        try:
            pw = read_password_file(pf.path)
            ck = load_client_key(kf.path, pw)
        except CredentialError as e:
            report.add(pf, "password", "error", e.message, e.fix)
            continue
        if pf.naming == "cdh" and pw.form == "json":
            report.add(
                pf,
                "password",
                "warning",
                "JSON password, but CDH reads this file as raw text",
                "use export-guest-bundle, which writes password_<id>.json as raw text",
            )
        else:
            note = ", trailing newline ignored as CDH does" if pw.trimmed else ""
            report.add(pf, "password", "ok", f"password ({pw.form}{note}) opens the client key")
    if ck is None:
        return None
    bits = ck.private_key.key_size
    report.add(
        kf,
        "client_key",
        "ok",
        f"client key {key_id}: RSA-{bits}"
        + (f", certificate valid until {not_after(ck.certificate):%Y-%m-%d}" if ck.certificate else ""),
    )
    if ck.certificate is not None:
        _check_cert_dates(report, kf, ck.certificate, "the client key's certificate", now)
    return ck


def check_credentials(directory: Path, *, now: datetime | None = None) -> CheckReport:
    """Check every credential file in `directory` and how they fit together. Never raises for bad files."""
    now = now or datetime.now(UTC)
    report = CheckReport(str(directory))
    try:
        files = discover_credentials(directory)
    except CredentialError as e:
        report.add(None, "directory", "error", e.message, e.fix)
        return report
    for f in files:
        if f.naming != "cdh":
            report.add(
                f,
                f.role,
                "ok",
                f"{'console' if f.naming == 'console' else 'non-standard'} file name: CDH does not read it",
                "export-guest-bundle writes the names CDH reads",
            )
    keys = [f for f in files if f.role == "client_key"]
    pws = [f for f in files if f.role == "password"]
    if not keys:
        report.add(
            None,
            "client_key",
            "error",
            "no client key file (clientKey_<id>.json or ClientKeyContent.json)",
            "download the client key from the KMS console into this directory",
        )
    loaded = [ck for kf in keys if (ck := _check_client_key(report, kf, pws, now)) is not None]
    cas = [f for f in files if f.role == "ca_bundle"]
    if not cas:
        report.add(
            None,
            "ca_bundle",
            "error",
            "no CA bundle (PrivateKmsCA_<kms_instance_id>.pem)",
            "download the instance CA certificate from the KMS console into this directory",
        )
    for ca in cas:
        try:
            certs = load_ca_bundle(ca.path)
        except CredentialError as e:
            report.add(ca, "ca_bundle", "error", e.message, e.fix)
            continue
        subjects = "; ".join(c.subject.rfc4514_string() for c in certs)
        report.add(ca, "ca_bundle", "ok", f"{len(certs)} certificate(s): {subjects}")
        for c in certs:
            _check_cert_dates(report, ca, c, f"CA certificate {c.subject.rfc4514_string()}", now)
        for ck in loaded:
            cn_id = ck.instance_id_from_certificate
            if ca.name_id and cn_id and cn_id != ca.name_id:
                report.add(
                    ca,
                    "ca_bundle",
                    "warning",
                    f"client key {ck.key_id} was issued for instance {cn_id}, this CA is for {ca.name_id}",
                    "use the client key and CA bundle of the same KMS instance",
                )
    return report


def guest_bundle_names(client_key_id: str, kms_instance_id: str) -> tuple[str, str, str]:
    """The three file names CDH reads: client key, password, CA bundle."""
    for what, value in (("client key id", client_key_id), ("KMS instance id", kms_instance_id)):
        if not value or "/" in value or value in (".", ".."):
            raise CredentialError(f"{what} {value!r} cannot be used in a file name")
    return (f"clientKey_{client_key_id}.json", f"password_{client_key_id}.json", f"PrivateKmsCA_{kms_instance_id}.pem")


def export_guest_bundle(
    output_dir: Path, *, client_key_file: Path, password_file: Path, ca_file: Path, kms_instance_id: str | None = None
) -> list[Path]:
    """Write the files CDH reads (`clientKey_<id>.json`, raw `password_<id>.json`, `PrivateKmsCA_<id>.pem`).

    The credentials are loaded first, so a broken set is never exported. Files are mode 0600; nothing is
    written if any target exists. Returns the paths written.
    """
    creds = load_credentials(client_key_file, password_file, ca_file, kms_instance_id)
    password = read_password_file(password_file).password
    names = guest_bundle_names(creds.client_key.key_id, creds.kms_instance_id)
    contents = [
        read_file_bytes(client_key_file, "client key file"),
        password.encode("utf-8"),
        read_file_bytes(ca_file, "CA bundle"),
    ]
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    targets = [output_dir / n for n in names]
    existing = [t.name for t in targets if t.exists()]
    if existing:
        raise CredentialError(
            f"{output_dir} already holds {', '.join(existing)}",
            fix="choose an empty output directory or remove those files first",
        )
    for target, data in zip(targets, contents, strict=True):
        write_new_file(target, data)
    return targets


def check_files(client_key_file: Path, password_file: Path, ca_file: Path) -> CheckReport:
    """Check three explicitly chosen files by loading them together; one row per file."""
    paths = [Path(p).expanduser() for p in (client_key_file, password_file, ca_file)]
    report = CheckReport(str(paths[0].parent))
    try:
        creds = load_credentials(paths[0], paths[1], paths[2])
    except SealtuiError as e:
        report.add(None, "credentials", "error", e.message, e.fix)
        return report
    for path, role in zip(paths, ("client_key", "password", "ca_bundle"), strict=True):
        report.items.append(CheckItem(path.name, role, "", "ok", "loaded with the other two files"))
    report.add(None, "instance", "ok", f"KMS instance {creds.kms_instance_id}, client key {creds.client_key.key_id}")
    return report
