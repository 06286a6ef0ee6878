"""initdata: the TOML that carries aa.toml, cdh.toml and policy.rego into the guest (guest-facts.md §1).

The annotation `io.katacontainers.config.hypervisor.cc_init_data` is standard base64 (padded, one line) of a gzip
stream of the TOML bytes; the digest the TEE measures is the `algorithm` hash of the exact decompressed bytes.
Decoding follows the runtime's steps (base64 → gzip → UTF-8 → TOML → version, algorithm, [data]); each step
raises `InitdataError` naming the step, so a check can say which one fails and why.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import re
import tomllib
import zlib
from dataclasses import dataclass
from typing import Any, Literal

from sealtui.core.errors import InvalidInputError

ANNOTATION = "io.katacontainers.config.hypervisor.cc_init_data"
"""The pod annotation the kata runtime reads (kata-types annotations/mod.rs; runtime annotations.go)."""
KERNEL_PARAMS = "io.katacontainers.config.hypervisor.kernel_params"
VERSION = "0.1.0"
ALGORITHMS = ("sha256", "sha384", "sha512")
KNOWN_KEYS = ("aa.toml", "cdh.toml", "policy.rego")
"""The [data] keys the kata agent reads; any other key is ignored."""

Stage = Literal["base64", "gzip", "utf-8", "toml", "header"]

_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class InitdataError(InvalidInputError):
    """The annotation or the TOML cannot be used; `stage` says which step of the runtime refuses it."""

    def __init__(self, stage: Stage, message: str, *, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.stage = stage


@dataclass(frozen=True)
class Initdata:
    """A decoded, valid initdata document."""

    toml_bytes: bytes
    """The exact decompressed bytes: what the digest is over."""
    version: str
    algorithm: str
    data: dict[str, str]

    @property
    def digest(self) -> str:
        return digest(self.toml_bytes, self.algorithm)


def digest(toml_bytes: bytes, algorithm: str) -> str:
    """Hex `algorithm` digest of the exact TOML bytes deployed (what TDX MRCONFIGID / SNP HOST_DATA carry)."""
    if algorithm not in ALGORITHMS:
        raise InvalidInputError(f"algorithm {algorithm!r} is not one kata supports",
                                fix="use sha256, sha384 or sha512")
    return hashlib.new(algorithm, toml_bytes).hexdigest()


def encode_annotation(toml_bytes: bytes) -> str:
    """The annotation value: standard base64, padded, one line, of a gzip stream of `toml_bytes`.

    gzip's header carries no time stamp (mtime 0), so the same TOML always gives the same annotation.
    """
    return base64.b64encode(gzip.compress(toml_bytes, mtime=0)).decode("ascii")


def decode_annotation(value: str) -> tuple[bytes, bool]:
    """The TOML bytes of an annotation value, and whether the base64 had line breaks.

    Line breaks are reported rather than refused: the Go runtime's decoder skips them, runtime-rs's STANDARD
    decoder does not (guest-facts.md §1.2).
    """
    text = value.strip(" \t")
    wrapped = "\n" in text or "\r" in text
    compact = text.replace("\r", "").replace("\n", "")
    if not compact:
        raise InitdataError("base64", "the initdata annotation is empty", fix="encode it with `sealtui initdata`")
    if not _B64.match(compact) or len(compact) % 4:
        hint = ""
        if "version" in compact or "[data]" in compact:
            hint = ": it looks like plain TOML"
        elif re.fullmatch(r"[A-Za-z0-9_-]+=*", compact):
            hint = ": it looks like base64url ('-' or '_'); the runtime needs standard base64"
        raise InitdataError("base64", f"the initdata annotation is not standard padded base64{hint}",
                            fix="encode it as `gzip -c initdata.toml | base64 -w0`")
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InitdataError("base64", f"the initdata annotation is not base64 ({e})",
                            fix="encode it as `gzip -c initdata.toml | base64 -w0`") from None
    if raw[:2] != b"\x1f\x8b":
        hint = ": it is base64 of plain TOML, not of gzip" if b"version" in raw[:200] else ""
        raise InitdataError("gzip", f"the decoded annotation is not gzip (no gzip magic){hint}",
                            fix="gzip it before base64: `gzip -c initdata.toml | base64 -w0`")
    try:
        toml_bytes = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise InitdataError("gzip", f"the gzip stream in the annotation is broken ({e})",
                            fix="re-encode it: `gzip -c initdata.toml | base64 -w0`") from None
    return toml_bytes, wrapped


def parse_initdata(toml_bytes: bytes) -> Initdata:
    """Parse and validate the TOML as the kata agent does (`version`, `algorithm`, `[data]` of strings)."""
    try:
        text = toml_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InitdataError("utf-8", f"the initdata TOML is not UTF-8 (byte {e.start})") from None
    doc = parse_toml(text, "the initdata TOML", stage="toml")
    version, algorithm, data = doc.get("version"), doc.get("algorithm"), doc.get("data")
    missing = [k for k, v in (("version", version), ("algorithm", algorithm), ("data", data)) if v is None]
    if missing:
        raise InitdataError("header", f"the initdata has no {', '.join(missing)}: `parse initdata failed`",
                            fix='it needs version = "0.1.0", algorithm = "sha384" and a [data] table')
    if not isinstance(version, str) or version != VERSION:
        raise InitdataError("header", f"initdata version is {version!r}: `unsupported version: {version}, "
                            f"expected: {VERSION}`", fix=f'set version = "{VERSION}"')
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        hint = f' (write "{algorithm.replace("-", "")}": the IANA name with a hyphen is refused)' \
            if isinstance(algorithm, str) and algorithm.replace("-", "") in ALGORITHMS else ""
        raise InitdataError("header", f"initdata algorithm is {algorithm!r}{hint}: `unsupported algorithm: "
                            f"{algorithm}, supported algorithms: sha256, sha384, sha512`",
                            fix='algorithm = "sha256", "sha384" or "sha512"')
    if not isinstance(data, dict):
        raise InitdataError("header", "initdata `data` is not a table: `parse initdata failed`",
                            fix="write it as a [data] table of strings")
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise InitdataError("header", f"initdata [data] value {bad[0]!r} is not a string (a nested table?): "
                            "`parse initdata failed`", fix="write each [data] value as a '''…''' string")
    return Initdata(toml_bytes, version, algorithm, dict(data))


def parse_toml(text: str, what: str, stage: Stage = "toml") -> dict[str, Any]:
    """tomllib with an error that names the document and keeps tomllib's line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InitdataError(stage, f"{what} is not valid TOML: {e}", fix="fix the TOML at that line") from None


