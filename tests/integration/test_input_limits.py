"""Every file argument of the CLI refuses what is not a regular file at once (exit 3, a message naming it):
`/dev/zero` would be read until memory runs out, a FIFO would wait for a writer forever.

The commands run through the CLI's `main` in a child process of their own, one after the other, each under a
10-second alarm and the child under an address-space cap: the unfixed behaviour shows as "hung" or a
MemoryError instead of stalling the suite. Nothing here talks to a server (the endpoints given are never reached).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sealtui.core.jws import JwkSigner, generate_jwk, keygen
from sealtui.core.vault import seal_vault
from tests.paths import ALIYUN, ROOT

NOWHERE = "127.0.0.1:9"
"""An endpoint for commands that fail before any connection (the discard port; nothing is sent)."""

DRIVER = r"""
import contextlib, io, json, resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from sealtui.cli import main

class Hung(BaseException):
    pass

def on_alarm(*_):
    raise Hung()

signal.signal(signal.SIGALRM, on_alarm)
results = []
for argv in json.load(open(sys.argv[1])):
    err, out = io.StringIO(), io.StringIO()
    signal.alarm(10)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except Hung:
        code = "hung"
    except BaseException as e:
        code = f"{type(e).__name__}"
    finally:
        signal.alarm(0)
    results.append([code, err.getvalue(), out.getvalue()])
json.dump(results, sys.stdout)
"""


def run_all(commands: list[list[str]], tmp_path: Path) -> list[tuple[int | str, str, str]]:
    """Run each argv through `sealtui.cli.main` in one child process: (exit code or "hung", stderr, stdout)."""
    argv_file = tmp_path / "commands.json"
    argv_file.write_text(json.dumps(commands))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-c", DRIVER, str(argv_file)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=10 * len(commands) + 60)
    assert done.returncode == 0, done.stderr[-3000:]
    return [(code, err, out) for code, err, out in json.loads(done.stdout)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Good inputs for every argument that is not the one under test."""
    d = tmp_path_factory.mktemp("inputs")
    pair = keygen("k", d)
    sealed = seal_vault("kbs:///default/key/1", JwkSigner(generate_jwk("k")))
    (d / "m.yaml").write_text(f"kind: Secret\nmetadata:\n  name: s\nstringData:\n  k: {sealed}\n")
    (d / "plain.txt").write_text("a value\n")
    (d / "aa.toml").write_text("[token_configs]\n")
    (d / "values.env").write_text("A=b\n")
    return {"priv": str(pair.private_path), "pub": str(pair.public_path), "sealed": sealed, "m": str(d / "m.yaml"),
            "plain": str(d / "plain.txt"), "aa": str(d / "aa.toml"), "env": str(d / "values.env"),
            "key": str(ALIYUN / "clientKey_KAAP.gc-test-vector.json"),
            "pw": str(ALIYUN / "password_KAAP.gc-test-vector.txt"), "ca": str(ALIYUN / "PrivateKmsCA_kst-bjj6____.pem")}


def commands(f: dict[str, str], bad: str) -> dict[str, list[str]]:
    """One command line per file argument, with `bad` given to that argument."""
    envelope = ["seal", "envelope", "--key-id", "key-x", "--endpoint", NOWHERE, "--signing-jwk", f["priv"]]
    creds = {"--client-key-file": f["key"], "--password-file": f["pw"], "--cert-path": f["ca"]}

    def with_creds(base: list[str], option: str) -> list[str]:
        return [*base, *(x for o, v in creds.items() for x in (o, bad if o == option else v))]

    bulk = ["seal", "bulk", "--key-id", "key-x", "--name", "s", "--endpoint", NOWHERE, "--signing-jwk", f["priv"]]
    return {
        "inspect -f": ["inspect", "-f", bad],
        "inspect --jwk": ["inspect", f["sealed"], "--jwk", bad],
        "verify --jwk": ["verify", f["sealed"], "--jwk", bad],
        "verify -f": ["verify", "-f", bad, "--jwk", f["pub"]],
        "seal vault --signing-jwk": ["seal", "vault", "--resource-uri", "kbs:///a/b/c", "--provider", "kbs",
                                     "--signing-jwk", bad],
        "seal envelope -f": [*with_creds(envelope, ""), "-f", bad],
        "seal envelope --client-key-file": [*with_creds(envelope, "--client-key-file"), "-f", f["plain"]],
        "seal envelope --password-file": [*with_creds(envelope, "--password-file"), "-f", f["plain"]],
        "seal envelope --cert-path": [*with_creds(envelope, "--cert-path"), "-f", f["plain"]],
        "seal envelope --signing-jwk": [*with_creds([*envelope[:-1], bad], ""), "-f", f["plain"]],
        "seal bulk --env-file": [*with_creds(bulk, ""), "--env-file", bad],
        "seal bulk --password-file": [*with_creds(bulk, "--password-file"), "--env-file", f["env"]],
        "scan PATH": ["scan", bad],
        "scan --jwk": ["scan", f["m"], "--jwk", bad],
        "scan --kid-map": ["scan", f["m"], "--kid-map", bad],
        "doctor PATH": ["doctor", bad],
        "doctor --jwk": ["doctor", f["m"], "--jwk", bad],
        "doctor --kid-map": ["doctor", f["m"], "--kid-map", bad],
        "diff A": ["diff", bad, f["sealed"]],
        "resign -f": ["resign", "-f", bad, "--signing-jwk", f["priv"]],
        "resign --manifest": ["resign", "--manifest", bad, "--signing-jwk", f["priv"]],
        "resign --signing-jwk": ["resign", f["sealed"], "--signing-jwk", bad],
        "initdata --from-toml": ["initdata", "--from-toml", bad],
        "initdata --cdh-toml": ["initdata", "--cdh-toml", bad, "--aa-toml", f["aa"]],
        "initdata --aa-toml": ["initdata", "--cdh-toml", f["aa"], "--aa-toml", bad],
        "initdata --policy": ["initdata", "--kbs-url", "http://127.0.0.1:9", "--policy", bad],
        "initdata --kbs-ca": ["initdata", "--kbs-url", "https://127.0.0.1:9", "--kbs-ca", bad],
        "initdata --decode": ["initdata", "--decode", bad],
        "unseal -f": ["unseal", "-f", bad, "--credentials-dir", str(ALIYUN), "--endpoint", NOWHERE,
                      "--skip-verification", "--stdout"],
        "unseal --jwk": ["unseal", f["sealed"], "--credentials-dir", str(ALIYUN), "--endpoint", NOWHERE,
                         "--jwk", bad, "--stdout"],
        "sandbox put-secret -f": ["sandbox", "put-secret", "--root-dir", "no-instance", "-f", bad, "n"],
        "sandbox register-client-key --client-key-file": [
            "sandbox", "register-client-key", "--root-dir", "no-instance", "--client-key-file", bad,
            "--password-file", f["pw"]],
        "sandbox register-client-key --password-file": [
            "sandbox", "register-client-key", "--root-dir", "no-instance", "--client-key-file", f["key"],
            "--password-file", bad],
    }


