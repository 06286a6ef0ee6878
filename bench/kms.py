"""Benchmark: the Alibaba provider against a sandbox started here (a separate process). Prints, never asserts.

1. Median latency of one `Encrypt` through `AliyunKms` (key parsed once) against the SDK used the documented
   way (`Config(client_key_file=…, password=…, endpoint=…, ca_file_path=…)`, which re-parses the RSA key on
   every request), and the ratio (goal: ours >= 8x faster).
2. Sealing 1,000 values in one process (seal_envelope + ES256 JWS) with a small thread pool sharing one
   `AliyunKms` (goal >= 300 seals/s on a 2-core machine).
3. The sandbox's `Encrypt` throughput with 8 concurrent clients (8 processes, one `AliyunKms` each).

Run: `.venv/bin/python bench/kms.py` (env BENCH_RUNS, BENCH_SECONDS to change the sample sizes).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# bench/ holds an inspect.py: keep this folder after the standard library on sys.path, or it would shadow
# the stdlib `inspect` that dataclasses imports.
sys.path.append(sys.path.pop(0))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sealtui import sandbox  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
KEY = "alias/sealtui-default"


def start_sandbox(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Init an instance in `root` and serve it from a subprocess; return the process and its endpoint."""
    sandbox.init_instance(root)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sealtui", "sandbox", "serve", "--root-dir", str(root), "--hostname", "127.0.0.1",
         "--port", "0"],
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


def median_ms(fn: Callable[[], object], runs: int) -> float:
    for _ in range(5):  # warm up: connection, TLS, imports
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def latency(status: sandbox.SandboxStatus, endpoint: str) -> None:
    from openapi.models import Config
    from openapi_util.models import RuntimeOptions
    from sdk import models
    from sdk.client import Client

    from sealtui.core.credentials import find_credentials
    from sealtui.providers.aliyun import AliyunKms

    ours = AliyunKms(find_credentials(status.credentials_dir), KEY, endpoint=endpoint)
    sdk = Client(Config(client_key_file=str(status.client_key_file), password=status.password_file.read_text(),
                        endpoint=endpoint, ca_file_path=str(status.ca_file)))  # fmt: skip
    req = models.EncryptRequest(key_id=KEY, plaintext=os.urandom(32))
    rt = RuntimeOptions()
    t_ours = median_ms(lambda: ours.encrypt(req.plaintext), RUNS)
    t_sdk = median_ms(lambda: sdk.encrypt_with_options(req, rt), max(RUNS // 4, 20))
    print(f"Encrypt latency, median: ours {t_ours:.2f} ms, SDK documented way {t_sdk:.2f} ms, "
          f"ratio {t_sdk / t_ours:.1f}x (goal >= 8x)")  # fmt: skip


def bulk_seal(status: sandbox.SandboxStatus, endpoint: str, n: int = 1000) -> None:
    from sealtui.core.codec import encode_sealed
    from sealtui.core.credentials import find_credentials
    from sealtui.core.envelope import seal_envelope
    from sealtui.core.jws import JwkSigner, generate_jwk
    from sealtui.providers.aliyun import AliyunKms

    kms = AliyunKms(find_credentials(status.credentials_dir), KEY, endpoint=endpoint)
    signer = JwkSigner(generate_jwk("bench"))
    values = [os.urandom(64) for _ in range(n)]

    def seal_one(v: bytes) -> str:
        return encode_sealed(seal_envelope(v, kms), signer)

    for workers in (1, 4, 8):
        seal_one(b"warm-up")
        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            out = list(pool.map(seal_one, values))
        dt = time.perf_counter() - t
        assert len(out) == n
        print(f"sealing {n} values, {workers} thread(s): {n / dt:.0f} seals/s ({dt:.2f} s) (goal >= 300)")


def _client_worker(args: tuple[str, str, float, Any]) -> int:
    creds_dir, endpoint, seconds, barrier = args
    from sealtui.core.credentials import find_credentials
    from sealtui.providers.aliyun import AliyunKms

    kms = AliyunKms(find_credentials(Path(creds_dir)), KEY, endpoint=endpoint)
    for _ in range(5):
        kms.encrypt(b"x" * 32)
    barrier.wait()
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        kms.encrypt(b"x" * 32)
        count += 1
    return count


def server_throughput(status: sandbox.SandboxStatus, endpoint: str, clients: int = 8) -> None:
    ctx = mp.get_context("spawn")  # fresh processes: no inherited SDK sessions or sockets
    with ctx.Manager() as manager:
        barrier = manager.Barrier(clients)
        with ctx.Pool(clients) as pool:
            counts = pool.map(_client_worker, [(str(status.credentials_dir), endpoint, SECONDS, barrier)] * clients)
    print(f"sandbox Encrypt throughput, {clients} concurrent client processes: {sum(counts) / SECONDS:.0f} req/s "
          f"({os.cpu_count()} CPUs shared by server and clients)")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        proc, endpoint = start_sandbox(root)
        try:
            status = sandbox.load_status(root)
            latency(status, endpoint)
            bulk_seal(status, endpoint)
            server_throughput(status, endpoint)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
