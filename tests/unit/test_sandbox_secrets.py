"""Secrets at rest: a copy of the state directory alone opens nothing (issue 10, item 11)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from sealtui import sandbox
from sealtui.cli import main
from sealtui.core.errors import InvalidInputError
from sealtui.sandbox import proto, signing
from sealtui.sandbox.app import KmsApp
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.storage import Storage


@pytest.fixture
def instance(tmp_path: Path) -> sandbox.SandboxStatus:
    return sandbox.init_instance(tmp_path / "root", key_dir=tmp_path / "keys")


def test_the_master_key_lives_outside_the_state_directory(instance: sandbox.SandboxStatus, tmp_path: Path):
    key_file = tmp_path / "keys" / f"{instance.kms_instance_id}.key"
    assert instance.master_key_file == key_file and key_file.stat().st_size == 32
    assert (key_file.stat().st_mode & 0o777, key_file.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    master = key_file.read_bytes()
    for path in instance.root_dir.rglob("*"):
        if path.is_file():
            assert master not in path.read_bytes(), path


def test_ca_and_tls_keys_are_not_readable_from_the_state_directory(instance: sandbox.SandboxStatus):
    layout = Layout(instance.root_dir)
    assert not layout.legacy_root_ca_key.exists()  # the root CA key is dropped after init
    for path in (layout.intermediate_ca_key, layout.server_key):
        assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    unencrypted = [p for p in instance.root_dir.rglob("*.pem") if b"BEGIN PRIVATE KEY" in p.read_bytes()]
    assert unencrypted == []


def test_a_copy_of_the_state_directory_alone_opens_nothing(instance: sandbox.SandboxStatus, tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(instance.root_dir, copy)
    with pytest.raises(InvalidInputError, match="cannot read the master key") as e:
        sandbox.start_in_thread(copy, key_dir=tmp_path / "elsewhere")
    assert e.value.fix and "--master-key-dir" in e.value.fix
    with Storage(copy, key_dir=tmp_path / "elsewhere") as db, pytest.raises(InvalidInputError):
        db.key_for(instance.default_key_id or "", instance.client_key_id)
    # With the key (given explicitly) the copy works: the key is all that was missing.
    with sandbox.start_in_thread(copy, key_dir=tmp_path / "keys"):
        pass


def test_a_wrong_master_key_is_named(instance: sandbox.SandboxStatus, tmp_path: Path):
    other = sandbox.init_instance(tmp_path / "other", key_dir=tmp_path / "keys")
    wrong = tmp_path / "keys" / f"{other.kms_instance_id}.key"
    shutil.copy(wrong, tmp_path / "keys" / f"{instance.kms_instance_id}.key.bak")
    (tmp_path / "keys" / f"{instance.kms_instance_id}.key").write_bytes(wrong.read_bytes())
    with pytest.raises(InvalidInputError, match="is not the master key of instance"):
        sandbox.create_key(instance.root_dir, key_dir=tmp_path / "keys")


def test_an_instance_from_before_is_brought_up_to_date(instance: sandbox.SandboxStatus, tmp_path: Path):
    """Older instances kept master.key and plaintext CA/TLS keys in the state directory: they move or get sealed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from sealtui.sandbox import pki

    layout = Layout(instance.root_dir)
    key_file = tmp_path / "keys" / f"{instance.kms_instance_id}.key"
    shutil.move(key_file, instance.root_dir / "master.key")
    with Storage(instance.root_dir, key_dir=tmp_path / "keys") as db:
        password = sandbox_admin_password(db)
        server_key = serialization.load_pem_private_key(layout.server_key.read_bytes(), password)
    assert isinstance(server_key, rsa.RSAPrivateKey)
    layout.server_key.write_bytes(pki.private_key_pem(server_key))  # as it used to be: in the clear
    layout.legacy_root_ca_key.write_bytes(pki.private_key_pem(server_key))
    with sandbox.start_in_thread(instance.root_dir, key_dir=tmp_path / "keys"):
        pass
    assert key_file.is_file() and not (instance.root_dir / "master.key").exists()
    assert not layout.legacy_root_ca_key.exists()
    assert layout.server_key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


def sandbox_admin_password(db: Storage) -> bytes:
    from sealtui.sandbox.pkikeys import server_key_password

    return server_key_password(db.master)


def test_status_names_the_master_key(instance: sandbox.SandboxStatus, tmp_path: Path, capsys):
    capsys.readouterr()
    args = ["sandbox", "status", "--root-dir", str(instance.root_dir), "--master-key-dir", str(tmp_path / "keys")]
    assert main(args) == 0
    assert f"master key   {tmp_path / 'keys' / instance.kms_instance_id}.key" in capsys.readouterr().out


def test_storage_failure_is_a_500_with_one_log_line(instance: sandbox.SandboxStatus, tmp_path: Path):
    from sealtui.core.credentials import load_client_key, read_password_file

    lines: list[str] = []
    storage = Storage(instance.root_dir, key_dir=tmp_path / "keys")
    app = KmsApp(storage, log=lines.append)
    client_key = load_client_key(instance.client_key_file, read_password_file(instance.password_file))
    body = proto.serialize("EncryptRequest", KeyId="alias/sealtui-default", Plaintext=b"x")
    headers = signing.signed_headers("Encrypt", body, client_key.key_id, client_key.private_key)
    assert app.handle(headers, body).status == 200
    storage.close()  # what a vanished or unreadable database looks like from the server
    response = app.handle(headers, body)
    assert (response.status, response.error_code) == (500, "InternalFailure")
    assert len(lines) == 1 and "sandbox.db" in lines[0] and "Traceback" not in lines[0]


def test_cli_serve_on_a_busy_port_names_the_port_and_the_fix(instance: sandbox.SandboxStatus, tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        capsys.readouterr()
        args = ["sandbox", "serve", "--root-dir", str(instance.root_dir), "--master-key-dir", str(tmp_path / "keys")]
        code = main([*args, "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 5, err
    assert f"127.0.0.1:{port}" in err and "already in use" in err and "--port 0" in err and "Traceback" not in err
