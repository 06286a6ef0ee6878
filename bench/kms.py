"""Benchmark: the Alibaba provider against a sandbox started here (a separate process). Prints, never asserts.

1. Median latency of one `Encrypt` through `AliyunKms` (key parsed once) against the SDK used the documented
   way (`Config(client_key_file=…, password=…, endpoint=…, ca_file_path=…)`, which re-parses the RSA key on
   every request), and the ratio (goal: ours >= 8x faster).
2. Sealing 1,000 values in one process (seal_envelope + ES256 JWS) with a small thread pool sharing one
   `AliyunKms` (goal >= 300 seals/s on a 2-core machine).
3. The local KMS server's `Encrypt` throughput with 1 / 4 / 16 lean clients (processes using only `ssl` and
   `cryptography`, signing real requests on one keep-alive connection each), against the floor: a plain stdlib
   HTTPS server answering every request with a fixed 200. Interleaved rounds, medians, the ratio (goal: >= 0.8x
   at 4 and 16 clients).

Run: `.venv/bin/python bench/kms.py [latency] [bulk] [server]` (default: all three; env BENCH_RUNS,
BENCH_SECONDS, BENCH_ROUNDS change the sample sizes).
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
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PARTS = set(sys.argv[1:]) or {"latency", "bulk", "server"}
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


# --- server throughput: the local KMS against a plain HTTPS server, with lean clients -----------------------


def _baseline_server(chain: str, key: str, ports: Any) -> None:
    """The floor: stdlib `ThreadingHTTPServer` over TLS answering every POST with a fixed 200 (a process)."""
    import http.server
    import socket
    import ssl

    reply = b"\x0a\x18" + b"key-000000000000000000000" + b"\x12\x30" + b"\0" * 48  # an EncryptResponse's size
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: {len(reply)}\r\n\r\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.wfile.write(head.encode() + reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def finish_request(self, request: Any, client_address: Any) -> None:
            try:
                conn = context.wrap_socket(request, server_side=True)
            except OSError:
                return
            try:
                Handler(conn, client_address, self)
            except OSError:
                pass
            finally:
                conn.close()

        def server_bind(self) -> None:
            socket.socket.bind(self.socket, self.server_address)
            self.server_address = self.socket.getsockname()

    server = Server(("127.0.0.1", 0), Handler)
    ports.put(server.server_address[1])
    server.serve_forever()


def _lean_worker(pipe: Any, key_pem: bytes, key_id: str) -> None:
    """A lean client process: `ssl` + `cryptography`, signing real Encrypt requests on one keep-alive connection.

    Each command `(endpoint, ca_file, start_at, seconds)` connects, warms up, then counts the answers received
    in [start_at, start_at + seconds] and sends the count back.
    """
    import base64
    import email.utils
    import hashlib
    import socket
    import ssl

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(key_pem, password=None)
    key_ref = KEY.encode()

    def request(endpoint: str) -> bytes:
        plaintext = os.urandom(32)
        body = b"\x0a" + bytes([len(key_ref)]) + key_ref + b"\x12" + bytes([len(plaintext)]) + plaintext
        sha = hashlib.sha256(body).hexdigest().upper()
        date = email.utils.formatdate(usegmt=True)
        kms = (
            f"x-kms-acccesskeyid:{key_id}\nx-kms-apiname:Encrypt\nx-kms-apiversion:dkms-gcs-0.2\n"
            "x-kms-signaturemethod:RSA_PKCS1_SHA_256\n"
        )
        text = f"POST\n{sha}\napplication/x-protobuf\n{date}\n{kms}/"
        signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
        head = (
            f"POST / HTTP/1.1\r\nhost: {endpoint}\r\naccept: application/x-protobuf\r\ndate: {date}\r\n"
            f"user-agent: bench-lean-client\r\nx-kms-apiversion: dkms-gcs-0.2\r\nx-kms-apiname: Encrypt\r\n"
            f"x-kms-signaturemethod: RSA_PKCS1_SHA_256\r\nx-kms-acccesskeyid: {key_id}\r\n"
            f"content-type: application/x-protobuf\r\ncontent-sha256: {sha}\r\ncontent-length: {len(body)}\r\n"
            f"authorization: Bearer {base64.b64encode(signature).decode()}\r\n\r\n"
        )
        return head.encode() + body

    def exchange(sock: ssl.SSLSocket, reader: Any, data: bytes) -> None:
        sock.sendall(data)
        status = reader.readline()
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        reader.read(length)
        if b" 200 " not in status:
            raise SystemExit(f"lean client: {status!r}")

    pipe.send("ready")
    while (command := pipe.recv()) is not None:
        endpoint, ca_file, start_at, seconds = command
        host, port = endpoint.rsplit(":", 1)
        context = ssl.create_default_context(cafile=ca_file)
        with socket.create_connection((host, int(port))) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with context.wrap_socket(raw, server_hostname=host) as sock, sock.makefile("rb") as reader:
                for _ in range(5):
                    exchange(sock, reader, request(endpoint))
                time.sleep(max(0.0, start_at - time.time()))
                count, end = 0, start_at + seconds
                while time.time() < end:
                    exchange(sock, reader, request(endpoint))
                    count += 1
        pipe.send(count)


class LeanClients:
    """Up to `n` lean client processes, started once and reused for every measurement."""

    def __init__(self, n: int, key_pem: bytes, key_id: str) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(n):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_lean_worker, args=(theirs, key_pem, key_id), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        for pipe in self.pipes:  # imports done: the first measurement starts on time
            pipe.recv()

    def run(self, clients: int, endpoint: str, ca_file: Path, seconds: float) -> float:
        """Requests per second answered with `clients` concurrent connections."""
        start_at = time.time() + 1.0 + 0.05 * clients  # time to connect and warm up
        for pipe in self.pipes[:clients]:
            pipe.send((endpoint, str(ca_file), start_at, seconds))
        return sum(pipe.recv() for pipe in self.pipes[:clients]) / seconds

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for proc in self.procs:
            proc.join(timeout=10)


def server_throughput(status: sandbox.SandboxStatus, endpoint: str, workdir: Path) -> None:
    """Encrypt/s of the local KMS with 1 / 4 / 16 lean clients against the plain HTTPS floor, interleaved."""
    from cryptography.hazmat.primitives import serialization

    from sealtui.core.credentials import load_client_key, read_password_file
    from sealtui.sandbox import pki

    ca = pki.create_ca("kst-bench")
    chain, server_key = pki.issue_server_cert(ca, "kst-bench")
    (workdir / "floor.pem").write_bytes(chain)
    (workdir / "floor-key.pem").write_bytes(server_key)
    (workdir / "floor-ca.pem").write_bytes(ca.bundle_pem())
    ctx = mp.get_context("spawn")
    ports = ctx.Queue()
    floor = ctx.Process(target=_baseline_server, args=(str(workdir / "floor.pem"), str(workdir / "floor-key.pem"),
                                                      ports), daemon=True)  # fmt: skip
    floor.start()
    floor_endpoint = f"127.0.0.1:{ports.get(timeout=60)}"
    client_key = load_client_key(status.client_key_file, read_password_file(status.password_file))
    key_pem = client_key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    levels = (1, 4, 16)
    clients = LeanClients(max(levels), key_pem, client_key.key_id)
    results: dict[tuple[str, int], list[float]] = {}
    try:
        for rnd in range(ROUNDS):
            for n in levels:
                pair = [("floor", floor_endpoint, workdir / "floor-ca.pem"), ("kms", endpoint, status.ca_file)]
                for name, ep, ca_file in pair if rnd % 2 == 0 else reversed(pair):
                    results.setdefault((name, n), []).append(clients.run(n, ep, ca_file, SECONDS))
    finally:
        clients.close()
        floor.terminate()
    print(f"server throughput, Encrypt/s, median of {ROUNDS} interleaved rounds of {SECONDS:g} s "
          f"({os.cpu_count()} CPUs shared by server and clients):")  # fmt: skip
    for n in levels:
        kms, base = statistics.median(results[("kms", n)]), statistics.median(results[("floor", n)])
        print(f"  {n:>2} lean clients: local KMS {kms:7.0f}/s, plain HTTPS 200 {base:7.0f}/s, ratio {kms / base:.2f}x"
              f"{'  (goal >= 0.8x)' if n > 1 else ''}")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # The instance's master key lives outside its state directory: keep it in this run's directory.
        os.environ.setdefault("KMS_MASTER_KEY_DIR", str(Path(tmp) / "master-keys"))
        root = Path(tmp) / "root"
        proc, endpoint = start_sandbox(root)
        try:
            status = sandbox.load_status(root)
            if "latency" in PARTS:
                latency(status, endpoint)
            if "bulk" in PARTS:
                bulk_seal(status, endpoint)
            if "server" in PARTS:
                server_throughput(status, endpoint, Path(tmp))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
