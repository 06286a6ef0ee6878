"""cdh.toml, aa.toml and the kernel parameters, read the way CDH, AA and the kata agent read them.

guest-facts.md §2 (CDH's `CdhConfig`, loaded with the `config` crate), §2.3 (kernel-cmdline alternatives) and §3
(AA's `[token_configs.kbs]`). Errors are `InitdataError`s whose message names the file and keeps tomllib's line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from sealtui.core.doctor.initdata import InitdataError, parse_toml

CDH_SOCKET = "unix:///run/confidential-containers/cdh.sock"
"""The only socket the kata agent talks to (kata agent main.rs `CDH_SOCKET`)."""
CREDENTIALS_DIR = "/run/confidential-containers/cdh/kbs"
"""`[[credentials]]` paths must start with this (CDH hub/src/auth/kbs.rs `is_path_valid`)."""
KMS_CREDENTIALS_DIR = CREDENTIALS_DIR + "/kms-credential"
_BOOL_STRINGS = {"true": True, "false": False}
_URL = re.compile(r"^https?://[^/\s:]+(:\d+)?(/\S*)?$")


@dataclass
class CdhConfig:
    kbc_name: str
    kbc_url: str
    kbs_cert: str | None = None
    socket: str | None = None
    """None when cdh.toml leaves it out (the default, which is right)."""
    skip_verification: bool = False
    credentials: list[tuple[str, str]] = field(default_factory=list)
    """(resource_uri, path) of every `[[credentials]]` entry."""
    notes: list[str] = field(default_factory=list)


@dataclass
class AaConfig:
    kbs_url: str | None
    cert: str | None


@dataclass
class KernelParams:
    procs: str | None = None
    """`agent.guest_components_procs`."""
    kbc: tuple[str, str] | None = None
    """`agent.aa_kbc_params=<kbc>::<url>`."""
    kbc_error: str | None = None
    kbs_resources: list[tuple[str, str]] = field(default_factory=list)
    """`cdh.kbs_resources=<uri>::<path>,…` as (resource_uri, path)."""


def _string(value: Any, where: str, required: bool = True) -> str | None:
    # The `config` crate turns scalars into strings; tables and arrays are errors.
    if value is None:
        if required:
            raise InitdataError("header", f"cdh.toml has no {where}: CDH `invalid config`")
        return None
    if isinstance(value, dict | list):
        raise InitdataError("header", f"cdh.toml {where} is a {'table' if isinstance(value, dict) else 'list'}, "
                            "not a string: CDH `invalid config`")
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_cdh_toml(text: str) -> CdhConfig:
    doc = parse_toml(text, "cdh.toml")
    kbc = doc.get("kbc")
    if not isinstance(kbc, dict):
        raise InitdataError("header", "cdh.toml has no [kbc] table: CDH `invalid config` (the table is required)",
                            fix='add [kbc] with name = "cc_kbc" and url = "https://kbs:8080"')
    name = _string(kbc.get("name"), "[kbc].name")
    assert name is not None
    cfg = CdhConfig(name, _string(kbc.get("url"), "[kbc].url", required=False) or "",
                    _string(kbc.get("kbs_cert"), "[kbc].kbs_cert", required=False),
                    _string(doc.get("socket"), "socket", required=False))
    skip = doc.get("skip_sealed_secret_verification", False)
    if isinstance(skip, str) and skip.strip().lower() in _BOOL_STRINGS:
        cfg.notes.append(f"skip_sealed_secret_verification is the string {skip!r}; likely the config crate reads "
                         "it as a bool")
        skip = _BOOL_STRINGS[skip.strip().lower()]
    if not isinstance(skip, bool):
        raise InitdataError("header", f"cdh.toml skip_sealed_secret_verification is {skip!r}, not true or false: "
                            "CDH `invalid config`")
    cfg.skip_verification = skip
    creds = doc.get("credentials", [])
    if not isinstance(creds, list):
        raise InitdataError("header", "cdh.toml `credentials` is not an array of tables: write [[credentials]]")
    for i, c in enumerate(creds, 1):
        if not isinstance(c, dict) or "resource_uri" not in c or "path" not in c:
            raise InitdataError("header", f"cdh.toml [[credentials]] entry {i} needs both resource_uri and path: "
                                "CDH `invalid config`")
        uri, path = _string(c["resource_uri"], "resource_uri"), _string(c["path"], "path")
        assert uri is not None and path is not None
        cfg.credentials.append((uri, path))
    for table in ("aa", "log"):
        if table in doc and not isinstance(doc[table], dict):
            raise InitdataError("header", f"cdh.toml `{table}` is not a table: CDH `invalid config`")
    return cfg


def parse_aa_toml(text: str) -> AaConfig:
    doc = parse_toml(text, "aa.toml")
    tokens = doc.get("token_configs")
    kbs = tokens.get("kbs") if isinstance(tokens, dict) else None
    if not isinstance(kbs, dict):
        return AaConfig(None, None)
    url, cert = kbs.get("url"), kbs.get("cert")
    if not isinstance(url, str):
        raise InitdataError("header", "aa.toml [token_configs.kbs] has no url string: AA cannot load its config")
    return AaConfig(url, cert if isinstance(cert, str) else None)


def parse_kernel_params(text: str) -> KernelParams:
    kp = KernelParams()
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = text.split()
    for token in tokens:
        key, _, value = token.partition("=")
        if key == "agent.guest_components_procs":
            kp.procs = value
        elif key == "agent.aa_kbc_params":
            parts = value.split("::")
            if len(parts) != 2:
                kp.kbc_error = f"agent.aa_kbc_params={value!r} is not <kbc>::<url>: `illegal aa_kbc_params format`"
            else:
                kp.kbc = (parts[0], parts[1])
        elif key == "cdh.kbs_resources":
            for pair in filter(None, value.split(",")):
                uri, sep, path = pair.partition("::")
                if sep:
                    kp.kbs_resources.append((uri, path))
    return kp


def url_problem(url: str) -> str | None:
    if not url:
        return "the URL is empty"
    if not _URL.match(url):
        return f"{url!r} is not http(s)://host[:port]"
    return None


def credential_path_problem(path: str) -> str | None:
    """Why CDH refuses to write a credential at `path` (`illegal path to put credential`), or None."""
    if not path.startswith(CREDENTIALS_DIR):
        return f"{path!r} is not under {CREDENTIALS_DIR}"
    if any(seg in (".", "..") for seg in path.split("/")):
        return f"{path!r} has a '.' or '..' segment"
    return None


def same_pem(a: str | None, b: str | None) -> bool:
    return "".join((a or "").split()) == "".join((b or "").split())
