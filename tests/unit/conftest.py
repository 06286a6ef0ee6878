"""Fixtures for the core tests: the upstream vectors in tests/vectors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.paths import GUEST_COMPONENTS as GC


def gc_json(name: str) -> Any:
    return json.loads((GC / name).read_text())


@pytest.fixture(scope="session")
def test_key():
    from sealtui.core.jws import load_jwk

    return load_jwk(GC / "test-key.json")


@pytest.fixture(scope="session")
def test_key_2():
    from sealtui.core.jws import load_jwk

    return load_jwk(GC / "test-key-2.json")
