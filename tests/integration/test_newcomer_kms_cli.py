"""What a new user trips over in the CLI, against the local KMS over TLS (issue 11, items 4–8, 10 and 22).

Each command runs as a real process; each test is named after the item of the issue it shows.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sealtui.core.jws import keygen
from sealtui.core.manifest import SECRET_MAX_BYTES
from tests.sandbox_support import ROOT, SandboxInfo

DEFAULT = "alias/sealtui-default"


def run(*args: str | Path, stdin: bytes = b"", cwd: Path = ROOT, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    env = dict(env or os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "sealtui", *map(str, args)], input=stdin, capture_output=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    files = keygen("newcomer", tmp_path_factory.mktemp("jwk"))
    return files.private_path, files.public_path


def seal(sandbox: SandboxInfo, keys: tuple[Path, Path], plaintext: bytes, *extra: str | Path,
         command: str = "envelope") -> subprocess.CompletedProcess[bytes]:
    return run("seal", command, "--key-id", DEFAULT, "--credentials-dir", sandbox.credentials_dir,
               "--endpoint", sandbox.endpoint, "--signing-jwk", keys[0], *extra, stdin=plaintext)


# --- 4. an empty value is refused, as the TUI refuses it -----------------------------------------------------------


def test_item04_seal_envelope_refuses_an_empty_value(sandbox, keys, tmp_path):
    r = seal(sandbox, keys, b"")
    assert r.returncode == 3 and not r.stdout
    assert b"empty" in r.stderr and b"Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert seal(sandbox, keys, b"", "-f", empty).returncode == 3
    explicit = seal(sandbox, keys, b"A=1\nB=\n", "--name", "app", command="bulk")  # B= says "empty" on purpose
    assert explicit.returncode == 0 and b"B: sealed." in explicit.stdout, explicit.stderr


# --- 5. a value too large for a Kubernetes Secret ------------------------------------------------------------------


def test_item05_a_value_too_large_for_a_secret_is_refused(sandbox, keys):
    big = os.urandom(700 * 1024)  # its sealed string is ~1.2 MiB
    r = seal(sandbox, keys, big)
    assert r.returncode == 3 and not r.stdout
    err = r.stderr.decode()
    assert "Kubernetes Secret" in err and "1 MiB" in err and "seal vault" in err and "--allow-oversized" in err
    forced = seal(sandbox, keys, big, "--allow-oversized")
    assert forced.returncode == 0, forced.stderr.decode()
    assert len(forced.stdout.strip()) > SECRET_MAX_BYTES
    fits = seal(sandbox, keys, os.urandom(400 * 1024))
    assert fits.returncode == 0 and len(fits.stdout.strip()) <= SECRET_MAX_BYTES


def test_item05_seal_bulk_checks_the_whole_manifest(sandbox, keys, tmp_path):
    env = "".join(f"K{i}={'x' * 250_000}\n" for i in range(3)).encode()  # each fits; together they do not
    r = seal(sandbox, keys, env, "--name", "app", command="bulk")
    assert r.returncode == 3 and not r.stdout
    assert b"Kubernetes Secret" in r.stderr and b"1 MiB" in r.stderr
    ok = seal(sandbox, keys, env, "--name", "app", "--allow-oversized", command="bulk")
    assert ok.returncode == 0 and ok.stdout.count(b"sealed.") == 3
    many = run("manifest", "--name", "app", stdin=b"".join(
        f"k{i}={line}\n".encode() for i, line in enumerate(ok.stdout.decode().split()) if line.startswith("sealed.")))
    assert many.returncode == 3 and b"1 MiB" in many.stderr


# --- 6. --env-file - is standard input -------------------------------------------------------------------------------


def test_item06_env_file_dash_reads_standard_input(sandbox, keys):
    r = seal(sandbox, keys, b"TOKEN=abc\n", "--name", "app", "--env-file", "-", command="bulk")
    assert r.returncode == 0, r.stderr.decode()
    assert b"TOKEN: sealed." in r.stdout
    empty = seal(sandbox, keys, b"", "--name", "app", "--env-file", "-", command="bulk")
    assert empty.returncode == 3 and b"standard input" in empty.stderr and b"-:" not in empty.stderr


# --- 7. keygen --from-kms: the directory is made, and checked before any KMS call -------------------------------


def test_item07_keygen_from_kms_creates_the_output_directory(sandbox, tmp_path):
    out = tmp_path / "new" / "dir"
    r = run("keygen", "--kid", "kms-key", "--from-kms", "alias/sealtui-signing", "--credentials-dir",
            sandbox.credentials_dir, "--endpoint", sandbox.endpoint, "--output-dir", out)
    assert r.returncode == 0, r.stderr.decode()
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "kms-key-public.json").stat().st_mode) == 0o644


# --- 8. seal bulk -o: mode 0600, as every file sealtui writes -----------------------------------------------------


def test_item08_seal_bulk_output_is_0600(sandbox, keys, tmp_path):
    out = tmp_path / "secret.yaml"
    r = seal(sandbox, keys, b"A=1\n", "--name", "app", "-o", out, command="bulk")
    assert r.returncode == 0, r.stderr.decode()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# --- 10. the port in use, and a signing key asked to encrypt -------------------------------------------------------


def test_item10_sandbox_serve_on_a_taken_port_says_so(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert run("sandbox", "init", "--root-dir", tmp_path / "kms").returncode == 0
        r = run("sandbox", "serve", "--root-dir", tmp_path / "kms", "--port", str(port))
    assert r.returncode == 5
    assert f"{port}" in r.stderr.decode() and b"already in use" in r.stderr and b"--port 0" in r.stderr


def test_item10_encrypting_with_a_signing_key_names_the_cause(sandbox, keys):
    r = run("seal", "envelope", "--key-id", "alias/sealtui-signing", "--credentials-dir", sandbox.credentials_dir,
            "--endpoint", sandbox.endpoint, "--signing-jwk", keys[0], stdin=b"x")
    assert r.returncode == 5
    err = r.stderr.decode()
    assert "alias/sealtui-signing is an EC_P256 key" in err and "AES" in err, err
    assert "common error codes" not in err


# --- 22. the README's walk-through runs as written, from an empty HOME -------------------------------------------


def readme_block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    after = text.split(f"<!-- {marker} -->\n", 1)[1]
    return after.split("\n", 1)[1].split("\n```", 1)[0]


def test_item22_the_readme_walkthrough_runs(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "KMS_"))}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    lines = readme_block("walkthrough").replace("\\\n", "").splitlines()
    server: subprocess.Popen[bytes] | None = None
    try:
        for line in lines:
            command = line.split("  #")[0].strip()
            if command.endswith("&"):  # the server: started here, so that the test can stop it
                server = subprocess.Popen(["bash", "-c", f"exec {command.rstrip('&')}"], cwd=tmp_path, env=env,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
                continue
            done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (command, done.stderr)
        assert done.stdout == "hunter2", done.stdout
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    assert not (home / ".config" / "sealtui" / "config.json").exists()


def test_item10_a_server_that_is_starting_is_not_taken_at_its_last_endpoint(tmp_path):
    """While a new server holds the lock but has not bound yet, serve.json still names the last run's endpoint
    (perhaps a port something else holds now): that is not where the instance serves."""
    import fcntl

    from sealtui import sandbox
    from sealtui.sandbox.layout import Layout
    from sealtui.service.kms import CredentialSource, local_endpoint
    from sealtui.service.local_kms import serving_endpoint

    root = tmp_path / "kms"
    sandbox.init_instance(root)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    layout = Layout(root)
    layout.serve_json.write_text(json.dumps({"endpoint": "127.0.0.1:9998", "pid": gone.pid}))
    fd = os.open(layout.serve_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a starting server holds it
        assert serving_endpoint(root) is None
        with pytest.raises(Exception, match="is not running"):
            local_endpoint(CredentialSource(directory=root / "credentials"))
        layout.serve_json.write_text(json.dumps({"endpoint": "127.0.0.1:4242", "pid": os.getpid()}))
        assert local_endpoint(CredentialSource(directory=root / "credentials")) == "127.0.0.1:4242"
    finally:
        os.close(fd)
    assert serving_endpoint(root) is None  # the lock is free: nothing serves
    assert local_endpoint(CredentialSource(directory=tmp_path)) is None  # not a local instance's credentials


def test_item10_a_real_instance_s_bare_invalid_parameter_points_at_the_key_kind():
    """An Alibaba instance answers a wrong kind of key with a bare InvalidParameter: the fix says what to check; a
    Decrypt's InvalidParameter (also a ciphertext that does not authenticate) keeps its own fix."""
    from sealtui.providers.aliyun_errors import kms_error

    where = {"endpoint": "kst-x.cryptoservice.kms.aliyuncs.com", "client_key_id": "KAAP.x", "kms_instance_id": "kst-x"}
    e = kms_error("Encrypt", "InvalidParameter", "The specified parameter is not valid.", {"httpCode": 400},
                  subject="alias/signing", **where)
    assert e.fix is not None and "alias/signing is a symmetric (Aliyun_AES_256) key" in e.fix
    d = kms_error("Decrypt", "InvalidParameter", "The specified parameter is not valid.", {"httpCode": 400},
                  subject="key-1", **where)
    assert d.fix == "check that the secret was sealed with this key and is intact"
