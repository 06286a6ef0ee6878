"""New files only, all or nothing, plaintext with mode 0600."""

from __future__ import annotations

import os
import stat

import pytest

from sealtui.core.errors import InvalidInputError
from sealtui.core.files import write_new_file


def test_new_file_mode_and_no_overwrite(tmp_path):
    p = write_new_file(tmp_path / "out", b"plaintext")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and p.read_bytes() == b"plaintext"
    with pytest.raises(InvalidInputError, match="already exists"):
        write_new_file(p, b"other")
    assert p.read_bytes() == b"plaintext"
    assert [x.name for x in tmp_path.iterdir()] == ["out"]  # no temporary file left behind


def test_unwritable_directory_is_a_clean_error(tmp_path):
    with pytest.raises(InvalidInputError):
        write_new_file(tmp_path / "missing-dir" / "f", b"x")
    assert list(tmp_path.iterdir()) == []


# --- the one reader --------------------------------------------------------------------------------------------

from sealtui.core import files  # noqa: E402
from sealtui.core.errors import CredentialError  # noqa: E402


def _refused(path, match: str, **kwargs) -> InvalidInputError:
    with pytest.raises(InvalidInputError, match=match) as info:
        files.read_bytes(path, "the public JWK", **kwargs)
    assert info.value.fix  # every refusal says what to do
    return info.value


def test_reader_reads_text_and_bytes(tmp_path):
    p = tmp_path / "f"
    p.write_bytes("héllo\n".encode())
    assert files.read_text(p, "x") == "héllo\n" and files.read_bytes(p, "x") == "héllo\n".encode()


def test_reader_names_the_file_and_the_fix(tmp_path):
    assert "check the path of the public JWK" == _refused(tmp_path / "nope", "nope: no such file").fix
    assert "the public JWK" in (_refused(tmp_path, "is a directory").fix or "")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(InvalidInputError, match=r"bin is not UTF-8 text \(byte 0\)"):
        files.read_text(tmp_path / "bin", "the manifest")


def test_reader_refuses_fifos_devices_and_sockets_without_blocking(tmp_path):
    import socket

    os.mkfifo(tmp_path / "fifo")
    _refused(tmp_path / "fifo", "is a FIFO, not a regular file")
    _refused("/dev/zero", "is a character device, not a regular file")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "sock"))
        _refused(tmp_path / "sock", "is a socket, not a regular file")


def test_reader_stops_at_the_size_limit(tmp_path, monkeypatch):
    p = tmp_path / "big"
    p.write_bytes(b"x" * 11)
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 10)
    error = _refused(p, "is larger than 64 MiB")
    assert "1 MiB" in (error.fix or "")
    p.write_bytes(b"x" * 10)
    assert files.read_bytes(p, "x") == b"x" * 10


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_reader_says_permission_denied(tmp_path):
    p = tmp_path / "secret"
    p.write_text("x")
    p.chmod(0)
    _refused(p, "permission denied")


def test_reader_raises_the_class_asked_for(tmp_path):
    with pytest.raises(CredentialError):
        files.read_bytes(tmp_path / "nope", "the CA bundle", error=CredentialError)
