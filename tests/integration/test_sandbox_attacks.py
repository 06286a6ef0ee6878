"""The local KMS against a hostile neighbour on 127.0.0.1 (issue 10): every attack bounded in count and time.

Slow headers, half-sent bodies, more connections than allowed, a caller-chosen IV, a destroyed key brought
back, malformed protobuf. Legitimate calls go through the real SDK (`AliyunKms`) or the raw test client.
"""

from __future__ import annotations

import os
import random
import resource
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealtui import sandbox as api
from sealtui.core.credentials import find_credentials, load_client_key, read_password_file
from sealtui.core.errors import InvalidInputError
from sealtui.sandbox import proto, signing
from sealtui.sandbox.connection import Limits
from tests.rawclient import RawKmsClient
from tests.sandbox_support import ROOT, SandboxInfo, describe, start_sandbox

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:openapi_util.client")

KEY = "alias/sealtui-default"


def _aliyun(info: SandboxInfo):
    from sealtui.providers.aliyun import AliyunKms

    return AliyunKms(find_credentials(info.credentials_dir), KEY, endpoint=info.endpoint)


def _host_port(endpoint: str) -> tuple[str, int]:
    host, port = endpoint.rsplit(":", 1)
    return host, int(port)


def _wait_until(condition, seconds: float) -> bool:
    """Poll `condition` until it holds or `seconds` pass (a bound, not an assertion on time)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _closed_by_server(sock: socket.socket | ssl.SSLSocket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def raw_for() -> Iterator:
    """A factory of raw signed-request clients for an instance (closed at the end)."""
    made: list[RawKmsClient] = []

    def make(info: SandboxInfo) -> RawKmsClient:
        client = RawKmsClient.from_files(info.endpoint, info.ca_file, info.client_key_file, info.password_file)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def short_deadlines(tmp_path: Path) -> Iterator[tuple[SandboxInfo, api.RunningSandbox]]:
    """A fresh instance served in a thread with a 5-second header deadline (short, yet long enough to open 200
    connections on a busy machine)."""
    root = tmp_path / "root"
    api.init_instance(root)
    running = api.start_in_thread(root, limits=Limits(header_timeout=5.0, request_timeout=8.0))
    try:
        yield describe(root, running.endpoint), running
    finally:
        running.stop()


def _tls(endpoint: str, ca_file: Path) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(ca_file))
    host, port = _host_port(endpoint)
    return context.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=host)


# --- slow headers ------------------------------------------------------------------------------------------------


def test_200_slow_header_sockets_are_dropped_while_a_signed_call_works(short_deadlines):
    info, running = short_deadlines
    host, port = _host_port(info.endpoint)
    slow: list[socket.socket | ssl.SSLSocket] = []
    try:
        for i in range(200):
            if i % 2:  # half never finish the TLS handshake
                slow.append(socket.create_connection((host, port), timeout=10))
            else:  # half finish it and then trickle a request head that never ends
                sock = _tls(info.endpoint, info.ca_file)
                sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\n")
                slow.append(sock)
        assert running.open_connections() >= 150
        # While they hang on, a real SDK call gets through.
        assert _aliyun(info).encrypt(b"still served").ciphertext_blob
        # One more byte each, as slowloris does: it does not buy more time.
        for sock in slow[::2]:
            sock.sendall(b"x")
        assert _wait_until(lambda: all(_closed_by_server(s) for s in slow), 30)
        assert _wait_until(lambda: running.open_connections() <= 1, 5)
    finally:
        for sock in slow:
            sock.close()


def test_over_the_connection_limit_is_refused_politely_and_the_loop_does_not_spin(tmp_path: Path):
    root = tmp_path / "root"
    api.init_instance(root)
    limits = Limits(header_timeout=10.0, max_connections=10)  # long enough for the test, however slow
    running = api.start_in_thread(root, limits=limits)
    info = describe(root, running.endpoint)
    host, port = _host_port(info.endpoint)
    held = [socket.create_connection((host, port), timeout=10) for _ in range(10)]
    try:
        assert _wait_until(lambda: running.open_connections() == 10, 5)
        with RawKmsClient.from_files(info.endpoint, info.ca_file, info.client_key_file, info.password_file) as raw:
            refused = raw.call("GenerateRandom", Length=4)
            assert (refused.status, refused.error_code) == (429, "Rejected.Throttling")  # the SDK backs off
            assert refused.headers.get("connection") == "close"
        flood = [socket.create_connection((host, port), timeout=10) for _ in range(40)]  # past the refusal slots
        cpu = time.process_time()
        time.sleep(1.0)
        assert time.process_time() - cpu < 0.5  # no busy accept loop in this process
        assert running.open_connections() <= 10 + 8
        for sock in flood:
            sock.close()
    finally:
        for sock in held:
            sock.close()
    # Once the holders are gone, the same client is served again.
    with RawKmsClient.from_files(info.endpoint, info.ca_file, info.client_key_file, info.password_file) as raw:
        assert _wait_until(lambda: raw.call("GenerateRandom", Length=4).status == 200, 10)
    running.stop()


def test_few_file_descriptors_do_not_make_the_accept_loop_spin(tmp_path: Path):
    """The issue's case: `prlimit --nofile=160` and 150 idle sockets."""
    info = start_sandbox(tmp_path / "root", init=True, nofile=160)
    assert info.process is not None
    host, port = _host_port(info.endpoint)
    idle = []
    try:
        for _ in range(150):
            idle.append(socket.create_connection((host, port), timeout=10))
        time.sleep(0.5)
        cpu = _cpu_seconds(info.process.popen.pid)
        time.sleep(2.0)
        assert _cpu_seconds(info.process.popen.pid) - cpu < 1.0  # it waits; it does not spin
    finally:
        for sock in idle:
            sock.close()
    assert _aliyun(info).encrypt(b"served after the flood").ciphertext_blob
    assert "Traceback" not in info.process.log()
    info.process.kill()