def toml_string(text: str) -> str:
    """`text` as a TOML string value: a '''literal''' block when it can be one (as the docs write it)."""
    plain = all(c in "\n\t" or (ord(c) >= 0x20 and c != "\x7f") for c in text)
    if plain and "'''" not in text and not text.endswith("'"):
        return "'''\n" + text + "'''"
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def build_initdata(data: dict[str, str], algorithm: str = "sha384") -> str:
    """An initdata TOML document for the given [data] entries (e.g. aa.toml, cdh.toml, policy.rego)."""
    if algorithm not in ALGORITHMS:
        raise InvalidInputError(f"algorithm {algorithm!r} is not one kata supports", fix="use sha256/384/512")
    lines = [f'algorithm = "{algorithm}"', f'version = "{VERSION}"', "", "[data]"]
    for key, value in data.items():
        lines.append(f"{json.dumps(key)} = {toml_string(value)}")
        lines.append("")
    return "\n".join(lines)


def aa_toml(kbs_url: str, ca_pem: str | None = None) -> str:
    """aa.toml that attests to `kbs_url` (with the KBS CA for https)."""
    lines = ["[token_configs]", "[token_configs.kbs]", f"url = {json.dumps(kbs_url)}"]
    if ca_pem:
        lines.append(f'cert = """\n{ca_pem.strip()}\n"""')
    return "\n".join(lines) + "\n"


def cdh_toml(kbs_url: str, ca_pem: str | None = None, *, skip_verification: bool = False,
             credentials: list[tuple[str, str]] | None = None) -> str:
    """cdh.toml fetching from `kbs_url` with cc_kbc, default socket, and `[[credentials]]` (resource_uri, path)."""
    lines = ['socket = "unix:///run/confidential-containers/cdh.sock"',
             f"skip_sealed_secret_verification = {'true' if skip_verification else 'false'}", "",
             "[kbc]", 'name = "cc_kbc"', f"url = {json.dumps(kbs_url)}"]
    if ca_pem:
        lines.append(f'kbs_cert = """\n{ca_pem.strip()}\n"""')
    for uri, path in credentials or []:
        lines += ["", "[[credentials]]", f"resource_uri = {json.dumps(uri)}", f"path = {json.dumps(path)}"]
    return "\n".join(lines) + "\n"
