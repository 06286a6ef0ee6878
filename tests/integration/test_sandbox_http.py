"""The local KMS's HTTP/1.1 framing on raw TLS sockets: what it accepts, what it refuses, when it closes."""

from __future__ import annotations

import socket
import ssl

from sealtui.core.credentials import load_client_key, read_password_file
from sealtui.sandbox import proto, signing
from tests.sandbox_support import SandboxInfo


def _connect(info: SandboxInfo) -> ssl.SSLSocket:
    host, port = info.endpoint.rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(info.ca_file))
    return context.wrap_socket(socket.create_connection((host, int(port)), timeout=20), server_hostname=host)


def _request(
    info: SandboxInfo, body: bytes, *, api: str = "GenerateRandom", extra: str = "", sign: bool = True
) -> bytes:
    client_key = load_client_key(info.client_key_file, read_password_file(info.password_file))
    headers = signing.signed_headers(api, body, client_key.key_id, client_key.private_key, host=info.endpoint)
    if not sign:
        headers["authorization"] = "Bearer " + "A" * 344
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST / HTTP/1.1\r\n{head}content-length: {len(body)}\r\n{extra}\r\n".encode() + body


def _responses(sock: ssl.SSLSocket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    reader = sock.makefile("rb")
    out = []
    for _ in range(count):
        status = int(reader.readline().split()[1])
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        out.append((status, headers, reader.read(int(headers["content-length"]))))
    return out


def _closed(sock: ssl.SSLSocket) -> bool:
    try:
        return sock.recv(1) == b""
    except OSError:
        return True


def _body() -> bytes:
    return proto.serialize("GenerateRandomRequest", Length=8)


def test_pipelined_requests_are_answered_in_order(sandbox: SandboxInfo):
    first = proto.serialize("GenerateRandomRequest", Length=3)
    second = proto.serialize("GenerateRandomRequest", Length=5)
    with _connect(sandbox) as sock:
        sock.sendall(_request(sandbox, first) + _request(sandbox, second))
        (s1, _, b1), (s2, _, b2) = _responses(sock, 2)
    assert (s1, s2) == (200, 200)
    assert len(proto.parse("GenerateRandomResponse", b1).Random) == 3
    assert len(proto.parse("GenerateRandomResponse", b2).Random) == 5


def test_expect_100_continue(sandbox: SandboxInfo):
    with _connect(sandbox) as sock:
        request = _request(sandbox, _body(), extra="expect: 100-continue\r\n")
        head, body = request.split(b"\r\n\r\n", 1)
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        assert _responses(sock, 1)[0][0] == 200


def test_a_refused_signature_closes_the_connection(sandbox: SandboxInfo):
    with _connect(sandbox) as sock:
        sock.sendall(_request(sandbox, _body(), sign=False))
        status, headers, body = _responses(sock, 1)[0]
        assert (status, proto.parse("Error", body).ErrorCode) == (401, "SignatureNotMatch")
        assert headers["connection"] == "close" and _closed(sock)


def test_chunked_bodies_are_refused(sandbox: SandboxInfo):
    with _connect(sandbox) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n")
        status, _, body = _responses(sock, 1)[0]
        assert (status, proto.parse("Error", body).ErrorCode) == (411, "MissingContentLength")


def test_malformed_http_and_content_length(sandbox: SandboxInfo):
    for raw in (b"POST / HTTP/1.1\r\nhost x\r\n\r\n", b"POST / HTTP/1.1\r\ncontent-length: -5\r\n\r\n"):
        with _connect(sandbox) as sock:
            sock.sendall(raw)
            status, headers, _ = _responses(sock, 1)[0]
            assert status == 400 and headers["connection"] == "close"


def test_an_oversized_head_is_431(sandbox: SandboxInfo):
    with _connect(sandbox) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\n" + b"x-filler: " + b"a" * 20_000 + b"\r\n\r\n")
        status, _, body = _responses(sock, 1)[0]
        assert (status, proto.parse("Error", body).ErrorCode) == (431, "RequestHeaderFieldsTooLarge")
        assert _closed(sock)


def test_http_1_0_is_answered_then_closed(sandbox: SandboxInfo):
    with _connect(sandbox) as sock:
        sock.sendall(_request(sandbox, _body()).replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        status, headers, _ = _responses(sock, 1)[0]
        assert status == 200 and headers["connection"] == "close" and _closed(sock)
