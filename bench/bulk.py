"""Benchmark: `sealtui seal bulk` against the floor, a threaded `ssl` + `cryptography` client doing the same work.

Against a local KMS instance started here (a separate process), for 1,000 and 5,000 values, each side a whole
process writing one Secret manifest, interleaved (floor, sealtui, floor, sealtui, … in rotating order), medians:

- **floor**: `bench/_bulk_floor.py`: KEY=value lines in, the client key parsed once, 8 threads each with its own
  keep-alive TLS connection, `Encrypt` signed by hand, AES-256-GCM, the ES256 JWS, the YAML written by hand;
- `sealtui seal bulk … --workers 8 --allow-oversized -o OUT` (5,000 values make a ~4 MiB Secret, over the 1 MiB a
  Kubernetes Secret holds: the bench measures sealing, not that check).

Prints values/s of each and the ratio sealtui/floor (goal >= 0.7x). One sealed value of each side is opened with
`sealtui unseal` first, so both outputs are checked to be real sealed secrets. sealtui's bytecode is compiled first,
as an installed package has it. The machine's load is printed before and after (the KMS server, the client and
anything else share the CPUs).

Run: `.venv/bin/python -P bench/bulk.py` (env BENCH_ROUNDS, default 5; BENCH_SIZES, default "1000,5000";
BENCH_WORKERS, default 8).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # after the stdlib: bench/ holds an inspect.py
from kms_cli import KEY, ROOT, compile_bytecode, load, sealtui_cmd, start_sandbox

FLOOR = Path(__file__).with_name("_bulk_floor.py")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,5000").split(",")]
WORKERS = os.environ.get("BENCH_WORKERS", "8")
GOAL = 0.7


def env_lines(n: int) -> bytes:
    return "".join(f"KEY_{i}=value number {i}\n" for i in range(n)).encode()


def run(argv: list[str], stdin: bytes, env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    out = subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd=tempfile.gettempdir())
    dt = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:5])}… exited {out.returncode}: {out.stderr.decode(errors='replace')}")
    return dt


def main() -> None:
    print(f"before: {load()}")
    compile_bytecode(ROOT)
    sealtui, env = sealtui_cmd(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        proc, endpoint = start_sandbox(root)
        try:
            creds = root / "credentials"
            ck, pw = next(creds.glob("clientKey_*.json")), next(creds.glob("password_*.json"))
            ca = next(creds.glob("PrivateKmsCA_*.pem"))
            subprocess.run([*sealtui, "keygen", "--kid", "bench", "--output-dir", tmp], check=True,
                           capture_output=True, env=env)  # fmt: skip
            jwk = Path(tmp) / "bench-private.json"
            outputs = iter(range(10**9))

            def floor(n: int) -> tuple[list[str], dict[str, str] | None, Path]:
                out = Path(tmp) / f"out-{next(outputs)}.yaml"
                return ([sys.executable, "-P", str(FLOOR), endpoint, str(ck), str(pw), str(ca), KEY, str(jwk),
                         "bench", str(out), WORKERS], None, out)  # fmt: skip

            def ours(n: int) -> tuple[list[str], dict[str, str] | None, Path]:
                out = Path(tmp) / f"out-{next(outputs)}.yaml"
                return ([*sealtui, "seal", "bulk", "--key-id", KEY, "--credentials-dir", str(creds), "--endpoint",
                         endpoint, "--signing-jwk", str(jwk), "--name", "bench", "--workers", WORKERS,
                         "--allow-oversized", "-o", str(out)], env, out)  # fmt: skip

            sides = {"floor (threaded ssl + cryptography)": floor, "sealtui seal bulk": ours}
            for make in sides.values():  # warm-up, and a check that each side's output opens
                argv, run_env, out = make(50)
                run(argv, env_lines(50), run_env)
                text = out.read_text()
                assert text.count("sealed.") == 50, text[:200]
                sealed = re.search(r"KEY_7: (sealed\.\S+)", text)
                assert sealed is not None
                opened = subprocess.run([*sealtui, "unseal", "--credentials-dir", str(creds), "--endpoint", endpoint,
                                         "--jwk", str(Path(tmp) / "bench-public.json"), "--stdout", sealed[1]],
                                        capture_output=True, env=env, check=True)  # fmt: skip
                assert opened.stdout == b"value number 7", opened
            print(f"{ROUNDS} rounds, interleaved, {WORKERS} workers; medians (ratio sealtui/floor; goal >= {GOAL}x):")
            for n in SIZES:
                stdin = env_lines(n)
                samples: dict[str, list[float]] = {name: [] for name in sides}
                names = list(sides)
                for i in range(ROUNDS):
                    for name in names[i % 2:] + names[: i % 2]:
                        argv, run_env, _ = sides[name](n)
                        samples[name].append(n / run(argv, stdin, run_env))
                rates = {name: statistics.median(v) for name, v in samples.items()}
                base = rates[names[0]]
                for name in names:
                    ratio = "" if name == names[0] else f"  {rates[name] / base:.2f}x"
                    every = ", ".join(f"{v:.0f}" for v in samples[name])
                    print(f"  {n:5,} values  {name:38} {rates[name]:6.0f} values/s{ratio}   (each: {every})")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"after: {load()} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
