"""`sealtui sandbox …` commands, run in-process through the real argument parser."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from sealtui.cli import main
from tests.paths import ALIYUN

VECTORS = ALIYUN


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "root"
    assert main(["sandbox", "init", "--root-dir", str(path)]) == 0
    return path


def _status(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["sandbox", "status", "--root-dir", str(root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_group_without_subcommand_is_usage(capsys):
    assert main(["sandbox"]) == 2
    assert "init" in capsys.readouterr().err


def test_status_json(root: Path, capsys):
    status = _status(root, capsys)
    assert {"endpoint", "kms_instance_id", "client_key_id", "credentials_dir", "keys"} <= set(status)
    assert status["running"] is False and status["kms_instance_id"].startswith("kst-")
    assert {k["spec"] for k in status["keys"]} == {"Aliyun_AES_256", "EC_P256"}


def test_root_dir_from_environment(root: Path, capsys, monkeypatch):
    monkeypatch.setenv("KMS_ROOT_DIR", str(root))
    capsys.readouterr()
    assert main(["sandbox", "status"]) == 0
    assert "alias/sealtui-default" in capsys.readouterr().out


def test_init_twice_is_an_input_error(root: Path, capsys):
    assert main(["sandbox", "init", "--root-dir", str(root)]) == 3
    err = capsys.readouterr().err
    assert "already holds a sandbox instance" in err and "fix:" in err and "Traceback" not in err


def test_status_of_nothing_is_an_input_error(tmp_path: Path, capsys):
    assert main(["sandbox", "status", "--root-dir", str(tmp_path)]) == 3
    assert "sealtui sandbox init" in capsys.readouterr().err


def test_create_key_state_grant_revoke(root: Path, capsys):
    capsys.readouterr()
    args = ["--root-dir", str(root)]
    assert main(["sandbox", "create-key", *args, "--spec", "EC_P256", "--alias", "alias/cli", "--json"]) == 0
    key = json.loads(capsys.readouterr().out)
    assert key["spec"] == "EC_P256" and key["aliases"] == ["alias/cli"]
    assert main(["sandbox", "set-key-state", *args, "alias/cli", "Deactivated"]) == 0
    assert main(["sandbox", "revoke", *args, "alias/cli"]) == 0
    assert main(["sandbox", "grant", *args, "alias/cli", "--operation", "Sign"]) == 0
    assert main(["sandbox", "grant", *args, "alias/missing"]) == 3
    keys = {k["id"]: k for k in _status(root, capsys)["keys"]}
    assert keys[key["id"]]["state"] == "Deactivated"


def test_put_secret_reads_stdin_or_file_never_argv(root: Path, capsys, monkeypatch, tmp_path: Path):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"from-stdin")))
    assert main(["sandbox", "put-secret", "--root-dir", str(root), "s1"]) == 0
    value = tmp_path / "value"
    value.write_bytes(b"from-file")
    assert main(["sandbox", "put-secret", "--root-dir", str(root), "s2", "-f", str(value)]) == 0
    assert {"s1", "s2"} <= set(_status(root, capsys)["secrets"])
    with pytest.raises(SystemExit):  # a value on the command line is not accepted
        main(["sandbox", "put-secret", "--root-dir", str(root), "s3", "the-value"])


@pytest.mark.parametrize("password", ["password_KAAP.gc-test-vector.json", "password_KAAP.gc-test-vector.txt"])
def test_register_the_real_alibaba_client_key(tmp_path_factory, capsys, password):
    root = tmp_path_factory.mktemp("register") / "root"
    assert main(["sandbox", "init", "--root-dir", str(root)]) == 0
    capsys.readouterr()
    key_file = VECTORS / "clientKey_KAAP.gc-test-vector.json"
    argv = ["sandbox", "register-client-key", "--root-dir", str(root), "--client-key-file", str(key_file)]
    assert main([*argv, "--password-file", str(VECTORS / password)]) == 0
    assert capsys.readouterr().out.strip() == "KAAP.gc-test-vector"
    assert "KAAP.gc-test-vector" in _status(root, capsys)["client_key_ids"]


def test_register_with_a_wrong_password_says_so(root: Path, tmp_path: Path, capsys):
    wrong = tmp_path / "pw.txt"
    wrong.write_text("0" * 32)
    key_file = tmp_path / "clientKey_KAAP.gc-test-vector.json"
    shutil.copy(VECTORS / "clientKey_KAAP.gc-test-vector.json", key_file)
    argv = ["sandbox", "register-client-key", "--root-dir", str(root), "--client-key-file", str(key_file)]
    assert main([*argv, "--password-file", str(wrong)]) == 3
    assert "password" in capsys.readouterr().err
