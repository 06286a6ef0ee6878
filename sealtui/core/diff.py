"""Compare sealed values (or the sealed values of two manifests) by decoded metadata, never by plaintext."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sealtui.core.codec import decode

FIELDS = ("form", "type", "version", "alg", "kid", "provider", "key_id", "kms_instance_id", "client_key_id",
          "client_type", "resource_uri", "wrap_type", "encrypted_key_bytes", "encrypted_data_bytes",
          "plaintext_bytes", "iv", "annotations", "length", "whitespace")
"""What `describe` reports, in display order."""


def _size(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return len(base64.b64decode(value))
    except (binascii.Error, ValueError):
        return None


def describe(text: str) -> dict[str, Any]:
    """The metadata of a sealed value that can be compared without any key."""
    d = decode(text)
    p: dict[str, Any] = d.payload if isinstance(d.payload, dict) else {}
    h: dict[str, Any] = d.header if isinstance(d.header, dict) else {}
    raw_settings = p.get("provider_settings")
    settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
    data_bytes = _size(p.get("encrypted_data"))
    wrap = p.get("wrap_type")
    return {
        "form": d.form.value, "type": p.get("type"), "version": p.get("version"), "alg": h.get("alg"),
        "kid": h.get("kid"), "provider": p.get("provider"), "key_id": p.get("key_id"),
        "kms_instance_id": settings.get("kms_instance_id"), "client_key_id": settings.get("client_key_id"),
        "client_type": settings.get("client_type"),
        "resource_uri": p.get("name") if p.get("type") == "vault" else None,
        "wrap_type": wrap, "encrypted_key_bytes": _size(p.get("encrypted_key")),
        "encrypted_data_bytes": data_bytes,
        "plaintext_bytes": data_bytes - 16 if data_bytes is not None and wrap == "A256GCM" else data_bytes,
        "iv": p.get("iv"),
        "annotations": sorted(p["annotations"]) if isinstance(p.get("annotations"), dict) else None,
        "length": len(text),
        "whitespace": bool(d.leading_whitespace or d.trailing_whitespace),
    }


@dataclass(frozen=True)
class DiffRow:
    field: str
    a: Any
    b: Any

    @property
    def same(self) -> bool:
        return self.a == self.b


def looks_like_manifests(a: str, b: str) -> bool:
    """Whether two texts are to be compared as manifests: both name a Kubernetes `kind`."""
    return all("kind:" in t or '"kind"' in t for t in (a, b))


def diff_values(a: str, b: str) -> list[DiffRow]:
    """Every metadata field of two sealed values, side by side."""
    da, db = describe(a), describe(b)
    return [DiffRow(f, da[f], db[f]) for f in FIELDS]


@dataclass(frozen=True)
class ManifestDiff:
    """A sealed value that exists in one manifest or both, keyed by resource and key path."""

    key: str
    status: str
    """`added`, `removed`, `changed` or `same`."""
    rows: list[DiffRow]


def diff_manifests(text_a: str, text_b: str) -> list[ManifestDiff]:
    """Pair the sealed values of two manifests by `Kind/name:path` and compare each pair."""
    from sealtui.core.scan import scan_text

    def index(text: str) -> dict[str, str]:
        return {f"{v.resource}:{v.path}": v.value for v in scan_text(text)}

    ia, ib = index(text_a), index(text_b)
    out = []
    for key in sorted(ia.keys() | ib.keys()):
        if key not in ib:
            out.append(ManifestDiff(key, "removed", []))
        elif key not in ia:
            out.append(ManifestDiff(key, "added", []))
        else:
            rows = diff_values(ia[key], ib[key])
            out.append(ManifestDiff(key, "same" if ia[key] == ib[key] else "changed", rows))
    return out
