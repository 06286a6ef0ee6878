"""Benchmark: whole-process KMS commands against the floor (a seal with only `ssl` + `cryptography`). Never asserts.

Against a local KMS instance started here (a separate process), interleaved, one round after another:

- **floor**: `bench/_seal_floor.py` as its own process: read the client key (PKCS#12), one TLS handshake trusting
  only the CA bundle, one signed `Encrypt` built by hand (dkms-protocol.md §2-§3), AES-256-GCM, the ES256 JWS:
  the same sealed string `sealtui seal envelope` prints, with the fewest parts;
- `sealtui seal envelope` (a local signing JWK), `sealtui unseal --jwk` (of a string the floor sealed: checks that
  the floor's output is a real sealed secret) and `sealtui credentials check --connect --key-id …`.

Prints each median and its ratio to the floor's median (goal: <= 1.6x each), and the machine load before and after.

Then the cost of parsing the client key in a child process (`sealtui.core.pkcs12`; a crafted PKCS#12 crashes
OpenSSL): in this process, interleaved, `pkcs12.load_key_and_certificates` against the contained parse, forked (the
CLI: one thread) and in a fresh interpreter (the TUI: threads). Goal: < 100 ms more.

Both sides run with their bytecode compiled first (`compileall`), as an installed package has it: with
PYTHONDONTWRITEBYTECODE set (as in some shells), sealtui's ~60 modules would otherwise be compiled from source on
every run (~70 ms), and the floor's one script always is.

Run: `.venv/bin/python -P bench/kms_cli.py` (env BENCH_ROUNDS, default 21). With env BENCH_BASELINE=<another
checkout of sealtui> (e.g. `git worktree add /tmp/before <commit>`), the same three commands run from that checkout
too, in the same rounds: before and after under the same load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FLOOR = Path(__file__).with_name("_seal_floor.py")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))
KEY = "alias/sealtui-default"
PLAINTEXT = b"postgres://app:s3cret@db:5432/app"
GOAL = 1.6
CONTAINMENT = (ROOT / "sealtui" / "core" / "pkcs12.py").exists()
"""Whether this checkout parses client keys in a child process (the part measured after the commands)."""


def load() -> str:
    """The load averages, as `uptime` prints them."""
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def start_sandbox(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Init an instance in `root` and serve it from a subprocess; return the process and its endpoint."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = [sys.executable, "-m", "sealtui", "sandbox"]
    subprocess.run([*run, "init", "--root-dir", str(root)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*run, "serve", "--root-dir", str(root), "--hostname", "127.0.0.1", "--port", "0"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            info = json.loads((root / "serve.json").read_text())
            if info.get("pid") == proc.pid:
                return proc, str(info["endpoint"])
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            raise SystemExit(f"sandbox exited with {proc.returncode}")
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("sandbox did not start")


BASELINE = os.environ.get("BENCH_BASELINE")
"""Another checkout whose commands run in the same rounds, for before/after under the same load."""


def sealtui_cmd(checkout: Path) -> tuple[list[str], dict[str, str]]:
    """`python -m sealtui` with `checkout` first on the path: what the console script runs."""
    return [sys.executable, "-m", "sealtui"], dict(os.environ, PYTHONPATH=str(checkout))


def compile_bytecode(checkout: Path) -> None:
    """Write the checkout's .pyc files now (what `pip install` does), so no run compiles sealtui from source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "sealtui")], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def timed(argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None) -> tuple[float, bytes]:
    t = time.perf_counter()
    # cwd: `python -m` puts the working directory first on sys.path; it must not hold a sealtui checkout
    out = subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd=tempfile.gettempdir())
    dt = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}… exited {out.returncode}: {out.stderr.decode(errors='replace')}")
    return dt, out.stdout


