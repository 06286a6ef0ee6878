"""32 concurrent clients × 100 requests against the sandbox server, with no errors.

Each client is a raw keep-alive HTTPS connection signing with an already-parsed key (the SDK's own path would
spend ~40 ms of client CPU per call). Times are not asserted; only that every request succeeds.
"""

from __future__ import annotations

import threading

from sealtui.core.credentials import load_client_key, read_password_file
from tests.rawclient import RawKmsClient
from tests.sandbox_support import SandboxInfo

CLIENTS = 32
REQUESTS = 100


def test_concurrent_clients_without_errors(sandbox: SandboxInfo):
    client_key = load_client_key(sandbox.client_key_file, read_password_file(sandbox.password_file))
    errors: list[str] = []
    done = [0] * CLIENTS
    start = threading.Barrier(CLIENTS)

    def run(n: int) -> None:
        try:
            with RawKmsClient(sandbox.endpoint, sandbox.ca_file, client_key.key_id, client_key.private_key) as c:
                start.wait()
                blob = iv = b""
                for i in range(REQUESTS):
                    step = i % 4
                    if step == 0:
                        r = c.call("Encrypt", KeyId="alias/sealtui-default", Plaintext=b"load %d %d" % (n, i))
                    elif step == 1:
                        r = c.call("Decrypt", CiphertextBlob=blob, Iv=iv)
                    elif step == 2:
                        r = c.call("Sign", KeyId=sandbox.signing_key_id, Algorithm="ECDSA_SHA_256", Message=b"m")
                    else:
                        r = c.call("GenerateRandom", Length=16)
                    if r.status != 200:
                        errors.append(f"client {n} request {i}: {r.status} {r.error_code} {r.error_message}")
                        return
                    if step == 0:
                        enc = r.message("EncryptResponse")
                        blob, iv = bytes(enc.CiphertextBlob), bytes(enc.Iv)
                    elif step == 1:
                        assert r.message("DecryptResponse").Plaintext == b"load %d %d" % (n, i - 1)
                    done[n] += 1
        except Exception as e:  # collected, so one failing thread does not hide the others
            errors.append(f"client {n}: {e!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:5]
    assert sum(done) == CLIENTS * REQUESTS
