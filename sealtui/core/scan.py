"""Find every sealed value in Kubernetes YAML/JSON files and inspect each one.

Walks Secret `data` (base64) and `stringData`, container `env[].value`, and any other string that starts
with `sealed.` (after whitespace, in any case: a near miss is a finding too), through multi-document YAML and
`List` kinds. Each value is reported with its file, document, key path and line.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sealtui.core.errors import InvalidInputError
from sealtui.core.files import read_text
from sealtui.core.jws import Jwk, load_jwk
from sealtui.core.lint import inspect
from sealtui.core.report import InspectionReport
from sealtui.core.yamlload import compose_documents, load_documents

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class ScannedValue:
    """One sealed value found in a manifest."""

    file: str
    document: int
    """0-based index of the YAML document in the file."""
    path: str
    """Where in the document, e.g. `spec.template.spec.containers[0].env[1].value`."""
    line: int | None
    """1-based line of the value in the file."""
    encoding: str
    """`plain`, or `base64` for a Secret's `data`."""
    value: str
    report: InspectionReport
    resource: str = ""
    """`Kind/name` of the object holding it."""
    span: tuple[int, int] | None = None
    """Character offsets of the scalar in the file, so a tool can rewrite exactly it."""

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return {"file": self.file, "document": self.document, "resource": self.resource, "path": self.path,
                "line": self.line, "encoding": self.encoding, "form": r.form, "verdicts": r.verdicts,
                "signature": {"kid": r.signature.kid, "verified": r.signature.verified},
                "findings": r.to_dict()["findings"]}


@dataclass
class ScanError:
    """A file that could not be scanned."""

    file: str
    message: str
    """Why, without the file name."""
    fix: str | None = None
    """What to do about it, when the error says."""


@dataclass
class ScanResult:
    values: list[ScannedValue] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    files: int = 0

    def rejected(self, consumer: str = "cdh") -> list[ScannedValue]:
        return [v for v in self.values if v.report.verdicts.get(consumer) == "rejected"]

    def to_dict(self, consumer: str = "cdh") -> dict[str, Any]:
        return {"files": self.files, "values": [v.to_dict() for v in self.values],
                "errors": [{"file": e.file, "message": e.message} for e in self.errors],
                "rejected": len(self.rejected(consumer)), "consumer": consumer}

    _HEADERS = ("where", "object", "key path", "form", "cdh", "signature", "findings")

    def _rows(self) -> list[tuple[Any, ...]]:
        signature = {True: "verified", False: "BAD SIGNATURE", None: "not checked"}
        return [(f"{v.file}:{v.line}", v.resource, v.path, v.report.form, v.report.verdicts.get("cdh"),
                 signature[v.report.signature.verified],
                 "; ".join(f"{f.severity}: {f.code}" for f in v.report.findings if f.severity != "info"))
                for v in self.values]

    def _title(self) -> str:
        return (f"{len(self.values)} sealed value(s) in {self.files} file(s); {len(self.rejected())} rejected by "
                f"cdh" + (f"; {len(self.errors)} file(s) could not be scanned" if self.errors else ""))

    def _repr_html_(self) -> str:
        from sealtui.core.notebook import esc, html_table

        errors = html_table(("file", "could not be scanned"), [(e.file, e.message) for e in self.errors])
        return (f"<div><p><b>{esc(self._title())}</b></p>{html_table(self._HEADERS, self._rows())}"
                + (errors if self.errors else "") + "</div>")

    def _repr_markdown_(self) -> str:
        from sealtui.core.notebook import md, md_table

        errors = md_table(("file", "could not be scanned"), [(e.file, e.message) for e in self.errors])
        return (f"**{md(self._title())}**\n\n{md_table(self._HEADERS, self._rows())}\n"
                + (f"\n{errors}\n" if self.errors else ""))


def iter_manifest_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The manifest files under `paths` (files given explicitly are taken whatever their suffix). Walking a
    directory skips what is not a regular file (a FIFO, a device, a socket): reading it could block forever."""
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(MANIFEST_SUFFIXES) and (Path(root) / name).is_file():
                        yield Path(root) / name
        elif p.exists():
            yield p
        else:
            raise InvalidInputError(f"{p}: no such file or directory", fix="check the path to scan")


def load_kid_map(path: str | os.PathLike[str]) -> dict[str, Jwk]:
    """A JSON or YAML mapping `kid → public JWK file` (relative paths are relative to the map file)."""
    p = Path(path)
    text = read_text(p, "the kid map")
    fix = "write one `kid: path/to/public.json` per line"
    if _BINARY.search(text):
        raise InvalidInputError(f"{p} holds binary data, not a YAML/JSON kid map", fix=fix)
    documents = load_documents(text, str(p))
    data = documents[0].data if len(documents) == 1 else None
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{p}: the kid map must be a mapping of kid to public JWK file", fix=fix)
    kids: dict[str, Jwk] = {}
    for kid, value in data.items():
        try:
            kids[str(kid)] = load_jwk(value if isinstance(value, Mapping) else p.parent / str(value))
        except InvalidInputError as e:
            raise InvalidInputError(f"{p}: kid {str(kid)!r}: {e.message}", fix=e.fix) from None
    return kids


_BINARY = re.compile("[\x00-\x08\x0e-\x1f]")
"""Control characters no YAML or JSON text holds: the mark of a binary file."""


class Scan:
    """A scan that keeps nothing it has reported: `values()` yields each sealed value as its file is read.

    The manifest files are listed first (`files`, their paths only), so that a path that does not exist fails
    before any work, and a report can say the count first. A file that cannot be read or parsed is recorded in
    `errors`, not raised. Memory stays that of one file at a time, whatever the number of files (`scan` keeps
    every report: ~27 KiB a file).
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]], jwk: Jwk | None = None,
                 kid_map: Mapping[str, Jwk] | None = None) -> None:
        self.files: list[str] = [str(p) for p in iter_manifest_files(paths)]
        self.errors: list[ScanError] = []
        self._jwk = jwk
        self._kid_map = kid_map or {}

    def values(self) -> Iterator[ScannedValue]:
        """Every sealed value of every file, in order (once: the errors are recorded as it goes)."""
        for path in self.files:
            try:
                found = list(scan_text(read_text(Path(path), "the manifest"), path))
            except InvalidInputError as e:
                self.errors.append(ScanError(path, _without_name(e.message, path), e.fix))
                continue
            for v in found:
                key = self._kid_map.get(v.report.signature.kid or "") or self._jwk
                if key is not None:
                    v.report = inspect(v.value, key)
                yield v

    def result(self) -> ScanResult:
        """Run the scan, keeping every value."""
        values = list(self.values())
        return ScanResult(values, self.errors, len(self.files))


