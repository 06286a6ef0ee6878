"""Bulk sealing into one manifest, and JWS signing with a key that never leaves the KMS (against the sandbox)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import yaml
from jwcrypto import jwk as jjwk
from jwcrypto import jws as jjws

from sealtui import sandbox as api
from sealtui.core.codec import parse_sealed
from sealtui.core.credentials import find_credentials
from sealtui.core.envelope import open_envelope
from sealtui.core.jws import keygen
from sealtui.providers.aliyun import AliyunKms
from tests.sandbox_support import ROOT, SandboxInfo

DEFAULT = "alias/sealtui-default"


def run(*args, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sealtui", *map(str, args)], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=180)


def kms_args(sandbox: SandboxInfo) -> list[str]:
    return ["--credentials-dir", str(sandbox.credentials_dir), "--endpoint", sandbox.endpoint]


@pytest.fixture(scope="module")
def signing_jwk(tmp_path_factory):
    return keygen("bulk-kid", tmp_path_factory.mktemp("jwk")).private_path


ENV = b"""# a comment
DB_PASSWORD=s3cr3t
export API_TOKEN="two words and = sign"
EMPTY=
MULTI='line one
line two'
""" + b"".join(b"K%d=value-%d\n" % (i, i) for i in range(40))


def test_bulk_seal_into_one_manifest(sandbox, signing_jwk, tmp_path):
    out = tmp_path / "secret.yaml"
    r = run("seal", "bulk", "--key-id", DEFAULT, *kms_args(sandbox), "--signing-jwk", signing_jwk,
            "--name", "app-secrets", "--namespace", "prod", "-o", out, stdin=ENV)
    assert r.returncode == 0, r.stderr.decode()
    doc = yaml.safe_load(out.read_text())
    values = doc["stringData"]
    assert doc["metadata"] == {"name": "app-secrets", "namespace": "prod"}
    assert list(values)[:4] == ["DB_PASSWORD", "API_TOKEN", "EMPTY", "MULTI"] and len(values) == 44
    kms = AliyunKms(find_credentials(sandbox.credentials_dir), endpoint=sandbox.endpoint)
    expected = {"DB_PASSWORD": b"s3cr3t", "API_TOKEN": b"two words and = sign", "EMPTY": b"",
                "MULTI": b"line one\nline two", "K39": b"value-39"}
    for key, plaintext in expected.items():
        assert open_envelope(parse_sealed(values[key]).payload, kms) == plaintext  # type: ignore[arg-type]
    assert b"s3cr3t" not in r.stderr and b"s3cr3t" not in r.stdout  # plaintext never echoed


def test_bulk_failure_names_the_key_and_writes_nothing(sandbox, signing_jwk, tmp_path):
    key = api.create_key(sandbox.root_dir, alias=f"alias/bulk-off-{uuid.uuid4().hex[:8]}")
    api.set_key_state(sandbox.root_dir, key.id, "Deactivated")
    out = tmp_path / "secret.yaml"
    r = run("seal", "bulk", "--key-id", key.id, *kms_args(sandbox), "--signing-jwk", signing_jwk,
            "--name", "s", "-o", out, stdin=b"FIRST=a\nSECOND=b\n")
    assert r.returncode == 5
    err = r.stderr.decode()
    assert err.startswith(("sealtui: error: FIRST: ", "sealtui: error: SECOND: ")) and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_bulk_bad_line_is_named_without_its_content(sandbox, signing_jwk):
    r = run("seal", "bulk", "--key-id", DEFAULT, *kms_args(sandbox), "--signing-jwk", signing_jwk,
            "--name", "s", stdin=b"A=1\nhunter2 is not a pair\n")
    assert r.returncode == 3 and b"line 2" in r.stderr and b"hunter2" not in r.stderr


def test_kms_held_signing_key(sandbox, tmp_path):
    r = run("keygen", "--from-kms", "alias/sealtui-signing", "--kid", "kms-signer", "--output-dir", tmp_path,
            *kms_args(sandbox))
    assert r.returncode == 0, r.stderr.decode()
    public = tmp_path / "kms-signer-public.json"
    assert "d" not in json.loads(public.read_text()) and not (tmp_path / "kms-signer-private.json").exists()

    sealed = run("seal", "vault", "--resource-uri", "kbs:///default/key/1", "--signing-key",
                 "alias/sealtui-signing", "--signing-kid", "kms-signer", *kms_args(sandbox), "--no-newline")
    assert sealed.returncode == 0, sealed.stderr.decode()
    text = sealed.stdout.decode()
    assert run("verify", "--jwk", public, text).returncode == 0
    token = jjws.JWS()
    token.deserialize(text.removeprefix("sealed."))
    token.verify(jjwk.JWK.from_json(public.read_text()))  # raw r||s, as JOSE requires (the KMS returned DER)

    legacy = "sealed.fakejwsheader." + text.split(".")[2] + ".fakesignature"
    resigned = run("resign", "--signing-key", "alias/sealtui-signing", "--signing-kid", "kms-signer",
                   *kms_args(sandbox), "--no-newline", "-", stdin=legacy.encode())
    assert resigned.returncode == 0, resigned.stderr.decode()
    assert run("verify", "--jwk", public, resigned.stdout.decode()).returncode == 0


def test_kms_signing_key_must_be_ec(sandbox):
    r = run("seal", "vault", "--resource-uri", "kbs:///a/b/c", "--signing-key", DEFAULT, "--signing-kid", "x",
            *kms_args(sandbox))
    assert r.returncode == 5 and "Traceback" not in r.stderr.decode() and not r.stdout
    assert "must be an EC_P256 KMS key" in r.stderr.decode()


@pytest.fixture
def loopback_only(monkeypatch):
    """Name resolution for loopback only: a test that would dial an outside address fails instead (and says
    which). Returns the hosts asked for."""
    import socket

    asked: list[str] = []
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else str(host)
        asked.append(name)
        if name not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: {name} is not a loopback address")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return asked


def test_a_gateway_uri_signing_key_dials_the_instance_of_the_credentials(sandbox, tmp_path, monkeypatch, capsys,
                                                                          loopback_only):
    """`--signing-key alibabakms://kms.<region>.aliyuncs.com/…` names a region's shared gateway, which does not
    serve the KMS-instance API: seal, resign and keygen --from-kms dial the instance the credentials name.
    Here that instance's default endpoint is the local KMS (the guard refuses any other address)."""
    from sealtui import cli
    from sealtui.providers import aliyun

    instance_endpoint = f"{sandbox.kms_instance_id}.cryptoservice.kms.aliyuncs.com"
    monkeypatch.setattr(aliyun, "default_endpoint",
                        lambda instance: sandbox.endpoint if instance == sandbox.kms_instance_id else "x.invalid")
    gateway = f"alibabakms://kms.cn-beijing.aliyuncs.com/{sandbox.kms_instance_id}/alias/sealtui-signing"
    creds = ["--credentials-dir", str(sandbox.credentials_dir)]
    signer = ["--signing-key", gateway, "--signing-kid", "gw-kid", *creds, "--no-newline"]

    assert cli.main(["keygen", "--from-kms", gateway, "--kid", "gw-kid", "--output-dir", str(tmp_path), *creds]) == 0
    assert cli.main(["seal", "vault", "--resource-uri", "kbs:///default/key/1", *signer]) == 0
    sealed = capsys.readouterr().out.splitlines()[-1]
    legacy = "sealed.fakejwsheader." + sealed.split(".")[2] + ".fakesignature"
    assert cli.main(["resign", *signer, legacy]) == 0
    resigned = capsys.readouterr().out
    from sealtui.core.verify import verify_sealed

    for text in (sealed, resigned):
        verify_sealed(text, tmp_path / "gw-kid-public.json")
    assert not [h for h in loopback_only if "aliyuncs.com" in h], loopback_only
    assert instance_endpoint != sandbox.endpoint  # the patched default stood for the instance's own name
