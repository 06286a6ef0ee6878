"""What a new user trips over in the CLI (issue 11, items 1–9 and 22), each run as a real process.

Each test is named after the item of the issue it shows; the ones that need a KMS are in
tests/integration/test_newcomer_kms_cli.py.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SEALTUI = [sys.executable, "-m", "sealtui"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, stdin: str | bytes = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run([*SEALTUI, *map(str, args)], input=data, capture_output=True, cwd=cwd, timeout=60)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


def clean(r: subprocess.CompletedProcess[str]) -> None:
    """No traceback and no raw Python codec text ever reaches a user."""
    for text in (r.stdout, r.stderr):
        assert "Traceback" not in text and "codec can't" not in text, text


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a key pair and two sealed values in files named as the README names them."""
    d = tmp_path_factory.mktemp("work")
    assert run("keygen", "--kid", "demo", "--output-dir", ".", cwd=d).returncode == 0
    for name, tag in (("sealed.txt", "1"), ("sealed2.txt", "2")):
        r = run("seal", "vault", "--resource-uri", f"kbs:///default/key/{tag}", "--signing-jwk", "demo-private.json",
                cwd=d)
        assert r.returncode == 0, r.stderr
        (d / name).write_text(r.stdout)
    return d


# --- 1. an argument naming a file is read as the file; `-` is standard input; --text forces the literal -----------


def test_item01_diff_reads_the_files_it_is_given(work):
    r = run("diff", "sealed.txt", "sealed2.txt", cwd=work)
    clean(r)
    assert r.returncode == 1, r.stderr
    assert "kbs:///default/key/1" in r.stdout and "kbs:///default/key/2" in r.stdout
    assert "length" not in r.stdout  # the two values have the same length; the file names do not
    same = run("diff", "sealed.txt", str(work / "sealed.txt"), cwd=work)
    assert same.returncode == 0 and same.stdout == ""


def test_item01_diff_of_a_missing_file_says_no_such_file(work):
    r = run("diff", "/nonexistent", "x", cwd=work)
    clean(r)
    assert r.returncode == 3
    assert "/nonexistent: no such file" in r.stderr and not r.stdout


def test_item01_diff_of_two_values_that_are_not_sealed_is_an_error(work):
    r = run("diff", "hello", "world", cwd=work)
    clean(r)
    assert r.returncode == 3 and not r.stdout
    assert "'hello'" in r.stderr and "not a sealed value" in r.stderr


def test_item01_diff_reads_standard_input_for_dash(work):
    r = run("diff", "-", "sealed2.txt", stdin=(work / "sealed.txt").read_text(), cwd=work)
    assert r.returncode == 1 and "kbs:///default/key/1" in r.stdout and "kbs:///default/key/2" in r.stdout, r.stderr


def test_item01_every_value_argument_reads_an_existing_file(work):
    inspected = run("inspect", "--json", "sealed.txt", cwd=work)
    assert inspected.returncode == 0 and json.loads(inspected.stdout)["form"] == "signed-jws", inspected.stderr
    verified = run("verify", "--jwk", "demo-public.json", "sealed.txt", cwd=work)
    assert verified.returncode == 0 and "verified" in verified.stdout, verified.stderr
    resigned = run("resign", "--signing-jwk", "demo-private.json", "--signing-kid", "other", "sealed.txt", cwd=work)
    assert resigned.returncode == 0 and resigned.stdout.startswith("sealed."), resigned.stderr


@pytest.mark.parametrize("command", [
    ["inspect"], ["verify", "--jwk", "demo-public.json"], ["resign", "--signing-jwk", "demo-private.json"],
    ["unseal", "--credentials-dir", ".", "--skip-verification", "--stdout"],
])
def test_item01_a_missing_file_is_an_error_everywhere(work, command):
    r = run(*command, "missing/sealed.txt", cwd=work)
    clean(r)
    assert r.returncode == 3, r.stderr
    assert "missing/sealed.txt: no such file" in r.stderr and "--text" in r.stderr