def scan(paths: Iterable[str | os.PathLike[str]], jwk: Jwk | None = None,
         kid_map: Mapping[str, Jwk] | None = None) -> ScanResult:
    """Scan files and directories, keeping every value; a file that cannot be read or parsed is reported, not
    raised. (`Scan` reports them one by one, keeping nothing.)"""
    return Scan(paths, jwk, kid_map).result()


def _without_name(message: str, name: str) -> str:
    """A reader's message without the file name it starts with (a `ScanError` names its file apart)."""
    for prefix in (f"{name}: ", f"{name} is ", f"{name} ", f"{name}:"):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def scan_text(text: str, file: str = "<text>") -> Iterator[ScannedValue]:
    """Sealed values in one YAML/JSON text (multi-document YAML allowed). Raises `InvalidInputError` (naming
    `file`, the line and the column) when it does not parse, or is an alias bomb (`sealtui.core.yamlload`)."""
    for index, node in enumerate(compose_documents(text, file)):
        if node is not None:
            yield from _walk_object(node, file, index, "")


def _scalar(node: Any) -> Any:
    import yaml

    return node.value if isinstance(node, yaml.ScalarNode) else None


def _items(node: Any) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _walk_object(node: Any, file: str, doc: int, prefix: str) -> Iterator[ScannedValue]:
    """Walk a Kubernetes object (or a List of them), knowing which object a value belongs to."""
    import yaml

    fields = _items(node)
    kind = _scalar(fields.get("kind"))
    if isinstance(kind, str) and kind.endswith("List") and isinstance(fields.get("items"), yaml.SequenceNode):
        for i, item in enumerate(fields["items"].value):
            yield from _walk_object(item, file, doc, f"{prefix}items[{i}].")
        return
    name = _scalar(_items(fields.get("metadata")).get("name"))
    resource = f"{kind or '?'}/{name or '?'}"
    for key, value in fields.items():
        yield from _walk(value, file, doc, f"{prefix}{key}", resource, kind == "Secret" and key == "data")
    if not fields:
        yield from _walk(node, file, doc, prefix.rstrip("."), resource, False)


def _walk(node: Any, file: str, doc: int, path: str, resource: str, base64_data: bool) -> Iterator[ScannedValue]:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        value, encoding = node.value, "plain"
        if base64_data:
            try:
                value = base64.b64decode(node.value, validate=True).decode("utf-8")
                encoding = "base64"
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return  # not base64 text: not a sealed value either
        if _looks_sealed(value):
            yield ScannedValue(file, doc, path or "(document)", node.start_mark.line + 1, encoding, value,
                               inspect(value), resource, (node.start_mark.index, node.end_mark.index))
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
            # Only the direct values of a Secret's `data` map are base64.
            yield from _walk(v, file, doc, f"{path}.{key}" if path else key, resource, base64_data)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, file, doc, f"{path}[{i}]", resource, False)


def _looks_sealed(value: str) -> bool:
    head = value.lstrip()[:7].lower()
    return head == "sealed."


def scan_result_json(result: ScanResult, consumer: str = "cdh") -> str:
    return json.dumps(result.to_dict(consumer), indent=2, ensure_ascii=False)


@dataclass
class ScanCounts:
    """What a streamed report saw: what a command's exit code depends on."""

    values: int = 0
    rejected: int = 0
    """Values the chosen consumer rejects."""
    bad_signatures: int = 0
    """Values whose signature was checked and does not verify."""

    def add(self, v: ScannedValue, consumer: str) -> None:
        self.values += 1
        self.rejected += v.report.verdicts.get(consumer) == "rejected"
        self.bad_signatures += v.report.signature.verified is False


def write_scan_json(running: Scan, out: TextIO, consumer: str = "cdh") -> ScanCounts:
    """Write `scan_result_json` of the scan, byte for byte, one value at a time as it is found (nothing kept)."""
    counts = ScanCounts()
    out.write(f'{{\n  "files": {len(running.files)},\n  "values": [')
    for v in running.values():
        item = json.dumps(v.to_dict(), indent=2, ensure_ascii=False).replace("\n", "\n    ")
        out.write(("," if counts.values else "") + "\n    " + item)
        counts.add(v, consumer)
    out.write("\n  ]," if counts.values else "],")
    tail = {"errors": [{"file": e.file, "message": e.message} for e in running.errors],
            "rejected": counts.rejected, "consumer": consumer}
    out.write(json.dumps(tail, indent=2, ensure_ascii=False)[1:])  # the members after "values"
    return counts
