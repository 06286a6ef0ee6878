"""A crafted client key file cannot take sealtui down (issue 10, item 6).

The file: a PKCS#12 with MacData and an authSafe ContentInfo without content. The OpenSSL that cryptography 41.0.7
bundles dereferences NULL on it (CVE-2024-0727). Everything that could crash runs in a subprocess here, so a
regression fails one test instead of killing pytest.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from sealtui.core import credential_check as cc
from sealtui.core import credentials as cr
from sealtui.core import pkcs12 as contained
from sealtui.core.errors import CredentialError
from tests.paths import ALIYUN, ROOT

KEY_ID = "KAAP.crafted"
REAL_KEY = ALIYUN / "clientKey_KAAP.gc-test-vector.json"
REAL_PASSWORD = "c383f5528f54394676ca89b8e47096e7"


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 128:
        return bytes([tag, n]) + body
    size = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + body


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _read_tlv(data: bytes, i: int) -> tuple[int, bytes, int]:
    """(tag, body, index after) of the DER element at `i`."""
    tag, first, i = data[i], data[i + 1], i + 2
    if first < 0x80:
        return tag, data[i : i + first], i + first
    n = first & 0x7F
    length = int.from_bytes(data[i : i + n], "big")
    return tag, data[i + n : i + n + length], i + n + length


OID_DATA = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1
OID_SHA1 = bytes.fromhex("06052b0e03021a")  # 1.3.14.3.2.26
MAC_DATA = _seq(_seq(_seq(OID_SHA1, b"\x05\x00"), _tlv(0x04, bytes(20))), _tlv(0x04, b"\x01" * 8), _tlv(0x02, b"\x01"))
CRAFTED = _seq(_tlv(0x02, b"\x03"), _seq(OID_DATA), MAC_DATA)
"""PFX { version 3, authSafe ContentInfo { id-data } with no [0] content, MacData { SHA-1 digest, salt, 1 } }."""


def _slow_pkcs12() -> bytes:
    """The real client key with its MAC iteration count set to 2^31-1: OpenSSL would derive the key for minutes."""
    der = base64.b64decode(json.loads(REAL_KEY.read_text())["PrivateKeyData"])
    _, pfx, _ = _read_tlv(der, 0)
    _, version, i = _read_tlv(pfx, 0)
    j = _read_tlv(pfx, i)[2]  # after the authSafe
    _, mac_data, _ = _read_tlv(pfx, j)
    mac, k = mac_data[: _read_tlv(mac_data, 0)[2]], _read_tlv(mac_data, 0)[2]
    salt = mac_data[k : _read_tlv(mac_data, k)[2]]
    return _seq(_tlv(0x02, version), pfx[i:j], _seq(mac, salt, _tlv(0x02, (2**31 - 1).to_bytes(4, "big"))))


def _write_credentials(directory: Path, der: bytes = CRAFTED) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"clientKey_{KEY_ID}.json"
    path.write_text(json.dumps({"KeyId": KEY_ID, "PrivateKeyData": base64.b64encode(der).decode()}))
    (directory / f"password_{KEY_ID}.json").write_text("pw")
    (directory / "PrivateKmsCA_kst-crafted.pem").write_bytes((ALIYUN / "PrivateKmsCA_kst-bjj6____.pem").read_bytes())
    return path


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def _sealtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sealtui", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, input="secret")  # fmt: skip


def test_the_crafted_file_does_crash_openssl_when_parsed_in_process():
    """The premise: without containment, cryptography's own parse kills the process with SIGSEGV."""
    code = ("from cryptography.hazmat.primitives.serialization import pkcs12\n"
            f"pkcs12.load_key_and_certificates({CRAFTED!r}, b'pw')\nprint('survived')")  # fmt: skip
    out = _python(code)
    assert out.returncode == -signal.SIGSEGV and "survived" not in out.stdout


@pytest.mark.parametrize("how", ["fork", "spawn"])
def test_contained_parse_turns_the_crash_into_an_error(how):
    code = ("from sealtui.core import pkcs12\n"
            f"try:\n    pkcs12.load_pkcs12({CRAFTED!r}, b'pw', how={how!r})\n"
            "except pkcs12.Pkcs12Crash as e:\n    print('contained:', e)\n")  # fmt: skip
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("contained:") and "SIGSEGV" in out.stdout