# --- bodies --------------------------------------------------------------------------------------------------------


def _head(headers: dict[str, str], length: int) -> bytes:
    lines = ["POST / HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items() if k != "content-length")]
    return ("\r\n".join([*lines, f"content-length: {length}"]) + "\r\n\r\n").encode()


def test_200_half_sent_bodies_keep_the_server_small(sandbox: SandboxInfo):
    """Unsigned and signed heads announcing 3 MB, each followed by part of the body, then silence."""
    assert sandbox.process is not None
    pid = sandbox.process.popen.pid
    client_key = load_client_key(sandbox.client_key_file, read_password_file(sandbox.password_file))
    size = 3 * 1024 * 1024
    body = os.urandom(size)
    signed = signing.signed_headers("Encrypt", body, client_key.key_id, client_key.private_key, host="x")
    unsigned = dict(signed, authorization="Bearer " + "A" * 344)
    before = _rss_kib(pid)
    peak = before
    socks: list[ssl.SSLSocket] = []
    cut_off = 0
    try:
        for i in range(200):
            sock = _tls(sandbox.endpoint, sandbox.ca_file)
            socks.append(sock)
            try:
                sock.sendall(_head(signed if i % 2 else unsigned, size) + body[: 128 * 1024])
            except OSError:  # refused at the head and closed: exactly what an unsigned request gets
                assert not i % 2
                cut_off += 1
            if i % 20 == 19:
                peak = max(peak, _rss_kib(pid))
        time.sleep(1.0)
        peak = max(peak, _rss_kib(pid))
        with RawKmsClient.from_files(
            sandbox.endpoint, sandbox.ca_file, sandbox.client_key_file, sandbox.password_file
        ) as raw:
            assert raw.call("GenerateRandom", Length=8).status == 200  # still serving
        peak = max(peak, _rss_kib(pid))
    finally:
        for sock in socks:
            sock.close()
    growth_mib = (peak - before) / 1024
    print(f"server RSS {before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB (+{growth_mib:.1f} MiB); "
          f"{cut_off} unsigned senders were cut off")  # fmt: skip
    assert growth_mib < 64


# --- chosen IV -----------------------------------------------------------------------------------------------------


def test_encrypt_refuses_a_chosen_iv(raw_for, sandbox: SandboxInfo):
    raw = raw_for(sandbox)
    victim = raw.call("Encrypt", KeyId=KEY, Plaintext=os.urandom(32)).message("EncryptResponse")
    # The attack: encrypt known data under the victim's IV (public in every sealed secret's annotations.iv).
    replay = raw.call("Encrypt", KeyId=KEY, Plaintext=b"\0" * 32, Iv=bytes(victim.Iv))
    assert (replay.status, replay.error_code) == (400, "InvalidParameter")
    assert "Iv must not be given" in replay.error_message
    assert raw.call("Encrypt", KeyId=KEY, Plaintext=b"x").status == 200  # no IV: the normal path


def test_a_chosen_iv_is_allowed_only_when_the_server_says_so(tmp_path: Path, raw_for):
    root = tmp_path / "root"
    api.init_instance(root)
    with api.start_in_thread(root, allow_chosen_iv=True) as running:
        raw = raw_for(describe(root, running.endpoint))
        iv = os.urandom(12)
        enc = raw.call("Encrypt", KeyId=KEY, Plaintext=b"compat", Iv=iv)
        assert enc.status == 200 and bytes(enc.message("EncryptResponse").Iv) == iv


def test_serve_flag_allows_a_chosen_iv(tmp_path: Path, raw_for):
    info = start_sandbox(tmp_path / "root", serve_args=["--allow-chosen-iv"])
    assert info.process is not None
    try:
        iv = os.urandom(12)
        enc = raw_for(info).call("Encrypt", KeyId=KEY, Plaintext=b"compat", Iv=iv)
        assert enc.status == 200 and bytes(enc.message("EncryptResponse").Iv) == iv
    finally:
        info.process.kill()


# --- destroyed keys ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["Destroyed", "Destroyed_Compromised"])
def test_destroyed_is_terminal_and_erases_the_material(tmp_path: Path, raw_for, state: str, capsys):
    import sqlite3

    from sealtui.cli import main

    root = tmp_path / "root"
    api.init_instance(root)
    key = api.create_key(root, alias="alias/doomed")
    db = sqlite3.connect(root / "sandbox.db")
    sealed = db.execute("SELECT object FROM objects WHERE id = ?", (key.id,)).fetchone()[0]
    db.close()
    material = __import__("json").loads(sealed)["material"].encode()
    with api.start_in_thread(root) as running:
        raw = raw_for(describe(root, running.endpoint))
        enc = raw.call("Encrypt", KeyId=key.id, Plaintext=b"before").message("EncryptResponse")
        assert api.set_key_state(root, key.id, state).state == state
        for response in (
            raw.call("Encrypt", KeyId=key.id, Plaintext=b"after"),
            raw.call("Decrypt", KeyId=key.id, CiphertextBlob=bytes(enc.CiphertextBlob), Iv=bytes(enc.Iv)),
            raw.call("Decrypt", CiphertextBlob=bytes(enc.CiphertextBlob), Iv=bytes(enc.Iv)),
        ):
            assert (response.status, response.error_code) == (409, "Rejected.PendingDeletion")
        with pytest.raises(InvalidInputError, match="its material was erased"):
            api.set_key_state(root, key.id, "Active")
        capsys.readouterr()
        assert main(["sandbox", "set-key-state", "--root-dir", str(root), key.id, "Active"]) == 3
        err = capsys.readouterr().err
        assert "cannot become Active" in err and "Traceback" not in err
        assert raw.call("Encrypt", KeyId=key.id, Plaintext=b"again").status == 409
    files = [p for p in root.iterdir() if p.name.startswith("sandbox.db")]
    assert files and not any(material in p.read_bytes() for p in files)  # gone from the database and its log


# --- malformed protobuf --------------------------------------------------------------------------------------------


def _malformed_bodies() -> Iterator[tuple[str, bytes]]:
    yield "invalid UTF-8 in KeyId", b"\x0a\x02\xff\xfe\x12\x01x"
    yield "20k nested groups", b"\x7b" * 20_000  # field 15, start-group: the CVE-2025-4565 path
    yield "20k nested groups, closed", b"\x7b" * 20_000 + b"\x7c" * 20_000
    yield "truncated length", b"\x0a\xff\xff\xff\x0f"
    yield "end group without start", b"\x0c"
    yield "bad wire type", b"\x0f"
    good = proto.serialize("EncryptRequest", KeyId=KEY, Plaintext=b"fuzz")
    rng = random.Random(4565)
    for n in range(300):  # bounded fuzz: mutations of a valid body and random bytes
        data = bytearray(good if n % 3 else os.urandom(rng.randrange(1, 64)))
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield f"fuzz {n}", bytes(data)


def test_malformed_protobuf_is_a_400_never_a_traceback(raw_for, sandbox: SandboxInfo):
    assert sandbox.process is not None
    raw = raw_for(sandbox)
    statuses: dict[int, int] = {}
    for name, body in _malformed_bodies():
        for api_name in ("Encrypt", "Decrypt", "GetSecretValue"):
            response = raw.send(raw.headers(api_name, body), body)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            assert response.status < 500, (name, api_name, response.error_message)
            if response.status >= 400:
                assert response.error_code  # an Error body the SDK can read
            if not name.startswith("fuzz"):
                assert (response.status, response.error_code) == (400, "InvalidParameter"), name
    print("statuses:", statuses)
    log = sandbox.process.log()
    assert "Traceback" not in log and "internal error" not in log


# --- a damaged database --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["header", "pages"])
def test_serve_refuses_a_damaged_database(tmp_path: Path, where: str, capsys):
    import sqlite3

    from sealtui.cli import main

    root = tmp_path / "root"
    api.init_instance(root)
    for i in range(40):  # enough rows for several pages
        api.put_secret(root, f"s{i}", os.urandom(400))
    db = sqlite3.connect(root / "sandbox.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray((root / "sandbox.db").read_bytes())
    if where == "header":
        data[:16] = b"not a database!!"
    else:
        page = 4096
        for offset in range(page, len(data) - page, page):
            data[offset + 8 : offset + 200] = os.urandom(192)
    (root / "sandbox.db").write_bytes(bytes(data))
    capsys.readouterr()
    code = main(["sandbox", "serve", "--root-dir", str(root), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 5, err
    assert "damaged" in err and "fix:" in err and "Traceback" not in err
    assert not (root / "serve.json").exists()


def test_a_full_disk_is_an_error_with_a_message(tmp_path: Path):
    root = tmp_path / "root"
    api.init_instance(root)

    def small_files() -> None:  # writes past 4 KiB fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [sys.executable, "-m", "sealtui", "sandbox", "create-key", "--root-dir", str(root)],
        cwd=ROOT, capture_output=True, text=True, preexec_fn=small_files, timeout=120,
    )  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "sandbox.db" in result.stderr and "fix:" in result.stderr and "Traceback" not in result.stderr
