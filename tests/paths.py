"""Where the tests find things: the project root and the test vectors (tests/vectors, provenance in its README)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The project root (the folder holding pyproject.toml)."""

VECTORS = ROOT / "tests" / "vectors"
GUEST_COMPONENTS = VECTORS / "guest-components"
"""Upstream JWKs and payloads from confidential-containers/guest-components."""
ALIYUN = VECTORS / "aliyun"
"""A real Alibaba client key, its password (JSON and raw text) and a real KMS-instance CA bundle."""
