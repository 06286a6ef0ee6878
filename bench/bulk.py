"""Benchmark: bulk-sealing 1,000 values in one run vs 1,000 separate `sealtui seal envelope` processes.

Both against one local KMS instance started here, in the same run. The separate processes run one after the
other, as a shell loop would; BENCH_PROCESSES=N times only N of them and scales to 1,000 (said in the output).
Goal: bulk >= 5x faster. Run: `.venv/bin/python bench/bulk.py`.
"""

from __future__ import annotations

import sys

# bench/ holds inspect.py, which would shadow the stdlib module: keep this folder last on sys.path.
sys.path.append(sys.path.pop(0))

import os
import subprocess
import tempfile
import time
from pathlib import Path

from kms import start_sandbox

from sealtui import sandbox
from sealtui.core.jws import keygen

VALUES = 1000
PROCESSES = int(os.environ.get("BENCH_PROCESSES", str(VALUES)))


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "kms"
        proc, endpoint = start_sandbox(root)
        try:
            status = sandbox.load_status(root)
            jwk = keygen("bench", d).private_path
            common = ["--key-id", "alias/sealtui-default", "--credentials-dir", str(status.credentials_dir),
                      "--endpoint", endpoint, "--signing-jwk", str(jwk)]
            env_text = "".join(f"KEY_{i}=value number {i}\n" for i in range(VALUES))
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sealtui", "seal", "bulk", *common, "--name", "bench",
                            "-o", str(Path(d) / "bulk.yaml")], input=env_text.encode(), check=True,
                           capture_output=True)
            bulk = time.perf_counter() - t
            t = time.perf_counter()
            for i in range(PROCESSES):
                subprocess.run([sys.executable, "-m", "sealtui", "seal", "envelope", *common, "--no-newline"],
                               input=f"value number {i}".encode(), check=True, capture_output=True)
            each = (time.perf_counter() - t) / PROCESSES
        finally:
            proc.terminate()
            proc.wait()
    separate = each * VALUES
    scaled = "" if PROCESSES == VALUES else f" (timed {PROCESSES} processes, scaled to {VALUES})"
    print(f"bulk: {VALUES} values in one `sealtui seal bulk` run: {bulk:.2f} s ({VALUES / bulk:.0f} values/s)")
    print(f"separate: {VALUES} `sealtui seal envelope` processes: {separate:.1f} s "
          f"({each * 1000:.0f} ms each){scaled}")
    print(f"ratio separate/bulk: {separate / bulk:.1f}x (goal >= 5x)")


if __name__ == "__main__":
    main()