@pytest.mark.parametrize("how", ["fork", "spawn"])
def test_contained_parse_gives_what_cryptography_gives(how):
    der = base64.b64decode(json.loads(REAL_KEY.read_text())["PrivateKeyData"])
    key, cert = contained.load_pkcs12(der, REAL_PASSWORD.encode(), how=how)
    assert key is not None and key.key_size == 2048  # type: ignore[union-attr]
    assert cert is not None and "kst-shh668f78559i6q09rosa-client" in cert.subject.rfc4514_string()
    with pytest.raises(ValueError, match="Invalid password"):
        contained.load_pkcs12(der, b"wrong", how=how)
    with pytest.raises(ValueError, match="Could not deserialize"):
        contained.load_pkcs12(b"not a pkcs12", b"pw", how=how)


@pytest.mark.parametrize("how", ["fork", "spawn"])
def test_a_parse_that_does_not_end_is_killed(how, monkeypatch):
    monkeypatch.setattr(contained, "TIMEOUT_SECONDS", 0.5)
    with pytest.raises(contained.Pkcs12Crash, match=r"did not finish within 0\.5 s"):
        contained.load_pkcs12(_slow_pkcs12(), REAL_PASSWORD.encode(), how=how)


def test_load_client_key_says_the_file_is_malformed(tmp_path):
    path = _write_credentials(tmp_path)
    code = ("import json; from pathlib import Path; from sealtui.core import credentials as cr\n"
            f"try:\n    cr.load_client_key(Path({str(path)!r}), 'pw')\n"
            "except cr.CredentialError as e:\n    print(json.dumps([e.message, e.fix, e.exit_code]))\n")  # fmt: skip
    out = _python(code)
    assert out.returncode == 0, out.stderr
    message, fix, exit_code = json.loads(out.stdout)
    assert str(path) in message and "this client key file is malformed" in message and "SIGSEGV" in message
    assert fix and exit_code == 3


@pytest.mark.parametrize("thread", [False, True], ids=["main thread (fork)", "worker thread (fresh interpreter)"])
def test_check_credentials_reports_the_file(tmp_path, thread):
    """What `credentials check` and the Credentials screen (on a worker thread) do: one error row, no crash."""
    _write_credentials(tmp_path)
    code = ("import threading; from pathlib import Path; from sealtui.core.credential_check import check_credentials\n"
            "out = []\n"
            f"run = lambda: out.append(check_credentials(Path({str(tmp_path)!r})))\n"
            + ("t = threading.Thread(target=run); t.start(); t.join()\n" if thread else "run()\n")
            + "print([(i.role, i.message) for i in out[0].items if i.status == 'error'])")  # fmt: skip
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert "('password', " in out.stdout and "this client key file is malformed" in out.stdout


def test_cli_credentials_check_exits_3(tmp_path):
    _write_credentials(tmp_path)
    out = _sealtui("credentials", "check", str(tmp_path))
    assert out.returncode == 3, out.stderr
    assert "this client key file is malformed" in out.stdout and "Traceback" not in out.stderr


def test_cli_seal_envelope_exits_3(tmp_path):
    _write_credentials(tmp_path / "creds")
    out = _sealtui("keygen", "--kid", "k", "--output-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    out = _sealtui("seal", "envelope", "--key-id", "alias/x", "--credentials-dir", str(tmp_path / "creds"),
                   "--endpoint", "127.0.0.1:9", "--signing-jwk", str(tmp_path / "k-private.json"))  # fmt: skip
    assert out.returncode == 3, out.stderr
    assert "this client key file is malformed" in out.stderr and "Traceback" not in out.stderr and not out.stdout


def test_cli_sandbox_register_client_key_exits_3(tmp_path):
    from sealtui import sandbox

    sandbox.init_instance(tmp_path / "root")
    path = _write_credentials(tmp_path / "creds")
    out = _sealtui("sandbox", "register-client-key", "--root-dir", str(tmp_path / "root"), "--client-key-file",
                   str(path), "--password-file", str(tmp_path / "creds" / f"password_{KEY_ID}.json"))  # fmt: skip
    assert out.returncode == 3, out.stderr
    assert "this client key file is malformed" in out.stderr and "Traceback" not in out.stderr


# --- parsed once ----------------------------------------------------------------------------------------------


