"""Compare sealed values (or the sealed values of two manifests) by decoded metadata, never by plaintext.

`compare` is what `sealtui diff`, the TUI's Diff screen and `sealtui.diff` run: two manifests when both name a
Kubernetes `kind`, else two sealed values; text in which nothing decodes as a sealed value is an error, never
"equal".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sealtui.core.codec import decode
from sealtui.core.errors import InvalidInputError

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


@dataclass(frozen=True)
class Comparison:
    """Two sealed values field by field (`rows`), or two manifests value by value (`entries`)."""

    rows: list[DiffRow] | None = None
    entries: list[ManifestDiff] | None = None

    @property
    def same(self) -> bool:
        if self.entries is not None:
            return all(e.status == "same" for e in self.entries)
        return all(r.same for r in self.rows or [])

    def _tables(self) -> tuple[str, tuple[str, ...], list[tuple[Any, ...]]]:
        if self.entries is not None:
            rows = [(e.status, e.key, "; ".join(f"{r.field}: {r.a!r} -> {r.b!r}" for r in e.rows if not r.same))
                    for e in self.entries]
            changed = sum(e.status != "same" for e in self.entries)
            return f"{len(self.entries)} sealed value(s), {changed} differ", ("status", "value", "what differs"), rows
        table = [("" if r.same else "≠", r.field, _shown(r.a), _shown(r.b)) for r in self.rows or []]
        differ = sum(1 for r in self.rows or [] if not r.same)
        return f"{differ} field(s) differ" if differ else "the same", ("", "field", "A", "B"), table

    def _repr_html_(self) -> str:
        from sealtui.core.notebook import esc, html_table

        title, headers, rows = self._tables()
        return f"<div><p><b>{esc(title)}</b></p>{html_table(headers, rows)}</div>"

    def _repr_markdown_(self) -> str:
        from sealtui.core.notebook import md, md_table

        title, headers, rows = self._tables()
        return f"**{md(title)}**\n\n{md_table(headers, rows)}\n"


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def is_sealed_value(text: str) -> bool:
    """True when something in `text` decodes as a sealed value's header or payload (whatever its form)."""
    d = decode(text)
    return d.payload is not None or d.header is not None


def compare(a: str, b: str, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """Compare by decoded metadata, never plaintext: two manifests when both name a Kubernetes `kind`, else two
    sealed values (not stripped: whitespace around a value is one of the things compared, CDH cares). `names` say
    which side is which in errors (a file name, or the text as given)."""
    for text, name in ((a, names[0]), (b, names[1])):
        if not text.strip():
            raise InvalidInputError(f"{name} is empty", fix="give a sealed value or a manifest on each side")
    if looks_like_manifests(a, b):
        entries = diff_manifests(a, b)
        if not entries:
            raise InvalidInputError(f"neither {names[0]} nor {names[1]} holds a sealed value",
                                    fix="give two manifests that hold sealed values")
        return Comparison(entries=entries)
    for text, name in ((a, names[0]), (b, names[1])):
        if looks_like_manifests(text, text):
            raise InvalidInputError(f"{name} is a manifest and the other side is not",
                                    fix="compare two manifests, or two sealed values")
        if not is_sealed_value(text):
            raise InvalidInputError(f"{name} is not a sealed value: nothing in it decodes as one",
                                    fix="give a sealed.… string, a file holding one, or - for standard input")
    return Comparison(rows=diff_values(a, b))
