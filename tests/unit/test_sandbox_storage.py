"""Sandbox storage: schema, permissions, states, secrets, encryption at rest, file modes, live visibility."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from sealtui import sandbox
from sealtui.core.errors import InvalidInputError
from sealtui.sandbox.storage import Storage


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> sandbox.SandboxStatus:
    return sandbox.init_instance(tmp_path_factory.mktemp("storage") / "root")


def test_init_layout_and_credentials(instance: sandbox.SandboxStatus):
    names = sorted(p.name for p in instance.credentials_dir.iterdir())
    cid, kst = instance.client_key_id, instance.kms_instance_id
    assert names == sorted([f"clientKey_{cid}.json", f"password_{cid}.json", f"PrivateKmsCA_{kst}.pem"])
    password = instance.password_file.read_text()
    assert len(password) == 32 and not password.endswith("\n")  # raw text, as CDH reads it
    assert [(k.spec, k.aliases, k.state) for k in instance.keys] == [
        ("Aliyun_AES_256", ["alias/sealtui-default"], "Active"),
        ("EC_P256", ["alias/sealtui-signing"], "Active"),
    ]
    assert not instance.running and instance.endpoint == "127.0.0.1:9998"
    assert instance.to_dict()["keys"][0]["aliases"] == ["alias/sealtui-default"]


def test_core_tables_follow_the_design(instance: sandbox.SandboxStatus):
    db = sqlite3.connect(instance.root_dir / "sandbox.db")
    try:
        columns = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in ("objects", "read_access")}
        assert {"id", "object", "state", "owner"} <= set(columns["objects"])
        assert columns["read_access"] == ["id", "userid", "permissions"]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        perms = db.execute("SELECT permissions FROM read_access WHERE id = ?", (instance.default_key_id,)).fetchone()
        assert "Encrypt" in perms[0]
    finally:
        db.close()


def test_refuses_to_init_twice_or_into_a_non_empty_dir(instance: sandbox.SandboxStatus, tmp_path: Path):
    with pytest.raises(InvalidInputError, match="already holds a sandbox"):
        sandbox.init_instance(instance.root_dir)
    (tmp_path / "something").write_text("x")
    with pytest.raises(InvalidInputError, match="not empty"):
        sandbox.init_instance(tmp_path)


def test_status_of_a_missing_instance_says_to_init(tmp_path: Path):
    with pytest.raises(InvalidInputError) as e:
        sandbox.load_status(tmp_path)
    assert e.value.fix and "sandbox init" in e.value.fix


def test_key_material_is_encrypted_at_rest(instance: sandbox.SandboxStatus):
    with Storage(instance.root_dir) as db:
        key = db.key_for(instance.default_key_id or "", instance.client_key_id)
    assert key is not None and len(key.material) == 32
    for path in instance.root_dir.iterdir():
        if path.name.startswith("sandbox.db"):
            assert key.material not in path.read_bytes()


def test_every_file_is_0600_and_every_dir_0700(instance: sandbox.SandboxStatus):
    sandbox.create_key(instance.root_dir)  # leave a -wal file around while a server runs
    with sandbox.start_in_thread(instance.root_dir):
        sandbox.create_key(instance.root_dir, "EC_P256")
        entries = [instance.root_dir, *instance.root_dir.rglob("*")]
        for path in entries:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), path
        assert any(p.name.endswith("-wal") for p in entries)


def test_states_aliases_and_errors(instance: sandbox.SandboxStatus):
    root = instance.root_dir
    key = sandbox.create_key(root, "EC_P256", alias="alias/test-states", state="PreActive")
    assert (key.spec, key.state, key.aliases) == ("EC_P256", "PreActive", ["alias/test-states"])
    assert sandbox.set_key_state(root, "alias/test-states", "Destroyed_Compromised").state == "Destroyed_Compromised"
    with pytest.raises(InvalidInputError, match="already taken"):
        sandbox.create_key(root, alias="alias/test-states")
    with pytest.raises(InvalidInputError, match="not valid"):
        sandbox.create_key(root, alias="no-prefix")
    with pytest.raises(InvalidInputError, match="unknown key state"):
        sandbox.set_key_state(root, key.id, "Enabled")
    with pytest.raises(InvalidInputError, match="unknown key spec"):
        sandbox.create_key(root, "RSA_2048")
    with pytest.raises(InvalidInputError, match="no key, alias or secret"):
        sandbox.set_key_state(root, "key-missing", "Active")


def test_grant_revoke_and_visibility_across_connections(instance: sandbox.SandboxStatus):
    root, client = instance.root_dir, instance.client_key_id
    with Storage(root) as reader:  # stands for the server: opened before the changes are made
        key = sandbox.create_key(root, grant_to=[])
        record = reader.key_for(key.id, client)
        assert record is not None and record.permissions == frozenset()
        sandbox.grant(root, key.id, operations=["Encrypt"])
        assert reader.key_for(key.id, client).permissions == {"Encrypt"}  # type: ignore[union-attr]
        sandbox.grant(root, key.id)
        assert "Decrypt" in reader.key_for(key.id, client).permissions  # type: ignore[union-attr]
        sandbox.revoke(root, key.id)
        assert reader.key_for(key.id, client).permissions == frozenset()  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match="cannot be granted"):
        sandbox.grant(root, key.id, operations=["GetSecretValue"])
    with pytest.raises(InvalidInputError, match="no client key"):
        sandbox.grant(root, key.id, client_key_id="KAAP.nobody")


def test_secrets_versions_and_binary(instance: sandbox.SandboxStatus):
    root, client = instance.root_dir, instance.client_key_id
    v1 = sandbox.put_secret(root, "app/token", "one")
    v2 = sandbox.put_secret(root, "app/token", b"\xff\x00")
    with Storage(root) as db:
        current = db.secret_for("app/token", client)
        previous = db.secret_for("app/token", client, stage="ACSPrevious")
        by_id = db.secret_for("app/token", client, version_id=v1)
        assert db.secret_for("app/token", client, version_id="nope") is None
    assert current and (current.version_id, current.data, current.data_type) == (v2, b"\xff\x00", "binary")
    assert previous and by_id and previous.data == by_id.data == b"one" and by_id.stages == ("ACSPrevious",)
    assert "app/token" in sandbox.load_status(root).secrets
    with pytest.raises(InvalidInputError, match="not valid"):
        sandbox.put_secret(root, "bad name!", "x")
