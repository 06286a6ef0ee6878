"""Kill the sandbox server with SIGKILL while keys are created and data encrypted: nothing acknowledged is lost.

Eight client threads create keys (through the Python API, and one through the CLI, in processes other than the
server's) and encrypt under each new key right away (raw signed requests). Whatever was acknowledged before
the server died must be there after a restart: every key, and every ciphertext must still decrypt.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sealtui import sandbox as api
from sealtui.core.credentials import load_client_key, read_password_file
from tests.rawclient import RawKmsClient
from tests.sandbox_support import ROOT, SandboxProcess, start_sandbox

THREADS = 8
TARGET_CIPHERTEXTS = 48
CLI_KEYS = 2


def test_sigkill_loses_nothing_acknowledged(tmp_path: Path):
    info = start_sandbox(tmp_path / "root")
    assert info.process is not None
    client_key = load_client_key(info.client_key_file, read_password_file(info.password_file))
    lock = threading.Lock()
    keys: list[str] = []
    ciphertexts: list[tuple[str, bytes, bytes, bytes]] = []
    unexpected: list[str] = []
    stop = threading.Event()

    def create_key(worker: int, i: int) -> str:
        if worker == 0 and i < CLI_KEYS:
            out = subprocess.run(
                [sys.executable, "-m", "sealtui", "sandbox", "create-key", "--root-dir", str(info.root_dir)],
                cwd=ROOT, check=True, capture_output=True, text=True,
            )  # fmt: skip
            return out.stdout.strip()
        return api.create_key(info.root_dir).id

    def worker(n: int) -> None:
        client = RawKmsClient(info.endpoint, info.ca_file, client_key.key_id, client_key.private_key)
        try:
            for i in range(10_000):
                if stop.is_set():
                    return
                key_id = create_key(n, i)
                with lock:
                    keys.append(key_id)
                plaintext = os.urandom(24)
                try:
                    response = client.call("Encrypt", KeyId=key_id, Plaintext=plaintext)
                except (OSError, http.client.HTTPException):
                    return  # the server is gone: this one was never acknowledged
                if response.status != 200:
                    with lock:
                        unexpected.append(f"{response.status} {response.error_code} {response.error_message}")
                    return
                enc = response.message("EncryptResponse")
                with lock:
                    ciphertexts.append((key_id, plaintext, bytes(enc.CiphertextBlob), bytes(enc.Iv)))
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(ciphertexts) < TARGET_CIPHERTEXTS and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    info.process.kill()  # mid-way: requests and key creations are in flight
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not unexpected, unexpected
    assert len(ciphertexts) >= TARGET_CIPHERTEXTS

    print(f"acknowledged: {len(keys)} keys, {len(ciphertexts)} ciphertexts")
    restarted = SandboxProcess(info.root_dir, tmp_path / "restart.log")
    try:
        existing = {k.id for k in api.load_status(info.root_dir).keys}
        assert set(keys) <= existing
        with RawKmsClient(restarted.endpoint, info.ca_file, client_key.key_id, client_key.private_key) as client:
            for i, (key_id, plaintext, blob, iv) in enumerate(ciphertexts):
                by_key = {"KeyId": key_id} if i % 2 else {}  # with and without KeyId
                response = client.call("Decrypt", CiphertextBlob=blob, Iv=iv, **by_key)
                assert response.status == 200, response.error_message
                assert response.message("DecryptResponse").Plaintext == plaintext
    finally:
        restarted.kill()
