"""TLS trust of `AliyunKms`: only the instance's CA bundle, on every connection; certificate faults named.

The sandbox is served here behind a TLS front on 127.0.0.1 whose certificate the test issues with `cryptography`
(expired, not yet valid, for another name, or under an expired CA); the front relays the bytes to the sandbox,
so with a good certificate every call works end to end (the control), and only the certificate differs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import shutil
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sealtui.core.credentials import AliyunCredentials, find_credentials
from tests.paths import ALIYUN
from tests.sandbox_support import SandboxInfo

aliyun = pytest.importorskip("sealtui.providers.aliyun")
AliyunKms, KmsTransportError = aliyun.AliyunKms, aliyun.KmsTransportError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "alias/sealtui-default"
NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
          *, start: datetime, end: datetime, ca: bool, names: tuple[str, ...] = ()) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Pki:
    """A CA and server certificates under it, written where a test wants them."""

    def __init__(self, directory: Path, *, ca_start: datetime = NOW - DAY, ca_end: datetime = NOW + 365 * DAY):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = _cert("sealtui test CA", self.ca_key, None, start=ca_start, end=ca_end, ca=True)
        self.bundle = directory / "PrivateKmsCA_kst-test.pem"
        self.bundle.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))

    def server(self, *, start: datetime = NOW - DAY, end: datetime = NOW + 30 * DAY,
               names: tuple[str, ...] = ("127.0.0.1", "localhost")) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert("kms", key, (self.ca_cert.subject, self.ca_key), start=start, end=end, ca=False, names=names)
        chain, key_file = self.directory / "server.pem", self.directory / "server-key.pem"
        chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))  # fmt: skip
        return chain, key_file


class TlsFront:
    """A TLS listener on 127.0.0.1 with a test certificate, relaying each connection to the sandbox over TLS."""

    def __init__(self, chain: Path, key: Path, sandbox: SandboxInfo) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain, key)
        self.backend_context = ssl.create_default_context(cafile=str(sandbox.ca_file))
        self.backend = sandbox.endpoint.rsplit(":", 1)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0
        """TLS handshakes completed with clients (a client that refuses the certificate completes none)."""
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._live: list[ssl.SSLSocket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # shut down by close()
                self.listener.close()
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def use(self, chain: Path, key: Path) -> None:
        """Serve another certificate from now on, and drop every open connection (clients must reconnect)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        self.context = context
        self._drop_connections()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            client = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        with self._lock:
            self.handshakes += 1
        try:
            raw = socket.create_connection((self.backend[0], int(self.backend[1])), timeout=10)
            server = self.backend_context.wrap_socket(raw, server_hostname=self.backend[0])
        except OSError as e:  # the client then sees its connection closed; the test shows why
            self.errors.append(f"relay to the sandbox: {e!r}")
            client.close()
            return
        with self._lock:
            self._live += [client, server]
        try:
            self._relay(client, server)
        finally:
            with self._lock:
                self._live = [s for s in self._live if s not in (client, server)]
            client.close()
            server.close()

    @staticmethod
    def _relay(client: ssl.SSLSocket, server: ssl.SSLSocket) -> None:
        """Copy bytes both ways from ONE thread: an SSL connection must not be read and written concurrently."""
        peer = {client: server, server: client}
        for s in peer:
            s.setblocking(False)
        while True:
            ready = [s for s in peer if s.pending()] or select.select(list(peer), [], [], 10)[0]
            if not ready:
                return  # idle for 10 s
            for src in ready:
                try:
                    data = src.recv(65536)
                except ssl.SSLWantReadError:  # e.g. only a TLS 1.3 session ticket arrived
                    continue
                except OSError:
                    return
                if not data:
                    return
                dst = peer[src]
                dst.settimeout(10)
                try:
                    dst.sendall(data)
                except OSError:
                    return
                dst.setblocking(False)

    def _drop_connections(self) -> None:
        # shutdown, not close: the relay thread using a socket closes it (see _serve)
        with self._lock:
            live = list(self._live)
        for s in live:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(s, socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop accepting (the accept thread closes the listener) and drop every connection."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self._drop_connections()


@pytest.fixture(scope="module")
def creds(sandbox: SandboxInfo) -> AliyunCredentials:
    return find_credentials(sandbox.credentials_dir)


@pytest.fixture
def front(sandbox: SandboxInfo) -> Iterator[Callable[..., TlsFront]]:
    """`front(pki, **certificate)`: a TLS front with a server certificate from `pki.server(**certificate)`."""
    fronts: list[TlsFront] = []

    def make(pki: Pki, **certificate: Any) -> TlsFront:
        fronts.append(TlsFront(*pki.server(**certificate), sandbox))
        return fronts[-1]

    yield make
    for f in fronts:
        f.close()
    assert not [e for f in fronts for e in f.errors]  # the front itself failed: the test proved nothing


def _kms(creds: AliyunCredentials, ca: Path, port: int, host: str = "127.0.0.1") -> Any:
    return AliyunKms(replace(creds, ca_file=ca), KEY, endpoint=f"{host}:{port}", retries=0)


# --- the control: a good certificate under the test CA works end to end -------------------------------------


def test_a_valid_certificate_works_through_the_front_with_one_handshake(creds, front, tmp_path):
    pki = Pki(tmp_path)
    f = front(pki)
    kms = _kms(creds, pki.bundle, f.port)
    dek = os.urandom(32)
    wrapped = kms.wrap_key(dek)
    assert kms.unwrap_key(wrapped.key_id, wrapped.encrypted_key, wrapped.provider_settings,
                          wrapped.annotations) == dek  # fmt: skip
    assert f.handshakes == 1  # no separate trust probe: the SDK's own connection is the checked one


def test_check_connection_makes_one_tls_handshake(creds, front, tmp_path):
    pki = Pki(tmp_path)
    f = front(pki)
    report = _kms(creds, pki.bundle, f.port).check_connection()
    assert report.ok and [s.name for s in report.steps] == ["reachability", "trust", "client_key", "permission"]
    assert pki.bundle.name in report.steps[1].message
    assert f.handshakes == 1


# --- certificate faults, each named -------------------------------------------------------------------------


def test_an_expired_server_certificate_is_reported_as_expired(creds, front, tmp_path):
    pki = Pki(tmp_path)
    end = (NOW - 2 * DAY).replace(microsecond=0)
    f = front(pki, start=NOW - 30 * DAY, end=end)
    with pytest.raises(KmsTransportError) as e:
        _kms(creds, pki.bundle, f.port).wrap_key(os.urandom(32))
    assert e.value.reason == "trust"
    assert e.value.message == f"the server certificate at 127.0.0.1:{f.port} expired on {end:%Y-%m-%d %H:%M} UTC"
    assert "renew" in (e.value.fix or "") and "clock" in (e.value.fix or "")


def test_check_connection_names_the_expired_certificate(creds, front, tmp_path):
    pki = Pki(tmp_path)
    f = front(pki, start=NOW - 30 * DAY, end=NOW - DAY)
    report = _kms(creds, pki.bundle, f.port).check_connection()
    assert report.failed == "trust" and "expired on" in report.steps[1].message
    assert [s.status for s in report.steps] == ["ok", "error", "skipped", "skipped"]


def test_a_server_certificate_not_yet_valid_is_reported(creds, front, tmp_path):
    pki = Pki(tmp_path)
    f = front(pki, start=NOW + 2 * DAY, end=NOW + 30 * DAY)
    with pytest.raises(KmsTransportError) as e:
        _kms(creds, pki.bundle, f.port).wrap_key(os.urandom(32))
    assert e.value.reason == "trust"
    assert "is not valid before" in e.value.message and "server certificate" in e.value.message


def test_an_expired_ca_certificate_in_the_bundle_is_named(creds, front, tmp_path):
    pki = Pki(tmp_path, ca_start=NOW - 60 * DAY, ca_end=NOW - DAY)
    f = front(pki)
    with pytest.raises(KmsTransportError) as e:
        _kms(creds, pki.bundle, f.port).wrap_key(os.urandom(32))
    assert e.value.message.startswith("CA certificate CN=sealtui test CA in ") and "expired on" in e.value.message
    assert "CA bundle" in (e.value.fix or "")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_certificate_for_another_name_is_a_name_mismatch(creds, front, tmp_path, host):
    pki = Pki(tmp_path)
    f = front(pki, names=("kst-other.cryptoservice.kms.aliyuncs.com",))
    with pytest.raises(KmsTransportError) as e:
        _kms(creds, pki.bundle, f.port, host=host).wrap_key(os.urandom(32))
    assert e.value.reason == "trust"
    assert e.value.message == f"the server certificate at {host}:{f.port} is not valid for {host}"


# --- only this instance's CA bundle, on every connection ----------------------------------------------------


def test_a_wrong_ca_bundle_is_refused_on_every_connection(sandbox: SandboxInfo, creds, tmp_path):
    """The SDK alone passes a wrong bundle after one good call (test_sdk_alone_… in test_aliyun_provider)."""
    wrong_ca = Path(shutil.copy(ALIYUN / "PrivateKmsCA_kst-bjj6____.pem", tmp_path / "PrivateKmsCA_kst-x.pem"))
    port = int(sandbox.endpoint.rsplit(":", 1)[1])
    good = _kms(creds, creds.ca_file, port)
    for round_ in range(3):  # wrong, good, wrong, good, …: neither a pooled connection nor a CA carries over
        with pytest.raises(KmsTransportError) as e:
            _kms(creds, wrong_ca, port).wrap_key(os.urandom(32))
        assert e.value.reason == "trust" and "not signed by the CA bundle" in e.value.message, round_
        assert good.wrap_key(os.urandom(32)).key_id == sandbox.default_key_id
    wrong = _kms(creds, wrong_ca, port)  # one instance, several calls: every one refused
    for _ in range(3):
        with pytest.raises(KmsTransportError):
            wrong.generate_random(8)


def test_a_connection_made_later_trusts_only_the_instance_bundle(creds, front, tmp_path):
    """The endpoint changes certificate to one of another CA, already trusted by another instance in this process:
    a new connection of the first instance must still trust only its own bundle (the SDK's shared context had
    both CA files loaded into it, and the old one-time trust probe had passed)."""
    pki_a, pki_b = Pki(tmp_path / "a"), Pki(tmp_path / "b")
    f = front(pki_a)
    a = _kms(creds, pki_a.bundle, f.port)
    assert len(a.generate_random(8)) == 8
    f.use(*pki_b.server())
    b = _kms(creds, pki_b.bundle, f.port)
    assert len(b.generate_random(8)) == 8
    with pytest.raises(KmsTransportError) as e:
        a.generate_random(8)
    assert e.value.reason == "trust" and "not signed by the CA bundle" in e.value.message


def test_good_and_wrong_bundles_from_many_threads(sandbox: SandboxInfo, creds, tmp_path):
    wrong_ca = Path(shutil.copy(ALIYUN / "PrivateKmsCA_kst-bjj6____.pem", tmp_path / "PrivateKmsCA_kst-x.pem"))
    port = int(sandbox.endpoint.rsplit(":", 1)[1])
    good, wrong = _kms(creds, creds.ca_file, port), _kms(creds, wrong_ca, port)

    def call(i: int) -> str:
        kms = good if i % 2 else wrong
        try:
            kms.generate_random(8)
            return "ok"
        except KmsTransportError as e:
            return e.reason

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(80)))
    assert results == ["trust", "ok"] * 40
