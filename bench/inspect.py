"""Benchmark: `sealtui inspect --json` start-up, and in-process inspect of a 1 MiB envelope.

Prints medians; the start-up number is a ratio against a baseline measured in the same run:
`python -c "import pydantic, cryptography.hazmat.primitives.asymmetric.ec"` (goal <= 1.6x).
In-process inspect of a 1 MiB envelope payload: goal <= 50 ms. Run: `.venv/bin/python bench/inspect.py`.
"""

from __future__ import annotations

import sys

# This file is named inspect.py, so its folder must come after the standard library on sys.path, or it would
# shadow the stdlib `inspect` module that dataclasses imports.
sys.path.append(sys.path.pop(0))

import base64
import os

from _util import median_ms, time_call, time_process

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


def main() -> None:
    typical = envelope(64)
    base = time_process([sys.executable, "-c", "import pydantic, cryptography.hazmat.primitives.asymmetric.ec"],
                        RUNS)
    ours = time_process([sys.executable, "-m", "sealtui", "inspect", "--json", typical], RUNS)
    big = envelope(1 << 20)
    inproc = time_call(lambda: inspect(big), RUNS)
    b, o = median_ms(base), median_ms(ours)
    print(f"runs per measurement: {RUNS}")
    print(f"baseline  python -c 'import pydantic, cryptography…ec'   median {b:7.1f} ms")
    print(f"sealtui inspect --json (typical {len(typical)} chars)      median {o:7.1f} ms")
    print(f"ratio sealtui/baseline: {o / b:.2f}x (goal <= 1.6x)")
    print(f"in-process inspect of a 1 MiB envelope ({len(big) / 2**20:.2f} MiB string): "
          f"median {median_ms(inproc):.1f} ms (goal <= 50 ms)")


if __name__ == "__main__":
    main()
