"""Benchmark: `sealtui inspect --json` start-up, and in-process inspect of a 1 MiB envelope.

Prints medians; the start-up number is a ratio against a baseline measured in the same run, the two runs
interleaved so that both see the same load: `python -c "import pydantic, cryptography.hazmat.primitives.asymmetric.ec"`
(goal <= 1.6x). In-process inspect of a 1 MiB envelope payload: goal <= 50 ms. Also shown, to see that hostile
input costs time linear in its size: a 50 MB payload and a document nested 100,000 levels deep.
Run: `.venv/bin/python bench/inspect.py`.
"""

from __future__ import annotations

import sys

# This file is named inspect.py, so its folder must come after the standard library on sys.path, or it would
# shadow the stdlib `inspect` module that dataclasses imports.
sys.path.append(sys.path.pop(0))

import base64
import os
import subprocess
import time

from _util import median_ms, time_call

from sealtui.core.codec import encode_sealed
from sealtui.core.jws import JwkSigner, generate_jwk
from sealtui.core.lint import inspect
from sealtui.core.models import EnvelopePayload

RUNS = int(os.environ.get("BENCH_RUNS", "21"))


def envelope(size: int) -> str:
    iv = base64.b64encode(os.urandom(12)).decode()
    payload = EnvelopePayload(
        version="0.1.0", provider="aliyun", key_id="key-5f1e0d1c-3a6b-4a55-9f0e-0c7a8d2f2b11",
        encrypted_key=base64.b64encode(os.urandom(60)).decode(),
        encrypted_data=base64.b64encode(os.urandom(size + 16)).decode(), iv=iv,
        provider_settings={"client_key_id": "KAAP.0f1e", "kms_instance_id": "kst-bjj6", "client_type": "client_key"},
        annotations={"iv": iv})
    return encode_sealed(payload, JwkSigner(generate_jwk("bench-key")))


def interleaved(a: list[str], b: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock seconds of `runs` runs of each process, alternating (after one warm-up run of each)."""
    out: tuple[list[float], list[float]] = ([], [])
    for i in range(runs + 1):
        for argv, samples in ((a, out[0]), (b, out[1])):
            t = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            if i:
                samples.append(time.perf_counter() - t)
    return out


def hostile() -> dict[str, str]:
    def b64u(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    vault = ('{"version":"0.1.0","type":"vault","name":"%s","provider":"kbs","provider_settings":{},'
             '"annotations":{}}')
    return {"a 50 MB payload (one long string)": f"sealed.fakejwsheader.{b64u(vault % ('x' * 37_000_000))}.f",
            "a payload nested 100,000 levels deep": f"sealed.fakejwsheader.{b64u('[' * 100_000 + ']' * 100_000)}.f"}


def main() -> None:
    typical = envelope(64)
    base, ours = interleaved([sys.executable, "-c", "import pydantic, cryptography.hazmat.primitives.asymmetric.ec"],
                             [sys.executable, "-m", "sealtui", "inspect", "--json", typical], RUNS)
    big = envelope(1 << 20)
    inproc = time_call(lambda: inspect(big), RUNS)
    b, o = median_ms(base), median_ms(ours)
    print(f"runs per measurement: {RUNS}")
    print(f"baseline  python -c 'import pydantic, cryptography…ec'   median {b:7.1f} ms")
    print(f"sealtui inspect --json (typical {len(typical)} chars)      median {o:7.1f} ms")
    print(f"ratio sealtui/baseline: {o / b:.2f}x (goal <= 1.6x)")
    print(f"in-process inspect of a 1 MiB envelope ({len(big) / 2**20:.2f} MiB string): "
          f"median {median_ms(inproc):.1f} ms (goal <= 50 ms)")
    for name, text in hostile().items():
        print(f"in-process inspect of {name} ({len(text) / 1e6:.1f} MB): "
              f"median of 3 {median_ms(time_call(lambda t=text: inspect(t), 3)):.0f} ms")


if __name__ == "__main__":
    main()