def names(path: str, says: str, text: str) -> bool:
    """The message names the file: `PATH is …`, or as scan reports a file, `PATH: …`."""
    return f"{path} {says}" in text or f"{path}: {says.removeprefix('is ')}" in text


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_every_file_argument_refuses_a_fifo_and_a_device_at_once(files, tmp_path, kind):
    if kind == "fifo":
        bad, says = str(tmp_path / "pipe"), "is a FIFO, not a regular file"
        os.mkfifo(bad)
    else:
        bad, says = kind, "is a character device, not a regular file"
    cases = commands(files, bad)
    results = dict(zip(cases, run_all(list(cases.values()), tmp_path), strict=True))
    wrong = {name: (code, err[-300:]) for name, (code, err, out) in results.items()
             if code != 3 or not names(bad, says, err + out) or "Traceback" in err}
    assert not wrong


def test_a_directory_with_a_fifo_is_read_without_blocking(files, tmp_path):
    """Walking a directory (doctor, doctor --trustee, credentials check) skips what is not a regular file."""
    manifests, trustee, creds = (tmp_path / n for n in ("manifests", "trustee", "creds"))
    for d in (manifests, trustee / "default" / "kbs", creds):
        d.mkdir(parents=True)
    (manifests / "ok.yaml").write_text(Path(files["m"]).read_text())
    os.mkfifo(manifests / "pipe.yaml")
    (trustee / "default" / "kbs" / "key").write_text("x")
    os.mkfifo(trustee / "default" / "kbs" / "pipe")
    os.mkfifo(trustee / "policy.rego")
    os.mkfifo(creds / "clientKey_KAAP.x.json")
    results = run_all([["doctor", str(manifests), "--json"], ["doctor", files["m"], "--trustee", str(trustee)],
                       ["credentials", "check", str(creds)], ["scan", str(manifests)]], tmp_path)
    for code, err, _ in results:
        assert code in (0, 3, 4) and "Traceback" not in err, (code, err[-500:])
    assert results[3][0] == 0  # scan: the one good file, clean


def test_the_size_limit_is_stated_and_enforced_through_the_cli(tmp_path):
    """64 MiB + 1 byte of sparse file: refused by size, without reading it whole."""
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    [(code, err, _)] = run_all([["scan", str(big)]], tmp_path)
    assert code == 3 and names(str(big), "is larger than 64 MiB", err)


def test_json_nested_too_deeply_is_an_error_not_a_traceback(files, tmp_path):
    """`[[[[…` 100,000 deep overflows Python's json (RecursionError): each JSON file argument says what is wrong."""
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    envelope = ["seal", "envelope", "--key-id", "key-x", "--endpoint", NOWHERE, "--signing-jwk", files["priv"],
                "--cert-path", files["ca"], "-f", files["plain"]]
    results = run_all([
        ["verify", files["sealed"], "--jwk", str(deep)],
        [*envelope, "--client-key-file", str(deep), "--password-file", files["pw"]],
        [*envelope, "--client-key-file", files["key"], "--password-file", str(deep)],
        ["doctor", str(deep)],
        ["scan", str(deep)],
    ], tmp_path)
    for code, err, _ in results:
        assert code == 3 and str(deep) in err and "Traceback" not in err, (code, err[-500:])


def test_a_trustee_signing_key_nested_too_deeply_is_a_finding(tmp_path):
    """doctor --trustee reads the kid's key from the Trustee directory as CDH would: deep JSON is not a key."""
    import shutil

    healthy = ROOT / "tests" / "fixtures" / "doctor" / "healthy"
    trustee = tmp_path / "trustee"
    shutil.copytree(healthy / "trustee", trustee)
    (trustee / "default" / "signing" / "pub").write_text("[" * 100_000 + "]" * 100_000)
    [(code, err, out)] = run_all([["doctor", str(healthy / "app.yaml"), "--trustee", str(trustee)]], tmp_path)
    assert code == 3 and "Traceback" not in err, (code, err[-500:])
    assert "default/signing/pub is not JSON" in out
