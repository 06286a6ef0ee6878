"""`sealtui doctor` and `sealtui initdata` as a user runs them: output, exit codes, bad input, the shell tools."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sealtui.cli import main
from sealtui.core.doctor.initdata import ANNOTATION
from tests.fixtures.doctor import make_fixtures as mf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "doctor"
ROOT = Path(__file__).resolve().parents[2]


def doctor(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["doctor", *args])
    out, err = capsys.readouterr()
    return code, out, err


def case(name: str) -> list[str]:
    return [str(FIXTURES / name / "app.yaml"), "--kata-version", "3.28", "--trustee", str(FIXTURES / name / "trustee")]


def test_healthy_exits_0(capsys):
    code, out, _ = doctor(capsys, *case("healthy"))
    assert code == 0
    assert "0 check(s) fail, 0 cannot tell" in out


def test_a_failure_exits_3_and_shows_the_guest_message_and_fix_first(capsys):
    code, out, _ = doctor(capsys, *case("10-kbc"))
    assert code == 3
    pod = out.split("  pod:\n", 1)[1]
    assert pod.lstrip().startswith("FAILS 10-kbc")  # failures first
    assert "guest: `offline-fs-kbc: resource not found …`" in pod
    assert 'fix:   [kbc] name = "cc_kbc"' in pod


def test_a_bad_signature_exits_4(capsys, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps(mf.generate_jwk("x").public_dict()))
    code, out, _ = doctor(capsys, str(FIXTURES / "healthy" / "app.yaml"), "--kata-version", "3.28",
                          "--jwk", str(other))
    assert code == 4
    assert "FAILS 17-kid-jwk" in out


def test_cannot_tell_passes_unless_strict(capsys):
    args = [str(FIXTURES / "healthy" / "app.yaml"), "--kata-version", "3.28"]
    assert doctor(capsys, *args)[0] == 0
    assert doctor(capsys, *args, "--strict")[0] == 3


def test_json_has_workloads_containers_values_checks_and_the_plan(capsys):
    code, out, _ = doctor(capsys, *case("13-signature-mode"), "--json")
    data = json.loads(out)
    assert code == 3 and data["would_stay_sealed"] and data["counts"]["fails"] == 1
    (w,) = data["workloads"]
    value = w["containers"][0]["values"][0]
    assert value["status"] == "fails" and value["checks"][0]["id"] == "13-signature-mode"  # failures first
    assert value["text"].startswith("sealed.fakejwsheader.")
    assert w["initdata"]["digest"] and data["provision"]["kbs_client_v0_21"]


def test_provision_only(capsys):
    code, out, _ = doctor(capsys, *case("healthy"), "--provision")
    assert code == 0
    assert out.startswith("# KBS, trustee >= v0.21")
    assert "--admin-token-file admin-token set-resource --path default/signing/pub" in out
    assert "--auth-private-key kbs-private.pem set-resource --path default/signing/pub" in out
    assert "kubectl create secret generic signing -n trustee-operator-system --from-file=pub=" in out


def test_yaml_that_does_not_parse_names_file_and_line(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n")
    code, _, err = doctor(capsys, str(bad))
    assert code == 3
    assert f"{bad}:5:1: not valid YAML" in err


def test_an_annotation_that_is_not_base64_or_not_gzip(capsys, tmp_path):
    text = (FIXTURES / "healthy" / "app.yaml").read_text()
    value = text.split(f"{ANNOTATION}: ", 1)[1].split("\n", 1)[0]
    for bad, expected in (("not*base64!", "not standard padded base64"), ("dmVyc2lvbiA9ICIwLjEuMCIK",
                                                                            "not gzip")):
        f = tmp_path / "app.yaml"
        f.write_text(text.replace(value, bad))
        code, out, _ = doctor(capsys, str(f), "--kata-version", "3.28")
        assert code == 3
        assert "FAILS 04-initdata-encoding" in out and expected in out


def test_toml_errors_keep_their_line(capsys, tmp_path):
    spec = mf.healthy(mf.load_jwk(FIXTURES / "signing-private.json"))
    spec.initdata["cdh.toml"] = "[kbc]\nname = \"cc_kbc\"\nurl = http://kbs\n"
    mf.write(spec, tmp_path / "t")
    code, out, _ = doctor(capsys, str(tmp_path / "t" / "app.yaml"), "--kata-version", "3.28")
    assert code == 3
    assert "FAILS 09-cdh-toml-parses" in out and "cdh.toml is not valid TOML" in out and "line 3" in out


def test_unknown_kata_version_is_a_usage_message(capsys):
    code, _, err = doctor(capsys, str(FIXTURES / "healthy" / "app.yaml"), "--kata-version", "latest")
    assert code == 3 and "--kata-version 3.28.0" in err


# --- initdata, checked with the real shell tools --------------------------------------------------------------

def sealtui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sealtui", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


@pytest.mark.skipif(not all(shutil.which(t) for t in ("base64", "gunzip", "sha256sum")), reason="coreutils")
@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_initdata_round_trips_through_base64_and_gunzip(tmp_path, algorithm):
    toml = mf.build_initdata({"aa.toml": mf.aa_toml(), "cdh.toml": mf.cdh_toml()}, algorithm)
    (tmp_path / "initdata.toml").write_text(toml)
    done = sealtui("initdata", "--from-toml", "initdata.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    annotation = done.stdout
    assert annotation.count("\n") == 1 and " " not in annotation and len(annotation.strip()) % 4 == 0
    decoded = subprocess.run(["sh", "-c", "base64 -d | gunzip"], input=annotation.encode(), capture_output=True,
                             check=True).stdout
    assert decoded == (tmp_path / "initdata.toml").read_bytes()
    expected = subprocess.run([f"{algorithm}sum", "initdata.toml"], cwd=tmp_path, capture_output=True, text=True,
                              check=True).stdout.split()[0]
    assert done.stderr.split()[:2] == [algorithm, expected]


def test_generated_initdata_is_what_doctor_calls_healthy(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    done = sealtui("initdata", "--kbs-url", "https://kbs.example:8443", "--kbs-ca", "ca.pem", "--json",
                   "--credential", f"kbs:///default/aliyun-kms/x.json={mf.ALIYUN_DIR}/x.json",
                   "--toml-out", "initdata.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["toml"].encode() == (tmp_path / "initdata.toml").read_bytes()
    assert subprocess.run(["sha384sum", "initdata.toml"], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout.split()[0] == data["digest"]
    # doctor reads it back: same KBS and CA in aa.toml and cdh.toml, default socket, legal credential path
    back = sealtui("initdata", "--decode", data["annotation"], cwd=tmp_path)
    assert back.stdout == data["toml"] and back.stderr.split()[1] == data["digest"]
    spec = mf.healthy(mf.load_jwk(FIXTURES / "signing-private.json"))
    spec.annotation = data["annotation"]
    mf.write(spec, tmp_path / "d")
    out = sealtui("doctor", "d/app.yaml", "--kata-version", "3.28", "--json", cwd=tmp_path)
    checks = {c["id"]: c["status"] for c in json.loads(out.stdout)["workloads"][0]["checks"]}
    assert checks["09-cdh-toml-parses"] == checks["10-kbc"] == checks["11-cdh-socket"] == checks["12-aa-kbs"] == "ok"


def test_initdata_refuses_what_kata_would(tmp_path):
    (tmp_path / "bad.toml").write_text('version = "0.1.0"\nalgorithm = "sha-256"\n[data]\n')
    done = sealtui("initdata", "--from-toml", "bad.toml", cwd=tmp_path)
    assert done.returncode == 3 and "unsupported algorithm: sha-256" in done.stderr
    (tmp_path / "cdh.toml").write_text("[kbc]\nname = \n")
    (tmp_path / "aa.toml").write_text(mf.aa_toml())
    done = sealtui("initdata", "--aa-toml", "aa.toml", "--cdh-toml", "cdh.toml", cwd=tmp_path)
    assert done.returncode == 3 and "line 2" in done.stderr
    done = sealtui("initdata", "--kbs-url", "kbs.example:8080", cwd=tmp_path)
    assert done.returncode == 2 and "http(s)://" in done.stderr
