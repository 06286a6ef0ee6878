"""Credential files: discovery by name, loading the real Alibaba client key, errors, check report, export.

The real client key, its password (JSON and raw) and the real CA bundle come from tests/vectors/aliyun
(see its README for provenance: guest-components, Apache-2.0).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from sealtui.core import credential_check as cc
from sealtui.core import credentials as cr
from sealtui.core.errors import CredentialError, UsageError
from tests.paths import ALIYUN

VECTORS = ALIYUN
KEY_ID = "KAAP.gc-test-vector"
PASSWORD = "c383f5528f54394676ca89b8e47096e7"
CLIENT_KEY = VECTORS / f"clientKey_{KEY_ID}.json"
PW_JSON = VECTORS / f"password_{KEY_ID}.json"
PW_TXT = VECTORS / f"password_{KEY_ID}.txt"
CA = VECTORS / "PrivateKmsCA_kst-bjj6____.pem"


def _self_signed(key, cn: str, days: int, *, ca: bool = False, start_days_ago: int = 1) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=start_days_ago))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(key, hashes.SHA256())


def _write_client_key(
    directory: Path,
    key_id: str,
    password: str,
    *,
    key=None,
    days: int = 365,
    cn: str = "kst-test-client",
    start_days_ago: int = 1,
) -> Path:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _self_signed(key, cn, days, start_days_ago=start_days_ago)
    p12 = pkcs12.serialize_key_and_certificates(
        None, key, cert, None, serialization.BestAvailableEncryption(password.encode())
    )
    path = directory / f"clientKey_{key_id}.json"
    path.write_text(json.dumps({"KeyId": key_id, "PrivateKeyData": base64.b64encode(p12).decode()}))
    return path


def _write_ca(directory: Path, name: str, days: int = 3650) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path = directory / name
    path.write_bytes(_self_signed(key, "Test CA", days, ca=True).public_bytes(serialization.Encoding.PEM))
    return path


# --- the real Alibaba client key ---------------------------------------------------------------------------


def test_real_client_key_loads_with_json_password():
    pw = cr.read_password_file(PW_JSON)
    assert (pw.form, pw.password, pw.trimmed) == ("json", PASSWORD, False)
    key = cr.load_client_key(CLIENT_KEY, pw)
    assert key.key_id == KEY_ID
    assert isinstance(key.private_key, rsa.RSAPrivateKey) and key.private_key.key_size == 2048
    assert key.instance_id_from_certificate == "kst-shh668f78559i6q09rosa"
    assert key.source_path == CLIENT_KEY


def test_real_client_key_loads_with_raw_password():
    pw = cr.read_password_file(PW_TXT)
    assert pw.form == "raw" and pw.password == PASSWORD
    assert cr.load_client_key(CLIENT_KEY, pw).key_id == KEY_ID


def test_raw_password_with_trailing_newline_is_trimmed_like_cdh(tmp_path):
    p = tmp_path / f"password_{KEY_ID}.json"
    p.write_text(PASSWORD + "\n")
    pw = cr.read_password_file(p)
    assert pw.password == PASSWORD and pw.trimmed
    assert cr.load_client_key(CLIENT_KEY, pw).key_id == KEY_ID


def test_wrong_password_names_the_file_and_how_it_was_read(tmp_path):
    p = tmp_path / f"password_{KEY_ID}.json"
    p.write_text("0" * 32 + "\n")
    with pytest.raises(CredentialError) as e:
        cr.load_client_key(CLIENT_KEY, cr.read_password_file(p))
    msg = str(e.value)
    assert "wrong password" in msg and str(p) in msg and "raw text" in msg and "trailing newline" in msg
    assert e.value.fix


def test_wrong_password_hints_quotes_and_other_key(tmp_path):
    p = tmp_path / "password_KAAP.other.json"
    p.write_text('"' + PASSWORD + '"')
    with pytest.raises(CredentialError) as e:
        cr.load_client_key(CLIENT_KEY, cr.read_password_file(p))
    assert "quotes" in e.value.message and "KAAP.other" in e.value.message


def test_wrong_password_as_plain_string():
    with pytest.raises(CredentialError, match="wrong password"):
        cr.load_client_key(CLIENT_KEY, PASSWORD + "\n")  # the SDK does not trim: neither does a bare string


def test_legacy_algorithms_unavailable_is_explained():
    code = (
        "from pathlib import Path; from sealtui.core import credentials as cr\n"
        f"try:\n cr.load_client_key(Path({str(CLIENT_KEY)!r}), {PASSWORD!r})\n"
        "except Exception as e: print(type(e).__name__, e)\n"
    )
    env = dict(os.environ, CRYPTOGRAPHY_OPENSSL_NO_LEGACY="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("CredentialError") and "legacy" in out and "CRYPTOGRAPHY_OPENSSL_NO_LEGACY" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "is not JSON"),
        ("[1]", "JSON object"),
        (json.dumps({"KeyId": KEY_ID}), "PrivateKeyData"),
        (json.dumps({"PrivateKeyData": "AAAA"}), "KeyId"),
        (json.dumps({"KeyId": KEY_ID, "PrivateKeyData": "@@not base64@@"}), "not base64"),
        (
            json.dumps({"KeyId": KEY_ID, "PrivateKeyData": base64.b64encode(b"garbage").decode()}),
            "not a PKCS#12",
        ),
    ],
)
def test_bad_client_key_json(tmp_path, content, expected):
    p = tmp_path / f"clientKey_{KEY_ID}.json"
    p.write_text(content)
    with pytest.raises(CredentialError, match=expected) as e:
        cr.load_client_key(p, PASSWORD)
    assert str(p) in e.value.message


def test_missing_client_key_file(tmp_path):
    with pytest.raises(CredentialError, match="no such file"):
        cr.load_client_key(tmp_path / "clientKey_x.json", PASSWORD)


def test_non_rsa_client_key(tmp_path):
    p = _write_client_key(tmp_path, "KAAP.ec", "pw", key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(CredentialError, match="not RSA"):
        cr.load_client_key(p, "pw")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty"),
        ("\n", "is empty"),
        ('{"Password": "x"}', "ClientKeyPassword"),
        ("{oops", "not valid JSON"),
    ],
)
def test_bad_password_files(tmp_path, content, expected):
    p = tmp_path / "password_x.json"
    p.write_text(content)
    with pytest.raises(CredentialError, match=expected):
        cr.read_password_file(p)


def test_password_file_not_utf8(tmp_path):
    p = tmp_path / "password_x.json"
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(CredentialError, match="UTF-8"):
        cr.read_password_file(p)


# --- discovery ---------------------------------------------------------------------------


def test_discover_names_say_which_naming(tmp_path):
    for name in [
        "clientKey_KAAP.a.json",
        "password_KAAP.a.json",
        "PrivateKmsCA_kst-1.pem",
        "clientKey_KAAP.b_Password.txt",
        "ClientKeyContent.json",
        "ClientKeyPassword.json",
        "password_KAAP.c.txt",
        "ca.pem",
        "README.md",
    ]:
        (tmp_path / name).write_text("x")
    found = {f.path.name: (f.role, f.naming, f.name_id) for f in cr.discover_credentials(tmp_path)}
    assert found == {
        "clientKey_KAAP.a.json": ("client_key", "cdh", "KAAP.a"),
        "password_KAAP.a.json": ("password", "cdh", "KAAP.a"),
        "PrivateKmsCA_kst-1.pem": ("ca_bundle", "cdh", "kst-1"),
        "clientKey_KAAP.b_Password.txt": ("password", "console", "KAAP.b"),
        "ClientKeyContent.json": ("client_key", "console", None),
        "ClientKeyPassword.json": ("password", "console", None),
        "password_KAAP.c.txt": ("password", "other", "KAAP.c"),
        "ca.pem": ("ca_bundle", "other", None),
    }


def test_discover_not_a_directory(tmp_path):
    with pytest.raises(CredentialError, match="not a directory"):
        cr.discover_credentials(tmp_path / "missing")


def test_find_credentials_in_vector_dir():
    creds = cr.find_credentials(VECTORS)
    assert creds.client_key.key_id == KEY_ID
    assert creds.kms_instance_id == "kst-bjj6____"  # from the CA file name, which is what CDH uses
    assert creds.ca_file == CA


def test_find_credentials_console_names(tmp_path):
    shutil.copy(CLIENT_KEY, tmp_path / "ClientKeyContent.json")
    shutil.copy(PW_JSON, tmp_path / "ClientKeyPassword.json")
    shutil.copy(CA, tmp_path / "PrivateKmsCA_kst-abc.pem")
    creds = cr.find_credentials(tmp_path)
    assert creds.client_key.key_id == KEY_ID and creds.kms_instance_id == "kst-abc"
    assert cr.find_credentials(tmp_path, KEY_ID).client_key.key_id == KEY_ID
    with pytest.raises(CredentialError, match=r"not KAAP\.other"):
        cr.find_credentials(tmp_path, "KAAP.other")


def test_find_credentials_console_password_txt(tmp_path):
    shutil.copy(CLIENT_KEY, tmp_path)
    (tmp_path / f"clientKey_{KEY_ID}_Password.txt").write_text(PASSWORD + "\r\n")
    shutil.copy(CA, tmp_path)
    assert cr.find_credentials(tmp_path).client_key.key_id == KEY_ID


def test_find_credentials_missing_pieces(tmp_path):
    with pytest.raises(CredentialError, match="no client key"):
        cr.find_credentials(tmp_path)
    shutil.copy(CLIENT_KEY, tmp_path)
    with pytest.raises(CredentialError, match="no password file"):
        cr.find_credentials(tmp_path)
    shutil.copy(PW_TXT, tmp_path)
    with pytest.raises(CredentialError, match="no CA bundle"):
        cr.find_credentials(tmp_path)


def test_find_credentials_ambiguous(tmp_path):
    _write_client_key(tmp_path, "KAAP.one", "pw1")
    _write_client_key(tmp_path, "KAAP.two", "pw2")
    (tmp_path / "password_KAAP.one.json").write_text("pw1")
    (tmp_path / "password_KAAP.two.json").write_text("pw2")
    _write_ca(tmp_path, "PrivateKmsCA_kst-a.pem")
    with pytest.raises(UsageError, match="several client keys"):
        cr.find_credentials(tmp_path)
    assert cr.find_credentials(tmp_path, "KAAP.two").client_key.key_id == "KAAP.two"
    _write_ca(tmp_path, "PrivateKmsCA_kst-b.pem")
    with pytest.raises(UsageError, match="several CA bundles"):
        cr.find_credentials(tmp_path, "KAAP.two")


def test_file_name_and_key_id_mismatch_is_an_error(tmp_path):
    p = tmp_path / "clientKey_KAAP.renamed.json"
    shutil.copy(CLIENT_KEY, p)
    with pytest.raises(CredentialError, match="rename it"):
        cr.load_credentials(p, PW_TXT, CA)


def test_instance_id_from_certificate_when_ca_has_no_id(tmp_path):
    ca = shutil.copy(CA, tmp_path / "ca.pem")
    creds = cr.load_credentials(CLIENT_KEY, PW_TXT, Path(ca))
    assert creds.kms_instance_id == "kst-shh668f78559i6q09rosa"
    assert cr.load_credentials(CLIENT_KEY, PW_TXT, Path(ca), "kst-x").kms_instance_id == "kst-x"


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"hello", "no PEM certificate"), (b"-----BEGIN PRIVATE KEY-----\n", "private key")],
)
def test_bad_ca_bundle(tmp_path, content, expected):
    p = tmp_path / "PrivateKmsCA_kst-x.pem"
    p.write_bytes(content)
    with pytest.raises(CredentialError, match=expected):
        cr.load_ca_bundle(p)


def test_real_ca_bundle_has_two_certificates():
    assert [c.subject.rfc4514_string().split(",")[0] for c in cr.load_ca_bundle(CA)] == [
        "CN=Private KMS Root CA",
        "CN=Private KMS cn-beijing Second CA",
    ]


# --- check report ---------------------------------------------------------------------------


def _by(report: cc.CheckReport, status: str) -> list[cc.CheckItem]:
    return [i for i in report.items if i.status == status]


def test_check_vector_dir():
    report = cc.check_credentials(VECTORS)
    assert not report.has_errors
    warnings = " | ".join(i.message for i in _by(report, "warning"))
    assert "CDH reads this file as raw text" in warnings  # password_<id>.json holds JSON
    assert "kst-shh668f78559i6q09rosa" in warnings  # the cert CN names another instance than the CA file
    txt = next(i for i in report.items if i.file == PW_TXT.name and i.status == "ok" and i.naming == "other")
    assert "CDH does not read" in txt.message
    data = report.to_dict()
    assert data["ok"] is True and json.dumps(data)
    assert set(data["items"][0]) == {"file", "role", "naming", "status", "message", "fix"}


def test_check_reports_expiry_and_errors(tmp_path):
    _write_client_key(tmp_path, "KAAP.soon", "pw", days=10, cn="kst-a-client")
    (tmp_path / "password_KAAP.soon.json").write_text("pw\n")
    _write_client_key(tmp_path, "KAAP.wrongpw", "right")
    (tmp_path / "password_KAAP.wrongpw.json").write_text("wrong")
    _write_client_key(tmp_path, "KAAP.nopw", "pw")
    _write_ca(tmp_path, "PrivateKmsCA_kst-a.pem", days=-1)
    report = cc.check_credentials(tmp_path)
    assert report.has_errors
    errors = " | ".join(f"{i.file}: {i.message}" for i in _by(report, "error"))
    warnings = " | ".join(f"{i.file}: {i.message}" for i in _by(report, "warning"))
    assert "password_KAAP.wrongpw.json" in errors and "wrong password" in errors
    assert "no password file for client key KAAP.nopw" in errors
    assert "PrivateKmsCA_kst-a.pem: CA certificate" in errors and "expired" in errors
    assert "clientKey_KAAP.soon.json" in warnings and "expires on" in warnings
    assert all(i.fix for i in report.items if i.status != "ok")


def test_check_expired_client_key_certificate(tmp_path):
    _write_client_key(tmp_path, "KAAP.old", "pw", days=-2, start_days_ago=10)
    (tmp_path / "password_KAAP.old.json").write_text("pw")
    _write_ca(tmp_path, "PrivateKmsCA_kst-a.pem")
    later = datetime.now(UTC) + timedelta(days=1)
    report = cc.check_credentials(tmp_path, now=later)
    assert any("client key's certificate expired" in i.message for i in _by(report, "error"))


def test_check_empty_and_missing_dirs(tmp_path):
    report = cc.check_credentials(tmp_path)
    assert {i.role for i in _by(report, "error")} == {"client_key", "ca_bundle"}
    assert cc.check_credentials(tmp_path / "nope").items[0].role == "directory"


def test_check_name_mismatch(tmp_path):
    shutil.copy(CLIENT_KEY, tmp_path / "clientKey_KAAP.renamed.json")
    shutil.copy(PW_TXT, tmp_path / "password_KAAP.renamed.json")
    shutil.copy(CA, tmp_path)
    report = cc.check_credentials(tmp_path)
    assert any("JSON KeyId is KAAP.gc-test-vector" in i.message for i in _by(report, "error"))


# --- guest bundle ---------------------------------------------------------------------------


def test_export_guest_bundle_writes_cdh_names(tmp_path):
    out = tmp_path / "bundle"
    written = cc.export_guest_bundle(out, client_key_file=CLIENT_KEY, password_file=PW_JSON, ca_file=CA)
    assert [p.name for p in written] == [
        f"clientKey_{KEY_ID}.json",
        f"password_{KEY_ID}.json",
        "PrivateKmsCA_kst-bjj6____.pem",
    ]
    assert (out / f"password_{KEY_ID}.json").read_bytes() == PASSWORD.encode()  # raw, no newline
    assert (out / f"clientKey_{KEY_ID}.json").read_bytes() == CLIENT_KEY.read_bytes()
    assert (out / "PrivateKmsCA_kst-bjj6____.pem").read_bytes() == CA.read_bytes()
    for p in written:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    # the exported bundle loads, and is all-CDH with a raw password: the one warning left is the vector's own
    # instance mismatch (its certificate names another instance than its CA file)
    report = cc.check_credentials(out)
    assert not report.has_errors
    assert [i.role for i in _by(report, "warning")] == ["ca_bundle"]
    with pytest.raises(CredentialError, match="already holds"):
        cc.export_guest_bundle(out, client_key_file=CLIENT_KEY, password_file=PW_TXT, ca_file=CA)


def test_export_from_console_names_with_instance_override(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(CLIENT_KEY, src / "ClientKeyContent.json")
    shutil.copy(PW_JSON, src / "ClientKeyPassword.json")
    shutil.copy(CA, src / "ca.pem")
    written = cc.export_guest_bundle(
        tmp_path / "o",
        client_key_file=src / "ClientKeyContent.json",
        password_file=src / "ClientKeyPassword.json",
        ca_file=src / "ca.pem",
        kms_instance_id="kst-real",
    )
    assert written[2].name == "PrivateKmsCA_kst-real.pem"


def test_export_refuses_broken_credentials(tmp_path):
    bad = tmp_path / "pw.txt"
    bad.write_text("nope")
    with pytest.raises(CredentialError, match="wrong password"):
        cc.export_guest_bundle(tmp_path / "o", client_key_file=CLIENT_KEY, password_file=bad, ca_file=CA)
    assert not (tmp_path / "o").exists()


def test_guest_bundle_names_reject_path_tricks():
    with pytest.raises(CredentialError):
        cc.guest_bundle_names("../x", "kst-1")


def test_core_and_cli_modules_do_not_import_the_sdk():
    """The core (and the CLI module, at import) must not pull in the Alibaba SDK or network code."""
    code = (
        "import sys; import sealtui.core.credentials, sealtui.core.keyref, sealtui.cli.kms_cmds\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sdk', 'openapi', 'openapi_util', 'openapi_credential', 'Tea', 'requests', 'aiohttp', 'OpenSSL'}"
        " or m == 'sealtui.providers.aliyun')\n"
        "print(','.join(bad))\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == ""
