"""The floor for `bench/kms_cli.py`: one envelope seal with only `ssl` + `cryptography` (and the stdlib).

What `sealtui seal envelope` does, with the fewest parts: read the client key (PKCS#12 in its JSON), one TLS
handshake trusting only the CA bundle, one `Encrypt` signed by hand (dkms-protocol.md §2-§3: protobuf body,
string-to-sign, RSASSA-PKCS1-v1_5/SHA-256), AES-256-GCM over the plaintext, the envelope JSON and its ES256 JWS.
Prints `sealed.<jws>`; the plaintext comes on standard input.

Usage: python bench/_seal_floor.py ENDPOINT CLIENT_KEY.json PASSWORD_FILE CA.pem KEY_ID PRIVATE_JWK.json
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import sys
from email.utils import formatdate

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: bytes) -> bytes:
    """A length-delimited protobuf field (strings and bytes)."""
    return varint(number << 3 | 2) + varint(len(value)) + value


def parse_fields(data: bytes) -> dict[int, bytes]:
    """The length-delimited fields of a protobuf message (all `EncryptResponse` has)."""
    out, i = {}, 0
    while i < len(data):
        tag = shift = 0
        while True:
            tag |= (data[i] & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if not data[i - 1] & 0x80:
                break
        length = shift = 0
        while True:
            length |= (data[i] & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if not data[i - 1] & 0x80:
                break
        out[tag >> 3], i = data[i : i + length], i + length
    return out


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encrypt(endpoint: str, ca: str, key_id: str, private_key, kms_key: str, plaintext: bytes) -> dict[int, bytes]:
    host, _, port = endpoint.rpartition(":")
    body = field(1, kms_key.encode()) + field(2, plaintext) + field(3, b"AES_GCM")
    sha = hashlib.sha256(body).hexdigest().upper()
    date = formatdate(usegmt=True)
    kms = {"x-kms-acccesskeyid": key_id, "x-kms-apiname": "Encrypt", "x-kms-apiversion": "dkms-gcs-0.2",
           "x-kms-signaturemethod": "RSA_PKCS1_SHA_256"}  # fmt: skip
    to_sign = f"POST\n{sha}\napplication/x-protobuf\n{date}\n" + "".join(f"{k}:{v}\n" for k, v in kms.items()) + "/"
    sig = private_key.sign(to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers = {"host": endpoint, "accept": "application/x-protobuf", "content-type": "application/x-protobuf",
               "content-length": str(len(body)), "content-sha256": sha, "date": date, **kms,
               "authorization": "Bearer " + base64.b64encode(sig).decode()}  # fmt: skip
    request = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as s:
        s.sendall(request.encode() + body)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(65536)
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:"))
        while len(rest) < length:
            rest += s.recv(65536)
    if lines[0].split()[1] != "200":
        raise SystemExit(f"Encrypt: {lines[0]}")
    return parse_fields(rest[:length])


def main() -> None:
    endpoint, ck_file, pw_file, ca, kms_key, jwk_file = sys.argv[1:7]
    plaintext = sys.stdin.buffer.read()
    ck = json.loads(open(ck_file, "rb").read())
    password = open(pw_file, "rb").read().decode().rstrip()
    private_key, _cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(ck["PrivateKeyData"]), password.encode())
    instance = os.path.basename(ca).removeprefix("PrivateKmsCA_").removesuffix(".pem")

    data_key, nonce = os.urandom(32), os.urandom(12)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext, None)
    res = encrypt(endpoint, ca, ck["KeyId"], private_key, kms_key, data_key)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    payload = {"version": "0.1.0", "type": "envelope", "key_id": res[1].decode(), "encrypted_key": b64(res[2]),
               "encrypted_data": b64(sealed), "wrap_type": "A256GCM", "iv": b64(nonce), "provider": "aliyun",
               "provider_settings": {"client_key_id": ck["KeyId"], "kms_instance_id": instance,
                                     "client_type": "client_key"},
               "annotations": {"iv": b64(res[3])}}  # fmt: skip

    jwk = json.loads(open(jwk_file, "rb").read())
    d = int.from_bytes(base64.urlsafe_b64decode(jwk["d"] + "=="), "big")
    signing_key = ec.derive_private_key(d, ec.SECP256R1())
    header = b64url(json.dumps({"b64": True, "alg": "ES256", "kid": jwk["kid"]}, separators=(",", ":")).encode())
    signing_input = f"{header}.{b64url(json.dumps(payload, separators=(',', ':')).encode())}"
    r, s = decode_dss_signature(signing_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    sys.stdout.write(f"sealed.{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}\n")


if __name__ == "__main__":
    main()
