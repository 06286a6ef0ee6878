"""Reviewing sealed values without any key: scan manifests, compare two values or two manifests."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sealtui.core.errors import InvalidInputError

if TYPE_CHECKING:
    from sealtui.core.diff import Comparison
    from sealtui.core.jws import Jwk
    from sealtui.core.scan import Scan, ScanResult

__all__ = ["Comparison", "compare", "scan_manifests", "start_scan"]


def compare(a: str, b: str, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """Two sealed values or two manifests, by decoded metadata (`sealtui.core.diff.compare`)."""
    from sealtui.core.diff import compare as compare_texts

    return compare_texts(a, b, names)


def scan_manifests(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                   jwk: str | os.PathLike[str] | Jwk | None = None,
                   kid_map: str | os.PathLike[str] | Mapping[str, Jwk] | None = None) -> ScanResult:
    """Every sealed value in the manifests under `paths` (a path, or several), verified with `jwk` (a public JWK or
    its file) or the key the `kid_map` (a file, or a mapping of kid to `Jwk`) names for its kid, when given."""
    return start_scan(paths, jwk, kid_map).result()


def start_scan(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
               jwk: str | os.PathLike[str] | Jwk | None = None,
               kid_map: str | os.PathLike[str] | Mapping[str, Jwk] | None = None) -> Scan:
    """`scan_manifests` as a scan that reports each value as it is found and keeps none (`core.scan.Scan`):
    its memory does not grow with the number of files."""
    from sealtui.core.jws import Jwk, load_jwk
    from sealtui.core.scan import Scan, load_kid_map

    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    targets = [Path(p).expanduser() for p in given]
    if not targets or not all(str(p) for p in given):
        raise InvalidInputError("no path to scan", fix="give a manifest file or a directory")
    key = None if jwk is None else jwk if isinstance(jwk, Jwk) else load_jwk(Path(jwk).expanduser())
    kids = kid_map if isinstance(kid_map, Mapping) or kid_map is None else load_kid_map(Path(kid_map).expanduser())
    return Scan(targets, key, kids)
