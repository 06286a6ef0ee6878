"""The KMS commands end to end: `python -m sealtui seal envelope` → `unseal`, `credentials check|export-…`.

Each command runs as a real process against the sandbox (the SDK over TLS); results on stdout, notes on stderr.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sealtui import sandbox as api
from sealtui.core.jws import keygen
from tests.paths import ALIYUN
from tests.sandbox_support import ROOT, SandboxInfo

VECTORS = ALIYUN
VECTOR_KEY = VECTORS / "clientKey_KAAP.gc-test-vector.json"
DEFAULT = "alias/sealtui-default"


def run(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "sealtui", *map(str, args)], input=stdin, capture_output=True,
                          env=env, cwd=ROOT, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory):
    files = keygen("cli-test-kid", tmp_path_factory.mktemp("jwk"))
    return files.private_path, files.public_path


def seal(sandbox: SandboxInfo, keys, plaintext: bytes, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return run("seal", "envelope", "--key-id", DEFAULT, "--credentials-dir", sandbox.credentials_dir,
               "--endpoint", sandbox.endpoint, "--signing-jwk", keys[0], *extra, stdin=plaintext)  # fmt: skip


def unseal(sandbox: SandboxInfo, sealed: bytes, *extra: str | Path) -> subprocess.CompletedProcess[bytes]:
    return run("unseal", "--credentials-dir", sandbox.credentials_dir, "--endpoint", sandbox.endpoint, *extra,
               stdin=sealed)  # fmt: skip


@pytest.mark.parametrize(
    "plaintext",
    [b"a database password", bytes(range(256)) * 3, os.urandom(512 * 1024), os.urandom(1024 * 1024)],
    ids=["text", "binary", "512KiB", "1MiB"],
)
def test_seal_then_unseal_round_trip(sandbox: SandboxInfo, keys, plaintext):
    oversized = ["--allow-oversized"] if len(plaintext) > 512 * 1024 else []  # its sealed string would not fit
    sealed = seal(sandbox, keys, plaintext, *oversized)
    assert sealed.returncode == 0, sealed.stderr.decode()
    text = sealed.stdout.decode()
    assert text.startswith("sealed.") and "\n" not in text  # the string alone, into a pipe without a newline
    out = unseal(sandbox, sealed.stdout, "--jwk", keys[1], "--stdout", "-")
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout == plaintext
    assert b"signature verified" in out.stderr


def test_seal_from_file_no_newline_and_explicit_files(sandbox: SandboxInfo, keys, tmp_path):
    src = tmp_path / "plain.bin"
    src.write_bytes(b"from a file")
    res = run("seal", "envelope", "--key-id", DEFAULT, "--client-key-file", sandbox.client_key_file,
              "--password-file", sandbox.password_file, "--cert-path", sandbox.ca_file,
              "--kms-instance-id", sandbox.kms_instance_id, "--endpoint", sandbox.endpoint,
              "--signing-jwk", keys[0], "--signing-kid", "other-kid", "--no-newline", "-f", src)  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.startswith(b"sealed.") and not res.stdout.endswith(b"\n")
    sealed_file = tmp_path / "sealed.txt"
    sealed_file.write_bytes(res.stdout)
    out = run("unseal", "-f", sealed_file, "--credentials-dir", sandbox.credentials_dir, "--endpoint",
              sandbox.endpoint, "--skip-verification", "--stdout")  # fmt: skip
    assert out.returncode == 0 and out.stdout == b"from a file"
    assert b"NOT verified" in out.stderr


def test_plaintext_is_never_taken_from_argv(sandbox: SandboxInfo, keys):
    res = seal(sandbox, keys, b"", "my-secret-value")
    assert res.returncode == 2 and b"never taken from the command line" in res.stderr


def test_unseal_output_file_mode_and_no_overwrite(sandbox: SandboxInfo, keys, tmp_path):
    sealed = seal(sandbox, keys, b"to a file").stdout
    out = tmp_path / "plain.txt"
    res = unseal(sandbox, sealed, "--jwk", keys[1], "-o", out)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout == b"" and out.read_bytes() == b"to a file"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = unseal(sandbox, sealed, "--jwk", keys[1], "-o", out)
    assert again.returncode == 3 and b"already exists" in again.stderr
    assert out.read_bytes() == b"to a file"


def test_unseal_needs_a_destination_and_a_verification_choice(sandbox: SandboxInfo, keys):
    sealed = seal(sandbox, keys, b"x").stdout
    res = unseal(sandbox, sealed, "--jwk", keys[1])
    assert res.returncode == 2 and b"--stdout" in res.stderr and res.stdout == b""
    res = unseal(sandbox, sealed, "--stdout")
    assert res.returncode == 2  # neither --jwk nor --skip-verification


def test_unseal_with_the_wrong_key_fails_verification(sandbox: SandboxInfo, keys, tmp_path):
    other = keygen("someone-else", tmp_path)
    res = unseal(sandbox, seal(sandbox, keys, b"x").stdout, "--jwk", other.public_path, "--stdout")
    assert res.returncode == 4 and res.stdout == b""


def test_seal_with_a_key_not_granted_is_a_kms_failure(sandbox: SandboxInfo, keys):
    alias = f"alias/cli-nogrant-{uuid.uuid4().hex[:8]}"
    api.create_key(sandbox.root_dir, alias=alias, grant_to=[])
    res = run("seal", "envelope", "--key-id", alias, "--credentials-dir", sandbox.credentials_dir,
              "--endpoint", sandbox.endpoint, "--signing-jwk", keys[0], stdin=b"x")  # fmt: skip
    assert res.returncode == 5 and res.stdout == b""
    assert b"Forbidden.NoPermission" in res.stderr and b"fix:" in res.stderr


def test_seal_with_unreachable_endpoint(sandbox: SandboxInfo, keys):
    res = run("seal", "envelope", "--key-id", DEFAULT, "--credentials-dir", sandbox.credentials_dir,
              "--endpoint", "127.0.0.1:1", "--signing-jwk", keys[0], stdin=b"x")  # fmt: skip
    assert res.returncode == 5 and b"cannot reach" in res.stderr


def test_seal_needs_one_credentials_form(sandbox: SandboxInfo, keys):
    res = run("seal", "envelope", "--key-id", DEFAULT, "--credentials-dir", sandbox.credentials_dir,
              "--cert-path", sandbox.ca_file, "--signing-jwk", keys[0], stdin=b"x")  # fmt: skip
    assert res.returncode == 2
    res = run("seal", "envelope", "--key-id", DEFAULT, "--signing-jwk", keys[0], stdin=b"x")
    assert res.returncode == 2 and b"no credentials" in res.stderr


def test_credentials_check(sandbox: SandboxInfo, tmp_path):
    res = run("credentials", "check", sandbox.credentials_dir, "--json")
    assert res.returncode == 0, res.stderr.decode()
    report = json.loads(res.stdout)
    assert report["ok"] and {i["role"] for i in report["items"]} == {"client_key", "password", "ca_bundle"}
    table = run("credentials", "check", VECTORS)
    assert table.returncode == 0 and b"WARNING" in table.stdout and b"fix:" in table.stdout
    (tmp_path / "clientKey_KAAP.x.json").write_text("{}")
    bad = run("credentials", "check", tmp_path, "--json")
    assert bad.returncode == 3 and json.loads(bad.stdout)["ok"] is False


def test_credentials_check_connect(sandbox: SandboxInfo):
    res = run("credentials", "check", sandbox.credentials_dir, "--connect", "--endpoint", sandbox.endpoint,
              "--key-id", DEFAULT, "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    conn = json.loads(res.stdout)["connection"]
    assert conn["ok"] and [s["status"] for s in conn["steps"]] == ["ok"] * 4
    res = run("credentials", "check", sandbox.credentials_dir, "--connect", "--endpoint", "127.0.0.1:1")
    assert res.returncode == 5 and b"reachability" in res.stdout


def test_export_guest_bundle(tmp_path):
    out = tmp_path / "guest"
    res = run("credentials", "export-guest-bundle", "--credentials-dir", VECTORS, "--output-dir", out)
    assert res.returncode == 0, res.stderr.decode()
    names = sorted(Path(p).name for p in res.stdout.decode().split())
    assert names == ["PrivateKmsCA_kst-bjj6____.pem", "clientKey_KAAP.gc-test-vector.json",
                     "password_KAAP.gc-test-vector.json"]  # fmt: skip
    assert (out / "password_KAAP.gc-test-vector.json").read_text() == "c383f5528f54394676ca89b8e47096e7"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())
    again = run("credentials", "export-guest-bundle", "--client-key-file", VECTOR_KEY,
                "--password-file", VECTORS / "password_KAAP.gc-test-vector.txt",
                "--cert-path", VECTORS / "PrivateKmsCA_kst-bjj6____.pem", "--output-dir", out)  # fmt: skip
    assert again.returncode == 3 and b"already holds" in again.stderr


def test_unseal_with_the_real_alibaba_client_key(sandbox: SandboxInfo, keys, tmp_path):
    """Register Alibaba's own client key with the sandbox, export a guest bundle with it, seal and unseal."""
    reg = run("sandbox", "register-client-key", "--root-dir", sandbox.root_dir, "--client-key-file",
              VECTOR_KEY, "--password-file",
              VECTORS / "password_KAAP.gc-test-vector.json")  # fmt: skip
    assert reg.returncode == 0, reg.stderr.decode()
    bundle = tmp_path / "bundle"
    exp = run("credentials", "export-guest-bundle", "--client-key-file", VECTOR_KEY,
              "--password-file", VECTORS / "password_KAAP.gc-test-vector.json", "--cert-path", sandbox.ca_file,
              "--output-dir", bundle)  # fmt: skip
    assert exp.returncode == 0, exp.stderr.decode()
    sealed = run("seal", "envelope", "--key-id", DEFAULT, "--credentials-dir", bundle, "--endpoint",
                 sandbox.endpoint, "--signing-jwk", keys[0], stdin=b"alibaba key")  # fmt: skip
    assert sealed.returncode == 0, sealed.stderr.decode()
    out = unseal(sandbox, sealed.stdout, "--jwk", keys[1], "--stdout")  # with the sandbox's own client key
    assert out.returncode == 0 and out.stdout == b"alibaba key"
    assert b"KAAP.gc-test-vector" in out.stderr  # noted: the secret names another client key