def test_a_client_key_is_parsed_once_per_process(tmp_path, monkeypatch):
    calls: list[int] = []
    real = cr.start_pkcs12

    def counting(der: bytes, password: bytes):
        calls.append(1)
        return real(der, password)

    monkeypatch.setattr(cr, "start_pkcs12", counting)
    monkeypatch.setattr(cr, "_PARSED", {})
    directory = tmp_path / "creds"
    directory.mkdir()
    for name in (REAL_KEY.name, "password_KAAP.gc-test-vector.txt", "PrivateKmsCA_kst-bjj6____.pem"):
        (directory / name).write_bytes((ALIYUN / name).read_bytes())
    # what `credentials check --connect` does: check every file, then load the set to connect
    assert not cc.check_credentials(directory).has_errors
    assert cr.find_credentials(directory).client_key.key_id == "KAAP.gc-test-vector"
    assert len(calls) == 1
    with pytest.raises(CredentialError, match="wrong password"):  # another password is another parse
        cr.load_client_key(directory / REAL_KEY.name, "0" * 32)
    assert len(calls) == 2
    data = json.loads(REAL_KEY.read_text())
    key, cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(data["PrivateKeyData"]), REAL_PASSWORD.encode())
    again = pkcs12.serialize_key_and_certificates(None, key, cert, None,  # type: ignore[arg-type]
                                                  BestAvailableEncryption(REAL_PASSWORD.encode()))
    data["PrivateKeyData"] = base64.b64encode(again).decode()
    (directory / REAL_KEY.name).write_text(json.dumps(data))  # the same key in another file: parsed again
    cr.load_client_key(directory / REAL_KEY.name, REAL_PASSWORD)
    assert len(calls) == 3


def test_a_parse_started_ahead_is_the_one_the_load_uses(tmp_path, monkeypatch):
    """`parse_ahead` starts the parse and returns; the load that follows waits for that child instead of starting
    another. A parse that failed is forgotten: the next load parses again (and fails the same way)."""
    calls: list[int] = []
    real = cr.start_pkcs12

    def counting(der: bytes, password: bytes):
        calls.append(1)
        return real(der, password)

    monkeypatch.setattr(cr, "start_pkcs12", counting)
    monkeypatch.setattr(cr, "_PARSED", {})
    directory = tmp_path / "creds"
    directory.mkdir()
    for name in (REAL_KEY.name, "password_KAAP.gc-test-vector.txt", "PrivateKmsCA_kst-bjj6____.pem"):
        (directory / name).write_bytes((ALIYUN / name).read_bytes())
    cr.parse_ahead(directory)
    assert len(calls) == 1
    assert cr.find_credentials(directory).client_key.key_id == "KAAP.gc-test-vector"
    assert len(calls) == 1
    cr.parse_ahead(tmp_path / "missing")  # nothing to parse: the load says what is wrong, not this
    assert len(calls) == 1

    crafted = tmp_path / "crafted"
    _write_credentials(crafted)
    cr.parse_ahead(crafted)
    assert len(calls) == 2
    for expected_calls in (2, 3):
        with pytest.raises(CredentialError, match="malformed"):
            cr.find_credentials(crafted)
        assert len(calls) == expected_calls


def _interrupt_once(parse) -> None:
    """Make `parse` raise KeyboardInterrupt while waiting (after reaping its child), as Ctrl-C would."""
    child = parse._child
    real = child.answer

    def interrupted():
        real()
        raise KeyboardInterrupt

    child.answer = interrupted


def test_an_interrupted_parse_is_forgotten(monkeypatch):
    """Ctrl-C while waiting for the child: the interruption goes up; another waiter is told it was interrupted;
    the next load parses again instead of finding a broken entry."""
    der = base64.b64decode(json.loads(REAL_KEY.read_text())["PrivateKeyData"])
    parse = contained.start_pkcs12(der, REAL_PASSWORD.encode(), how="fork")
    _interrupt_once(parse)
    with pytest.raises(KeyboardInterrupt):
        parse.result()
    with pytest.raises(contained.Pkcs12Crash, match="interrupted"):
        parse.result()

    monkeypatch.setattr(cr, "_PARSED", {})
    calls: list[int] = []
    real_start = cr.start_pkcs12

    def start_interrupted(der: bytes, password: bytes):
        calls.append(1)
        p = real_start(der, password)
        if len(calls) == 1:
            _interrupt_once(p)
        return p

    monkeypatch.setattr(cr, "start_pkcs12", start_interrupted)
    with pytest.raises(KeyboardInterrupt):
        cr.load_client_key(REAL_KEY, REAL_PASSWORD)
    assert cr.load_client_key(REAL_KEY, REAL_PASSWORD).key_id == "KAAP.gc-test-vector"
    assert len(calls) == 2
