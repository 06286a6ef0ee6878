"""The core CLI commands, run as real processes; exit codes as documented; never a traceback."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import GC

SEALTUI = [sys.executable, "-m", "sealtui"]


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SEALTUI, *args], input=stdin if stdin is not None else "", capture_output=True,
                          text=True, cwd=cwd, timeout=60)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    r = run("keygen", "--kid", "demo", "--output-dir", str(d))
    assert r.returncode == 0, r.stderr
    return d / "demo-private.json", d / "demo-public.json"


@pytest.fixture(scope="module")
def sealed(keys):
    r = run("seal", "vault", "--resource-uri", "kbs:///default/key/1", "--provider", "kbs",
            "--signing-jwk", str(keys[0]), "--no-newline")
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_keygen_files_and_modes(keys):
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert "d" in json.loads(private.read_text()) and "d" not in json.loads(public.read_text())
    again = run("keygen", "--kid", "demo", "--output-dir", str(private.parent))
    assert again.returncode == 3 and "already exists" in again.stderr


def test_seal_vault_prints_only_the_sealed_string(keys, sealed):
    assert sealed.startswith("sealed.") and "\n" not in sealed
    r = run("seal", "vault", "--resource-uri", "kbs:///default/key/1", "--signing-jwk", str(keys[0]))
    assert r.stdout == r.stdout.strip()  # into a pipe: no newline, as CDH needs
    assert "provision the secret" in r.stderr


def test_seal_vault_refuses_two_slash_uri(keys):
    r = run("seal", "vault", "--resource-uri", "kbs://default/key/1", "--signing-jwk", str(keys[0]))
    assert r.returncode == 3 and "kbs:///default/key/1" in r.stderr and not r.stdout


def test_inspect_json_and_verify(keys, sealed):
    r = run("inspect", "--json", sealed)
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["form"] == "signed-jws" and report["verdicts"]["cdh"] == "needs-key"
    r = run("inspect", "--json", "--jwk", str(keys[1]), "-", stdin=sealed)
    assert json.loads(r.stdout)["signature"]["verified"] is True
    assert run("verify", "--jwk", str(keys[1]), sealed).returncode == 0
    tampered = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    bad = run("verify", "--jwk", str(keys[1]), tampered)
    assert bad.returncode == 4 and "does not verify" in bad.stderr


def test_verify_with_upstream_key_fails_cleanly(sealed):
    r = run("verify", "--jwk", str(GC / "test-key.json"), sealed)
    assert r.returncode == 4


def test_inspect_from_file_keeps_the_trailing_newline(tmp_path, sealed):
    f = tmp_path / "s.txt"
    f.write_text(sealed + "\n")
    r = run("inspect", "-f", str(f))
    assert "trailing-whitespace" in r.stdout
    assert run("inspect", "--check", "-f", str(f)).returncode == 3


def test_manifest_from_args_and_stdin(sealed):
    r = run("manifest", "--name", "app", "--namespace", "ns", "--key", f"token={sealed}")
    assert r.returncode == 0 and f"token: {sealed}" in r.stdout
    r2 = run("manifest", "--name", "app", "--format", "kubectl", stdin=f"token={sealed}\n")
    assert r2.stdout.startswith("kubectl create secret generic app")
    r3 = run("manifest", "--name", "app", "--data", "--key", f"token={sealed}")
    assert base64.b64encode(sealed.encode()).decode() in r3.stdout


MALFORMED = ["", "\n", "sealed.", "sealed..", "sealed.a.b.c", "sealed.fakejwsheader.!!!.fakesignature",
             "sealed.e30", "{", "{}", "[1,2]", "null", "\x00\x01", "sealed." + "A" * 5000, "é" * 50,
             "sealed.fakejwsheader.eyJ2ZXJzaW9uIjoxfQ.fakesignature", "a.b.c", "Sealed.x.y.z",
             "sealed.eyJhbGciOiJub25lIn0.e30.", "\udcff" if False else "\u202e"]


@pytest.mark.parametrize("text", MALFORMED)
def test_cli_never_prints_a_traceback(tmp_path, text):
    f = tmp_path / "in.txt"
    f.write_text(text)
    for args, stdin in ((["inspect", "-f", str(f)], None), (["inspect", "--json", "-"], text),
                        (["verify", "--jwk", str(GC / "test-key.json"), "-f", str(f)], None),
                        (["manifest", "--name", "x"], f"k={text}"),
                        (["scan", str(f)], None), (["diff", str(f), "sealed.a.b.c"], None),
                        (["resign", "--signing-jwk", str(GC / "test-key.json"), "-f", str(f)], None)):
        r = run(*args, stdin=stdin)
        assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
        assert r.returncode in (0, 1, 2, 3, 4), (args, r.stderr)


@pytest.mark.parametrize("args, code", [
    (["verify", "--jwk", "/nonexistent.json", "sealed.a.b.c"], 3),
    (["inspect", "-f", "/nonexistent"], 3),
    (["seal"], 2),
    (["nonsense"], 2),
    (["keygen", "--kid", "x", "--output-dir", "/dev/null/keys"], 3),
    (["seal", "vault", "--resource-uri", "kbs:///a/b/c", "--signing-jwk", str(GC / "test-key-2.json")], 3),
])
def test_exit_codes(args, code):
    r = run(*args)
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr


def test_binary_file_input_is_a_clean_error(tmp_path):
    f = tmp_path / "bin"
    f.write_bytes(os.urandom(64) + b"\xff")
    r = run("inspect", "-f", str(f))
    assert r.returncode == 3 and "not UTF-8" in r.stderr


def _limited(max_bytes: int = 1 << 30) -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_special_files_are_refused_at_once(tmp_path, special):
    """`-f /dev/zero` would be read until memory runs out, and a FIFO would wait for a writer forever."""
    if special == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    else:
        path = Path(special)
    r = subprocess.run([*SEALTUI, "inspect", "-f", str(path)], capture_output=True, text=True, timeout=30,
                       preexec_fn=_limited)  # a memory cap: the unfixed bug fails fast
    assert r.returncode == 3, r.stderr
    assert f"{path} is a" in r.stderr and "not a regular file" in r.stderr and "fix:" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_directory_of_manifests_with_a_fifo_is_scanned_without_blocking(tmp_path, sealed, capsys):
    from sealtui.cli import main

    (tmp_path / "ok.yaml").write_text(f"kind: Secret\nmetadata:\n  name: a\nstringData:\n  k: {sealed}\n")
    os.mkfifo(tmp_path / "pipe.yaml")
    assert main(["scan", str(tmp_path), "--json", "--consumer", "cdh-skip-verification"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files"] == 1 and len(out["values"]) == 1


def test_help_states_the_file_size_limit():
    from sealtui.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    seal = next(a for a in subparsers["seal"]._actions if a.dest == "seal_type").choices
    for command in (subparsers["inspect"], seal["envelope"], subparsers["scan"]):
        assert "64 MiB" in command.format_help()


def test_verify_exits_4_on_a_payload_changed_after_signing(keys, sealed):
    _, h, _, s = sealed.split(".")
    payload = base64.urlsafe_b64encode(json.dumps({"version": "0.1.0", "type": "vault",
                                                   "name": "kbs:///default/key/1"}).encode()).rstrip(b"=").decode()
    r = run("verify", "--jwk", str(keys[1]), f"sealed.{h}.{payload}.{s}")
    assert r.returncode == 4, r.stderr
    assert "signature does not match" in r.stderr and "Traceback" not in r.stderr
    assert "also:" in r.stderr  # the payload's own problems, after the signature's