def containment(client_key_file: Path, password_file: Path) -> None:
    """Median cost of the contained parse over the in-process one (what `credentials check` and a first seal pay)."""
    import base64

    from cryptography.hazmat.primitives.serialization import pkcs12

    from sealtui.core.pkcs12 import load_pkcs12

    der = base64.b64decode(json.loads(client_key_file.read_text())["PrivateKeyData"])
    password = password_file.read_text().rstrip().encode()
    runs: dict[str, Any] = {
        "in process (no containment)": lambda: pkcs12.load_key_and_certificates(der, password),
        "forked child (CLI)": lambda: load_pkcs12(der, password, how="fork"),
        "fresh interpreter (TUI, threads)": lambda: load_pkcs12(der, password, how="spawn"),
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t)
    base = statistics.median(samples["in process (no containment)"])
    print(f"client key parse, {ROUNDS} runs each, interleaved; medians (cost of containment; goal < 100 ms):")
    for name, values in samples.items():
        med = statistics.median(values)
        extra = "" if med is base else f"  {(med - base) * 1000:+.1f} ms"
        print(f"  {name:38} {med * 1000:7.1f} ms{extra}")


def main() -> None:
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        proc, endpoint = start_sandbox(root)
        try:
            creds = root / "credentials"
            ck = next(creds.glob("clientKey_*.json"))
            pw = next(creds.glob("password_*.json"))
            ca = next(creds.glob("PrivateKmsCA_*.pem"))
            kid = "bench"
            sealtui, env = sealtui_cmd(ROOT)
            subprocess.run([*sealtui, "keygen", "--kid", kid, "--output-dir", tmp], check=True, capture_output=True,
                           env=env)  # fmt: skip
            private_jwk, public_jwk = Path(tmp) / f"{kid}-private.json", Path(tmp) / f"{kid}-public.json"

            # -P: bench/ holds an inspect.py that would shadow the stdlib module of that name
            floor = [sys.executable, "-P", str(FLOOR), endpoint, str(ck), str(pw), str(ca), KEY, str(private_jwk)]
            _, sealed = timed(floor, PLAINTEXT)  # warm-up, and a sealed string for `unseal`
            args = {
                "seal envelope": (["seal", "envelope", "--key-id", KEY, "--credentials-dir", str(creds),
                                   "--endpoint", endpoint, "--signing-jwk", str(private_jwk)], PLAINTEXT),
                "unseal": (["unseal", "--credentials-dir", str(creds), "--endpoint", endpoint,
                            "--jwk", str(public_jwk), "--stdout", "-"], sealed),
                "credentials check --connect": (["credentials", "check", "--connect", "--key-id", KEY,
                                                 "--endpoint", endpoint, str(creds)], b""),
            }  # fmt: skip
            cmds: dict[str, tuple[list[str], bytes, dict[str, str] | None]] = {
                "floor (ssl + cryptography)": (floor, PLAINTEXT, None)
            }
            for label, checkout in [("sealtui", ROOT)] + ([("baseline", Path(BASELINE))] if BASELINE else []):
                compile_bytecode(checkout)
                run, run_env = sealtui_cmd(checkout)
                for name, (argv, stdin) in args.items():
                    cmds[f"{label} {name}"] = ([*run, *argv], stdin, run_env)
            for argv, stdin, run_env in cmds.values():  # warm-up (page cache, .pyc); each must succeed
                timed(argv, stdin, run_env)
            _, opened = timed(*cmds["sealtui unseal"])
            if opened != PLAINTEXT:
                raise SystemExit(f"sealtui unseal of the floor's output gave {opened!r}")

            samples: dict[str, list[float]] = {name: [] for name in cmds}
            names = list(cmds)
            for i in range(ROUNDS):
                for name in names[i % len(names):] + names[: i % len(names)]:  # rotate the order each round
                    samples[name].append(timed(*cmds[name])[0])
            base = statistics.median(samples[names[0]])
            print(f"{ROUNDS} rounds, interleaved; medians (ratio to the floor; goal <= {GOAL}x):")
            for name in names:
                med = statistics.median(samples[name])
                ratio = "" if name == names[0] else f"  {med / base:.2f}x"
                print(f"  {name:38} {med * 1000:7.1f} ms{ratio}")
            if CONTAINMENT:
                containment(ck, pw)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"after: {load()} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