def test_item01_text_and_file_force_either_reading(work):
    literal = run("inspect", "--json", "--text", "sealed.txt", cwd=work)  # the file exists; --text takes the words
    assert literal.returncode == 0 and json.loads(literal.stdout)["input_length"] == len("sealed.txt"), literal.stderr
    forced = run("inspect", "-f", "sealed.x.y", cwd=work)
    assert forced.returncode == 3 and "sealed.x.y: no such file" in forced.stderr
    both = run("diff", "--text", "sealed.txt", "sealed2.txt", cwd=work)
    assert both.returncode == 3 and "not a sealed value" in both.stderr
    for command in ("inspect", "verify", "resign", "unseal", "diff"):
        assert "--text" in run(command, "--help").stdout


def test_item01_manifest_key_reads_a_file(work):
    r = run("manifest", "--name", "app", "--key", "token=sealed.txt", cwd=work)
    assert r.returncode == 0, r.stderr
    assert f"token: {(work / 'sealed.txt').read_text().strip()}" in r.stdout


# --- 2. binary files: a message naming the file, no traceback, no codec text --------------------------------------


def test_item02_scan_with_a_binary_kid_map_names_the_file(work, tmp_path):
    k8s = tmp_path / "k8s"
    k8s.mkdir()
    sealed = (work / "sealed.txt").read_text()
    (k8s / "s.yaml").write_text(f"kind: Secret\nmetadata:\n  name: a\nstringData:\n  k: {sealed}\n")
    binary = tmp_path / "kids.bin"
    for data in (bytes(range(256)), b"\x00\x01\x02 nul bytes"):
        binary.write_bytes(data)
        r = run("scan", k8s, "--kid-map", binary)
        clean(r)
        assert r.returncode == 3 and str(binary) in r.stderr, r.stderr
        assert "<unicode string>" not in r.stderr and len(r.stderr.splitlines()) <= 2, r.stderr
    kid_map = tmp_path / "kids.yaml"
    kid_map.write_text(f"demo: {binary}\n")
    binary.write_bytes(bytes(range(128, 256)))
    r = run("scan", k8s, "--kid-map", kid_map)
    clean(r)
    assert r.returncode == 3 and str(binary) in r.stderr and "'demo'" in r.stderr


def test_item02_scan_of_a_binary_file_names_it_once(tmp_path):
    binary = tmp_path / "blob.yaml"
    binary.write_bytes(bytes(range(128, 256)))
    r = run("scan", binary)
    clean(r)
    assert r.returncode == 3
    assert r.stderr.count(str(binary)) == 1 and "not UTF-8" in r.stderr, r.stderr


# --- 3. a key that cannot be read is an error for inspect as for verify, unseal and scan ---------------------------


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_item03_inspect_with_a_missing_jwk_exits_3(work, check):
    r = run("inspect", "-f", "sealed.txt", "--jwk", "/nonexistent.json", *check, cwd=work)
    clean(r)
    assert r.returncode == 3, r.stdout
    assert "/nonexistent.json: no such file" in r.stderr and not r.stdout


@pytest.mark.parametrize("text", ["sealed.fakejwsheader.e30.fakesignature", "sealed.a.b.c", "hello", "{}"])
def test_item03_no_finding_has_an_empty_for_line(work, text):
    for args in (["inspect", "--text", text], ["inspect", "--text", text, "--jwk", "demo-public.json"]):
        r = run(*args, cwd=work)
        assert not re.search(r"for:\s*$", r.stdout, re.MULTILINE), r.stdout


# --- 7. keygen creates its directory -------------------------------------------------------------------------------


