"""The HTTP transport of the provider's KMS calls (`aliyun_transport`), against a scripted TLS server on 127.0.0.1.

What a real server may do that the local KMS does not: interim 1xx answers, chunked bodies, repeated headers,
`Connection: close`, closing an idle kept-alive connection, closing before answering, never answering. The calls
through the SDK are tested against the local KMS in test_aliyun_provider.py and test_provider_tls.py.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest
from requests import Request
from requests.exceptions import ConnectionError, ReadTimeout, SSLError

from tests.integration.test_provider_tls import Pki

transport = pytest.importorskip("sealtui.providers.aliyun_transport")

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Scripted:
    """A TLS server answering each request it reads with `answer(n)` (n counts requests), counting connections.
    An answer of None closes the connection without answering; "close" after answering closes it too."""

    def __init__(self, pki: Pki, answer: Callable[[int], tuple[bytes | None, bool]]) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*pki.server())
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        with contextlib.suppress(OSError), self.context.wrap_socket(raw, server_side=True) as conn:
            conn.settimeout(10)
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
                while len(buf) < length:
                    buf += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buf[:length])
                buf = buf[length:]
                data, close = self.answer(len(self.requests))
                if data is None:
                    return
                conn.sendall(data)
                if close:
                    return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server(tmp_path) -> Iterator[Callable[..., tuple[Scripted, ssl.SSLContext]]]:
    servers: list[Scripted] = []

    def make(answer: Callable[[int], tuple[bytes | None, bool]]) -> tuple[Scripted, ssl.SSLContext]:
        pki = Pki(tmp_path / str(len(servers)))
        servers.append(Scripted(pki, answer))
        return servers[-1], ssl.create_default_context(cafile=str(pki.bundle))

    yield make
    for s in servers:
        s.close()


def _post(port: int, body: bytes = b"\x08\x01") -> object:
    return Request("POST", f"https://127.0.0.1:{port}/", data=body,
                   headers={"host": f"127.0.0.1:{port}", "x-kms-apiname": "Encrypt"}).prepare()  # fmt: skip


def test_interim_answers_chunked_bodies_and_repeated_headers(server):
    answer = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
              b"5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n")
    s, ctx = server(lambda n: (answer, False))
    t = transport.KeepAliveTransport()
    r = t.send(_post(s.port), ctx, (5, 5), None)
    assert (r.status_code, r.reason, r.content, r.headers["x-a"]) == (200, "OK", b"hello!", "1, 2")
    assert s.requests[0].startswith(b"POST / HTTP/1.1\r\nAccept-Encoding: identity\r\nhost: 127.0.0.1:")
    assert s.requests[0].endswith(b"Content-Length: 2\r\n\r\n\x08\x01")
    t.close()


def test_a_connection_is_kept_alive_and_dropped_when_closed_or_told_to(server):
    s, ctx = server(lambda n: (OK, False))
    t = transport.KeepAliveTransport()
    for _ in range(3):
        assert t.send(_post(s.port), ctx, (5, 5), None).content == b"ok"
    assert s.connections == 1
    closing, ctx2 = server(lambda n: (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", True))
    for _ in range(2):
        t.send(_post(closing.port), ctx2, (5, 5), None)
    assert closing.connections == 2
    idle_closed, ctx3 = server(lambda n: (OK, True))  # answers, then closes the kept-alive connection
    for _ in range(3):
        assert t.send(_post(idle_closed.port), ctx3, (5, 5), None).content == b"ok"
    assert idle_closed.connections == 3
    t.close()


def test_connections_are_not_shared_between_trust_contexts(server):
    s, ctx = server(lambda n: (OK, False))
    other = ssl.create_default_context()  # the system store: not the test CA
    t = transport.KeepAliveTransport()
    t.send(_post(s.port), ctx, (5, 5), None)
    with pytest.raises(SSLError, match=r"(?i)certificate verify failed"):
        t.send(_post(s.port), other, (5, 5), None)
    t.close()


def test_a_server_that_closes_or_never_answers_is_an_io_error(server):
    s, ctx = server(lambda n: (None, True))
    t = transport.KeepAliveTransport()
    with pytest.raises(ConnectionError) as e:
        t.send(_post(s.port), ctx, (5, 5), None)
    assert isinstance(e.value, IOError)  # what the SDK retries (Tea.core catches IOError)
    silent, ctx2 = server(lambda n: (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", False))
    with pytest.raises(ReadTimeout, match="timed out"):
        t.send(_post(silent.port), ctx2, (5, 0.5), None)
    t.close()
