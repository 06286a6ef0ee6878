"""The floor for `bench/bulk.py`: `sealtui seal bulk` with only `ssl` + `cryptography` (and the stdlib), threaded.

The same work with the fewest parts: read KEY=value lines, parse the client key (PKCS#12) once, then for every
value in a pool of threads (each with its own keep-alive TLS connection trusting only the CA bundle): a fresh data
key, AES-256-GCM, one `Encrypt` of the data key signed by hand (dkms-protocol.md §2-§3), the envelope JSON and
its ES256 JWS; then one Secret manifest (`stringData`) written as YAML by hand (the sealed strings, key names and
Secret name need no quoting).

Usage: python bench/_bulk_floor.py ENDPOINT CLIENT_KEY.json PASSWORD_FILE CA.pem KEY_ID PRIVATE_JWK.json NAME OUT
       [WORKERS]; the KEY=value lines come on standard input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12

sys.path.append(os.path.dirname(os.path.abspath(__file__)))  # after the stdlib: bench/ holds an inspect.py
from _seal_floor import b64url, field, parse_fields


class Connection:
    """One keep-alive TLS connection to the KMS, signing `Encrypt` requests by hand."""

    def __init__(self, endpoint: str, ctx: ssl.SSLContext, key_id: str, private_key: object) -> None:
        host, _, port = endpoint.rpartition(":")
        self.endpoint, self.key_id, self.private_key = endpoint, key_id, private_key
        self.sock = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
        self.buf = b""

    def encrypt(self, kms_key: str, plaintext: bytes) -> dict[int, bytes]:
        body = field(1, kms_key.encode()) + field(2, plaintext) + field(3, b"AES_GCM")
        sha = hashlib.sha256(body).hexdigest().upper()
        date = formatdate(usegmt=True)
        kms = {"x-kms-acccesskeyid": self.key_id, "x-kms-apiname": "Encrypt", "x-kms-apiversion": "dkms-gcs-0.2",
               "x-kms-signaturemethod": "RSA_PKCS1_SHA_256"}  # fmt: skip
        to_sign = f"POST\n{sha}\napplication/x-protobuf\n{date}\n" + "".join(f"{k}:{v}\n" for k, v in kms.items())
        sig = self.private_key.sign((to_sign + "/").encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[attr-defined]
        headers = {"host": self.endpoint, "accept": "application/x-protobuf",
                   "content-type": "application/x-protobuf", "content-length": str(len(body)),
                   "content-sha256": sha, "date": date, **kms,
                   "authorization": "Bearer " + base64.b64encode(sig).decode()}  # fmt: skip
        request = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.sock.sendall(request.encode() + body)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:"))
        while len(self.buf) < length:
            self.buf += self._recv()
        data, self.buf = self.buf[:length], self.buf[length:]
        if lines[0].split()[1] != "200":
            raise SystemExit(f"Encrypt: {lines[0]}")
        return parse_fields(data)

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("the KMS closed the connection")
        return chunk


def main() -> None:
    endpoint, ck_file, pw_file, ca, kms_key, jwk_file, name, out = sys.argv[1:9]
    workers = int(sys.argv[9]) if len(sys.argv) > 9 else 8
    values: dict[str, bytes] = {}
    for line in sys.stdin.read().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            values[k.strip()] = v.encode()
    ck = json.loads(open(ck_file, "rb").read())
    password = open(pw_file, "rb").read().decode().rstrip()
    private_key, _cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(ck["PrivateKeyData"]), password.encode())
    instance = os.path.basename(ca).removeprefix("PrivateKmsCA_").removesuffix(".pem")
    ctx = ssl.create_default_context(cafile=ca)
    jwk = json.loads(open(jwk_file, "rb").read())
    signing_key = ec.derive_private_key(int.from_bytes(base64.urlsafe_b64decode(jwk["d"] + "=="), "big"),
                                        ec.SECP256R1())  # fmt: skip
    header = b64url(json.dumps({"b64": True, "alg": "ES256", "kid": jwk["kid"]}, separators=(",", ":")).encode())
    local = threading.local()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731

    def seal(plaintext: bytes) -> str:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = Connection(endpoint, ctx, ck["KeyId"], private_key)
        data_key, nonce = os.urandom(32), os.urandom(12)
        sealed = AESGCM(data_key).encrypt(nonce, plaintext, None)
        res = conn.encrypt(kms_key, data_key)
        payload = {"version": "0.1.0", "type": "envelope", "key_id": res[1].decode(), "encrypted_key": b64(res[2]),
                   "encrypted_data": b64(sealed), "wrap_type": "A256GCM", "iv": b64(nonce), "provider": "aliyun",
                   "provider_settings": {"client_key_id": ck["KeyId"], "kms_instance_id": instance,
                                         "client_type": "client_key"},
                   "annotations": {"iv": b64(res[3])}}  # fmt: skip
        signing_input = f"{header}.{b64url(json.dumps(payload, separators=(',', ':')).encode())}"
        r, s = decode_dss_signature(signing_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"sealed.{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    with ThreadPoolExecutor(workers) as pool:
        sealed = dict(zip(values, pool.map(seal, values.values()), strict=True))
    yaml = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: Opaque\nstringData:\n"
    yaml += "".join(f"  {k}: {v}\n" for k, v in sealed.items())
    with open(out, "x") as f:
        f.write(yaml)


if __name__ == "__main__":
    main()