def test_item07_keygen_creates_the_output_directory(tmp_path):
    r = run("keygen", "--kid", "my-key", "--output-dir", "newdir/keys", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE((tmp_path / "newdir" / "keys").stat().st_mode) == 0o700
    assert (tmp_path / "newdir" / "keys" / "my-key-private.json").is_file()


def test_item07_the_readme_api_example_creates_keys_dir(tmp_path, monkeypatch):
    import sealtui

    monkeypatch.chdir(tmp_path)
    files = sealtui.keygen("my-key", "keys/")
    assert files.private_path == Path("keys/my-key-private.json") and files.private_path.is_file()
    assert stat.S_IMODE(Path("keys").stat().st_mode) == 0o700


def test_item07_keygen_from_kms_checks_the_output_before_the_kms(tmp_path):
    (tmp_path / "signing-public.json").write_text("{}")
    r = run("keygen", "--kid", "signing", "--from-kms", "alias/sealtui-signing", "--credentials-dir", "nowhere",
            cwd=tmp_path)
    assert r.returncode == 3
    assert "signing-public.json already exists" in r.stderr, r.stderr  # not the missing credentials


# --- 8. one rule for the files sealtui writes ----------------------------------------------------------------------


def test_item08_files_are_new_and_0600_except_public_jwks(work, tmp_path):
    from sealtui.core.files import write_new_file, write_public_file

    assert stat.S_IMODE(write_new_file(tmp_path / "a", b"x").stat().st_mode) == 0o600
    assert stat.S_IMODE(write_public_file(tmp_path / "b.json", b"{}").stat().st_mode) == 0o644
    r = run("keygen", "--kid", "k", "--output-dir", tmp_path)
    assert r.returncode == 0
    assert stat.S_IMODE((tmp_path / "k-private.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "k-public.json").stat().st_mode) == 0o644
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"kind: Secret\nmetadata:\n  name: a\nstringData:\n  k: {(work / 'sealed.txt').read_text()}\n")
    out = tmp_path / "out.yaml"
    r = run("resign", "--manifest", manifest, "-o", out, "--signing-jwk", work / "demo-private.json",
            "--signing-kid", "new")
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = run("resign", "--manifest", manifest, "-o", out, "--signing-jwk", work / "demo-private.json",
                "--signing-kid", "new")
    assert again.returncode == 3 and "already exists" in again.stderr


def test_item08_no_writer_chooses_its_own_mode():
    """Every file is written through sealtui.core.files (the sandbox's state directory and the settings file, which
    are sealtui's own state, follow their own rules)."""
    offenders = []
    for path in (ROOT / "sealtui").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("sealtui/core/files.py", "sealtui/service/settings.py") or rel.startswith("sealtui/sandbox/"):
            continue
        text = path.read_text()
        if re.search(r"write_new_file\([^)]*mode=|os\.open\([^)]*O_CREAT|\.write_(text|bytes)\(", text):
            offenders.append(rel)
    assert offenders == []


# --- 9. a sealed string and the newline -----------------------------------------------------------------------------


def _in_a_terminal(*args: str | Path, cwd: Path) -> str:
    """Run with stdout on a pseudo-terminal; return what it printed there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*SEALTUI, *map(str, args)], stdout=follower, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, cwd=cwd)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return out.decode()


@pytest.mark.parametrize("command", [
    ["seal", "vault", "--resource-uri", "kbs:///default/key/1", "--signing-jwk", "demo-private.json"],
    ["resign", "--signing-jwk", "demo-private.json", "--signing-kid", "other", "sealed.txt"],
])
def test_item09_no_newline_into_a_pipe_or_file_a_newline_on_a_terminal(work, command):
    piped = run(*command, cwd=work)
    assert piped.returncode == 0 and piped.stdout.startswith("sealed.") and "\n" not in piped.stdout
    verify = run("verify", "--jwk", "demo-public.json", "-", stdin=piped.stdout, cwd=work)
    assert verify.returncode == 0 and "warning" not in verify.stderr  # nothing CDH would reject
    assert run(*command, "--newline", cwd=work).stdout.endswith("\n")
    assert not run(*command, "--no-newline", cwd=work).stdout.endswith("\n")
    shown = _in_a_terminal(*command, cwd=work)
    assert shown.startswith("sealed.") and shown.endswith("\r\n")
    assert not _in_a_terminal(*command, "--no-newline", cwd=work).endswith("\n")


# --- seal vault --provider: only the providers upstream CDH opens vault secrets with ------------------------------


def test_seal_vault_offers_only_providers_cdh_opens(work):
    from sealtui.core.consumers.providers import UPSTREAM

    r = run("seal", "vault", "--resource-uri", "x", "--provider", "aws", "--signing-jwk", "nonexistent.json", cwd=work)
    assert r.returncode == 2 and "aws" in r.stderr and "kbs, aliyun" in r.stderr, r.stderr
    assert "nonexistent.json" not in r.stderr  # said before the key is even read
    help_text = run("seal", "vault", "--help").stdout
    assert "{" + ",".join(UPSTREAM.getters) + "}" in help_text


# --- 22. the README's synopsis is what --help says ----------------------------------------------------------------


SIGNER = {"--signing-jwk", "--signing-key", "--signing-kid", "--credentials-dir", "--endpoint"}
"""What `SIGNER` stands for in the README's synopsis (the KMS options only for signing with a KMS-held key)."""
KMS = {"--credentials-dir", "--client-key-file", "--password-file", "--cert-path", "--kms-instance-id", "--endpoint"}
"""What `KMS` stands for: the credentials, as a directory or the three files, and the endpoint."""


def _synopsis() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## The CLI\n", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    lines: dict[str, str] = {}
    for line in block.replace("\\\n", " ").splitlines():
        words = line.split()
        assert words[0] == "sealtui", line
        name = " ".join(w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w))
        lines[name] = line
    return lines


def _commands() -> dict[str, argparse.ArgumentParser]:
    from sealtui.cli import build_parser

    def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    out: dict[str, argparse.ArgumentParser] = {}
    for name, sub in subcommands(build_parser()).items():
        children = subcommands(sub)
        if children and name != "sandbox":  # `sandbox …` is summed up in one line
            out.update({f"{name} {child}": p for child, p in children.items()})
        else:
            out[name] = sub
    return out


def test_item22_the_readme_synopsis_matches_help():
    synopsis, commands = _synopsis(), _commands()
    assert set(synopsis) == set(commands)
    for name, parser in commands.items():
        if name == "sandbox":
            continue
        actions = [set(a.option_strings) for a in parser._actions if a.option_strings and a.dest != "help"]
        line = synopsis[name]
        shown = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", line))
        shown |= SIGNER if re.search(r"\bSIGNER\b", line) else set()
        shown |= KMS if re.search(r"\bKMS\b", line) else set()
        known = set().union(*actions)
        assert shown <= known, (name, "not an option", shown - known)
        missing = [sorted(a) for a in actions if not a & shown]
        assert not missing, (name, "not in the README", missing)


def test_item22_the_readme_names_every_screen_key():
    text = (ROOT / "README.md").read_text()
    assert "F2–F7 switch screens" not in text


# --- 11 (CLI half). keygen and seal default to a kid Trustee serves, and warn on a file-name kid -------------------


def test_item11_keygen_defaults_to_a_kbs_kid_and_says_where_to_upload_it(tmp_path):
    r = run("keygen", "--output-dir", "keys", cwd=tmp_path)
    clean(r)
    assert r.returncode == 0, r.stderr
    public = json.loads((tmp_path / "keys" / "default_sealtui-signing_jwk-public.json").read_text())
    assert public["kid"] == "kbs:///default/sealtui-signing/jwk"
    assert "set-resource --path default/sealtui-signing/jwk" in r.stderr
    assert "warning" not in r.stderr


def test_item11_a_file_name_kid_is_warned_about_at_keygen_and_at_sealing(tmp_path):
    r = run("keygen", "--kid", "my-key", "--output-dir", ".", cwd=tmp_path)
    assert r.returncode == 0 and "warning: kid my-key is a file name" in r.stderr, r.stderr
    r = run("seal", "vault", "--resource-uri", "kbs:///default/app/db", "--provider", "kbs",
            "--signing-jwk", "my-key-private.json", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("sealed."), r.stderr
    assert "warning: kid my-key is a file name" in r.stderr
