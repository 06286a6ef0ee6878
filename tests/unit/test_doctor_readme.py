"""The README's doctor walk-through, run for real: its provision commands are what doctor prints, and their paths are
the values' `kid` and vault `name` (and the client key the envelope names)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sealtui.core.lint import inspect

ROOT = Path(__file__).resolve().parents[2]


def block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    after = text.split(f"<!-- {marker} -->\n", 1)[1]
    body = after.split("\n", 1)[1]  # drop the ```lang line
    return body.split("\n```", 1)[0]


def test_the_readme_provision_commands_are_the_values_paths(sandbox, tmp_path):
    script = block("doctor-walkthrough").replace("127.0.0.1:9998", sandbox.endpoint)
    *setup, last = script.replace("\\\n", "").splitlines()
    assert last.startswith("sealtui doctor ")
    (tmp_path / "kms").mkdir()
    (tmp_path / "kms" / "credentials").symlink_to(sandbox.credentials_dir)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for line in (*setup, last):
        done = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, (line, done.stderr)
    out = done.stdout

    shown = out.replace(sandbox.client_key_id, "<client-key-id>").replace(sandbox.kms_instance_id, "<instance-id>")
    assert shown == block("doctor-provision") + "\n"

    vault = inspect((tmp_path / "vault.txt").read_text())
    envelope = inspect((tmp_path / "sealed.txt").read_text())
    kid = vault.signature.kid
    assert kid and envelope.signature.kid == kid
    kid_path, name_path = kid.removeprefix("kbs:///"), vault.payload["name"].removeprefix("kbs:///")
    for auth in ("--admin-token-file admin-token", "--auth-private-key kbs-private.pem"):
        assert f"config {auth} set-resource --path {kid_path} --resource-file default_signing_my-key-public.json" in out
        assert f"config {auth} set-resource --path {name_path} --resource-file ./db-password" in out
    for path, source in ((kid_path, "default_signing_my-key-public.json"), (name_path, "./db-password")):
        repo, secret, key = path.split("/")
        assert repo == "default"
        assert f"kubectl create secret generic {secret} -n trustee-operator-system --from-file={key}={source}" in out
    settings = envelope.payload["provider_settings"]
    guest = "/run/confidential-containers/cdh/kbs/kms-credential/aliyun"
    for name in (f"clientKey_{settings['client_key_id']}.json", f"password_{settings['client_key_id']}.json",
                 f"PrivateKmsCA_{settings['kms_instance_id']}.pem"):
        assert f"--path default/aliyun-kms/{name} --resource-file kms/credentials/{name}" in out
        assert f'resource_uri = "kbs:///default/aliyun-kms/{name}"\npath = "{guest}/{name}"' in out
        assert (tmp_path / "kms" / "credentials" / name).is_file()  # the file named is the one CDH needs
