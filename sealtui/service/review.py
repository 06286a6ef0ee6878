"""Reviewing sealed values without any key: scan manifests, compare two values or two manifests."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sealtui.core.errors import InvalidInputError

if TYPE_CHECKING:
    from sealtui.core.diff import DiffRow, ManifestDiff
    from sealtui.core.scan import Scan, ScanResult

__all__ = ["Comparison", "compare", "scan_manifests", "start_scan"]


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


def compare(a: str, b: str) -> Comparison:
    """Compare by decoded metadata, never plaintext: two manifests when both name a Kubernetes `kind`, else two
    sealed values (not stripped: whitespace around a value is one of the things compared, CDH cares)."""
    from sealtui.core.diff import diff_manifests, diff_values, looks_like_manifests

    if not a.strip() or not b.strip():
        raise InvalidInputError("give both A and B", fix="give a sealed value or a manifest on each side")
    if looks_like_manifests(a, b):
        return Comparison(entries=diff_manifests(a, b))
    return Comparison(rows=diff_values(a, b))


def scan_manifests(paths: Iterable[str | os.PathLike[str]], jwk: str | os.PathLike[str] | None = None,
                   kid_map: str | os.PathLike[str] | None = None) -> ScanResult:
    """Every sealed value in the manifests under `paths`, verified with `jwk` or the key the `kid_map` file
    names for its kid, when given."""
    return start_scan(paths, jwk, kid_map).result()


def start_scan(paths: Iterable[str | os.PathLike[str]], jwk: str | os.PathLike[str] | None = None,
               kid_map: str | os.PathLike[str] | None = None) -> Scan:
    """`scan_manifests` as a scan that reports each value as it is found and keeps none (`core.scan.Scan`):
    its memory does not grow with the number of files."""
    from sealtui.core.jws import load_jwk
    from sealtui.core.scan import Scan, load_kid_map

    targets = [Path(p).expanduser() for p in paths]
    if not targets or not all(str(p) for p in paths):
        raise InvalidInputError("no path to scan", fix="give a manifest file or a directory")
    key = load_jwk(Path(jwk).expanduser()) if jwk else None
    kids = load_kid_map(Path(kid_map).expanduser()) if kid_map else None
    return Scan(targets, key, kids)
