"""New files only, all or nothing, plaintext with mode 0600."""

from __future__ import annotations

import stat

import pytest

from sealtui.core.errors import InvalidInputError
from sealtui.core.files import write_new_file, write_private_file


def test_private_file_mode_and_no_overwrite(tmp_path):
    p = write_private_file(tmp_path / "out", b"plaintext")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and p.read_bytes() == b"plaintext"
    with pytest.raises(InvalidInputError, match="already exists"):
        write_private_file(p, b"other")
    assert p.read_bytes() == b"plaintext"
    assert [x.name for x in tmp_path.iterdir()] == ["out"]  # no temporary file left behind


def test_unwritable_directory_is_a_clean_error(tmp_path):
    with pytest.raises(InvalidInputError):
        write_new_file(tmp_path / "missing-dir" / "f", b"x")
    assert list(tmp_path.iterdir()) == []
