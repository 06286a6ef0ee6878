"""Benchmark: `sealtui scan` over a generated directory of 1,000 manifests (files per second).

Each file holds a Secret (one `data` and one `stringData` value) and a Deployment with a sealed env value,
so 3,000 values are inspected. Prints the median of whole-process runs. Run: `.venv/bin/python bench/scan.py`.
"""

from __future__ import annotations

import sys

# bench/ holds inspect.py, which would shadow the stdlib module: keep this folder last on sys.path.
sys.path.append(sys.path.pop(0))

import base64
import os
import tempfile
from pathlib import Path

from _util import median_ms, time_process

from sealtui.core.jws import JwkSigner, generate_jwk
from sealtui.core.vault import seal_vault

FILES = int(os.environ.get("BENCH_FILES", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def generate(root: Path) -> None:
    signer = JwkSigner(generate_jwk("bench"))
    for i in range(FILES):
        sealed = seal_vault(f"kbs:///default/app-{i}/token", signer)
        (root / f"app-{i:04d}.yaml").write_text(f"""apiVersion: v1
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


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        generate(Path(d))
        samples = time_process([sys.executable, "-m", "sealtui", "scan", "--json", d], RUNS)
        baseline = time_process([sys.executable, "-c", "import yaml, sealtui.core.lint"], RUNS)
    m = median_ms(samples)
    print(f"files: {FILES} (3 sealed values each), runs: {RUNS}")
    print(f"sealtui scan --json DIR: median {m:.0f} ms -> {FILES / (m / 1000):.0f} files/s "
          f"({3 * FILES / (m / 1000):.0f} values/s)")
    print(f"of which process start + imports (python -c 'import yaml, sealtui.core.lint'): "
          f"median {median_ms(baseline):.0f} ms")


if __name__ == "__main__":
    main()