def test_unseal_reads_an_aliyun_vault_secret(sandbox: SandboxInfo, keys):
    name = f"db-password-{uuid.uuid4().hex[:8]}"
    api.put_secret(sandbox.root_dir, name, "vault value")
    sealed = run("seal", "vault", "--provider", "aliyun", "--resource-uri", name,
                 "--provider-setting", f"client_key_id={sandbox.client_key_id}",
                 "--provider-setting", f"kms_instance_id={sandbox.kms_instance_id}",
                 "--signing-jwk", keys[0], "--no-newline")  # fmt: skip
    assert sealed.returncode == 0, sealed.stderr.decode()
    assert json.loads(run("inspect", "--json", sealed.stdout.decode()).stdout)["verdicts"]["cdh"] == "needs-key"
    out = unseal(sandbox, sealed.stdout, "--jwk", keys[1], "--stdout")
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout == b"vault value"


def test_unseal_of_a_kbs_vault_secret_says_why_not(sandbox: SandboxInfo, keys):
    sealed = run("seal", "vault", "--resource-uri", "kbs:///default/key/1", "--signing-jwk", keys[0])
    out = unseal(sandbox, sealed.stdout, "--jwk", keys[1], "--stdout")
    assert out.returncode == 3 and b"attested guest" in out.stderr and not out.stdout
