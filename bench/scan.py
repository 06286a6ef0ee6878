"""Benchmark: `sealtui scan --json` over 1,000 and 10,000 generated manifests: peak memory, and files per second.

Each file holds a Secret (one `data` and one `stringData` value) and a Deployment with a sealed env value, so every
file has 3 sealed values to inspect. Each scan is a whole process writing its JSON to /dev/null; the two sizes run
interleaved, medians of BENCH_ROUNDS (default 3). Prints the peak RSS of each (the kernel's `ru_maxrss` of the
process) and the ratio 10,000 / 1,000 files (goal <= 1.5x: memory does not grow with the file count), and files/s.
sealtui's bytecode is compiled first, as an installed package has it.

Run: `.venv/bin/python -P bench/scan.py` (env BENCH_ROUNDS; BENCH_FILES="1000,10000").
"""

from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # after the stdlib: bench/ holds an inspect.py
from kms_cli import ROOT, compile_bytecode, load

SIZES = [int(n) for n in os.environ.get("BENCH_FILES", "1000,10000").split(",")]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
GOAL = 1.5


def generate(root: Path, files: int) -> None:
    """Write the files (run in a child process: see `main`)."""
    sys.path.insert(0, str(ROOT))
    from sealtui.core.jws import JwkSigner, generate_jwk
    from sealtui.core.vault import seal_vault

    signer = JwkSigner(generate_jwk("bench"))
    for i in range(files):
        sealed = seal_vault(f"kbs:///default/app-{i}/token", signer)
        (root / f"app-{i:05d}.yaml").write_text(f"""apiVersion: v1
kind: Secret
metadata:
  name: app-{i}
data:
  token: {base64.b64encode(sealed.encode()).decode()}
stringData:
  other: {sealed}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  template:
    spec:
      containers:
        - name: app
          image: example/app:1
          env:
            - name: TOKEN
              value: {sealed}
            - name: LOG_LEVEL
              value: info
""")


def scan_once(directory: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `sealtui scan --json DIR` process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sealtui", "scan", "--json", str(directory)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tempfile.gettempdir())  # fmt: skip
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sealtui scan exited {os.waitstatus_to_exitcode(status)}: {err.decode(errors='replace')}")
    return dt, usage.ru_maxrss


def main() -> None:
    # This process stays small (no sealtui, no cryptography): a child's ru_maxrss counts the memory it shared
    # with its parent before exec, so a big parent would hide the scan's own peak.
    print(f"before: {load()}")
    compile_bytecode(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for n in SIZES:
            dirs[n] = Path(tmp) / str(n)
            dirs[n].mkdir()
            subprocess.run([sys.executable, "-P", __file__, "--generate", str(dirs[n]), str(n)], check=True)
        for d in dirs.values():  # warm-up: page cache, .pyc
            scan_once(d)
        samples: dict[int, list[tuple[float, int]]] = {n: [] for n in SIZES}
        for i in range(ROUNDS):
            for n in SIZES[i % 2:] + SIZES[: i % 2]:
                samples[n].append(scan_once(dirs[n]))
    print(f"{ROUNDS} rounds, interleaved; medians (3 sealed values per file):")
    rss = {n: statistics.median(r for _, r in samples[n]) for n in SIZES}
    for n in SIZES:
        wall = statistics.median(t for t, _ in samples[n])
        print(f"  sealtui scan --json, {n:6,} files: peak RSS {rss[n] / 1024:6.1f} MiB   {wall * 1000:8.0f} ms "
              f"({n / wall:,.0f} files/s)")
    small, large = SIZES[0], SIZES[-1]
    print(f"ratio of peak RSS, {large:,} / {small:,} files: {rss[large] / rss[small]:.2f}x (goal <= {GOAL}x)")
    print(f"after: {load()} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--generate"]:
        generate(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
