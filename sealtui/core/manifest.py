"""Kubernetes `Secret` manifests that carry sealed values, and the snippets that consume them.

The values are sealed strings; they carry no trailing newline (upstream CDH rejects one) and the YAML is written
without line folding so a value copies as one line.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sealtui.core.errors import InvalidInputError

DataForm = Literal["stringData", "data"]

SECRET_MAX_BYTES = 1024 * 1024
"""The most data one Kubernetes Secret holds: the API server refuses a Secret whose values (`stringData` merged
into `data`, counted decoded) add up to more (`MaxSecretSize`, 1 MiB)."""

OVERSIZED_FIX = ("deliver large data as a file instead: keep it in the KMS as a secret (or as a KBS resource), seal "
                 "a reference to it (`sealtui seal vault`) and mount it as a volume; or split it into values that "
                 "fit")
"""What to do about data too large for a Secret (the front ends add how to seal it anyway)."""


class SecretTooLargeError(InvalidInputError):
    """Sealed values that would not fit one Kubernetes Secret."""


def check_secret_size(sizes: Mapping[str, int], what: str = "the Secret", *, at_least: bool = False) -> None:
    """Raise `SecretTooLargeError` when values of these sizes (bytes, by key) would not fit one Secret.
    `at_least`: the sizes are lower bounds (known before sealing)."""
    total = sum(sizes.values())
    if total <= SECRET_MAX_BYTES:
        return
    size = f"{_mib(total)} or more" if at_least else _mib(total)
    limit = "a Kubernetes Secret holds at most 1 MiB of data"
    if len(sizes) == 1:
        raise SecretTooLargeError(f"{what} would be {size}: {limit}", fix=OVERSIZED_FIX)
    biggest = ", ".join(f"{k} {_mib(n)}" for k, n in sorted(sizes.items(), key=lambda kv: -kv[1])[:3])
    raise SecretTooLargeError(f"{what} would hold {size} of sealed values (the largest: {biggest}): {limit}",
                              fix=OVERSIZED_FIX)


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.2f} MiB" if n >= 100 * 1024 else f"{n / 1024:.1f} KiB"


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_ENV_NAME = re.compile(r"[^A-Za-z0-9_]")
_PLAIN = re.compile(r"[-._a-zA-Z0-9+/=]+\Z")


def _strings(data: Any) -> list[str]:
    """Every key and value of a manifest's dict (strings, and dicts of them)."""
    out: list[str] = []
    for k, v in data.items():
        out.append(k)
        if isinstance(v, dict):
            out += _strings(v)
        else:
            out.append(v)
    return out


@dataclass(frozen=True)
class SecretManifest:
    """A `v1` Secret with sealed values, and how a pod uses it."""

    name: str
    namespace: str | None
    values: dict[str, str]
    form: DataForm = "stringData"

    def to_dict(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name}
        if self.namespace:
            metadata["namespace"] = self.namespace
        if self.form == "data":
            body = {k: base64.b64encode(v.encode("utf-8")).decode("ascii") for k, v in self.values.items()}
        else:
            body = dict(self.values)
        return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", self.form: body}

    def to_yaml(self) -> str:
        import yaml  # only the manifest path needs PyYAML

        data = self.to_dict()
        # libyaml's C emitter, when PyYAML has it, writes exactly what PyYAML's own does for strings of these
        # characters (names, base64, sealed strings), ~25x faster: a third of `seal bulk` for 5,000 values. The
        # two differ on the quoting of some other strings (an empty key, control characters in a key).
        c_dumper = getattr(yaml, "CSafeDumper", None)
        plain = all(_PLAIN.match(s) for s in _strings(data))
        return str(yaml.dump(data, Dumper=c_dumper if c_dumper and plain else yaml.SafeDumper, sort_keys=False,
                             width=2**31 - 1, default_flow_style=False))

    def kubectl_command(self) -> str:
        """The equivalent `kubectl create secret generic …` command, shell-quoted."""
        parts = ["kubectl", "create", "secret", "generic", self.name]
        if self.namespace:
            parts += ["--namespace", self.namespace]
        parts += [f"--from-literal={k}={v}" for k, v in self.values.items()]
        return " ".join(shlex.quote(p) for p in parts)

    def pod_snippet(self, mount_path: str = "/sealed") -> str:
        """Container `env[].valueFrom.secretKeyRef` entries and a volume that mounts every key as a file."""
        import yaml

        env = [{"name": _ENV_NAME.sub("_", k).upper(),
                "valueFrom": {"secretKeyRef": {"name": self.name, "key": k}}} for k in self.values]
        snippet = {
            "containers": [{"name": "app", "env": env,
                            "volumeMounts": [{"name": f"{self.name}-sealed", "mountPath": mount_path,
                                              "readOnly": True}]}],
            "volumes": [{"name": f"{self.name}-sealed", "secret": {"secretName": self.name}}],
        }
        header = ("# In a CoCo pod the kata agent hands values that start with `sealed.` to CDH, which unseals\n"
                  "# them after attestation: env vars and mounted files hold the plaintext inside the TEE.\n")
        return header + str(yaml.safe_dump(snippet, sort_keys=False, width=2**31 - 1))

    def _summary(self) -> tuple[str, list[tuple[str, str, int]]]:
        where = f" in namespace {self.namespace}" if self.namespace else ""
        rows = [(k, _kid(v), len(v)) for k, v in self.values.items()]
        return f"Secret {self.name}{where}: {len(self.values)} sealed value(s) in {self.form}", rows

    def _repr_html_(self) -> str:
        from sealtui.core.notebook import esc, html_table

        title, rows = self._summary()
        return (f"<div><p><b>{esc(title)}</b></p>{html_table(('key', 'kid', 'length'), rows)}"
                f"<pre>{esc(self.to_yaml())}</pre></div>")

    def _repr_markdown_(self) -> str:
        from sealtui.core.notebook import md, md_code, md_table

        title, rows = self._summary()
        return f"**{md(title)}**\n\n{md_table(('key', 'kid', 'length'), rows)}\n\n{md_code(self.to_yaml())}\n"


def _kid(sealed: str) -> str:
    from sealtui.core.codec import decode

    header = decode(sealed).header
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else ""


def build_manifest(name: str, values: Mapping[str, str], namespace: str | None = None,
                   form: DataForm = "stringData", *, allow_oversized: bool = False) -> SecretManifest:
    """Validate names and values and build the manifest. Values are stripped of surrounding whitespace. Values
    that would not fit one Secret (`SECRET_MAX_BYTES`) are refused unless `allow_oversized`."""
    if not _DNS_SUBDOMAIN.match(name or ""):
        raise InvalidInputError(f"Secret name {name!r} is not a valid Kubernetes name",
                                fix="use lower-case letters, digits, '-' and '.', starting and ending alphanumeric")
    if namespace is not None and not _DNS_LABEL.match(namespace):
        raise InvalidInputError(f"namespace {namespace!r} is not a valid Kubernetes namespace",
                                fix="use lower-case letters, digits and '-' (at most 63)")
    if form not in ("stringData", "data"):
        raise InvalidInputError(f"unknown form {form!r}", fix="use stringData or data")
    if not values:
        raise InvalidInputError("no values to put in the Secret", fix="give at least one KEY=SEALED pair")
    clean: dict[str, str] = {}
    for key, value in values.items():
        if not _SECRET_KEY.match(key or ""):
            raise InvalidInputError(f"Secret key {key!r} is not valid",
                                    fix="use letters, digits, '-', '_' and '.'")
        value = value.strip()
        if not value.startswith("sealed."):
            raise InvalidInputError(f"value of {key!r} does not start with `sealed.`",
                                    fix="the kata agent only unseals values that start with `sealed.`")
        clean[key] = value
    if not allow_oversized:
        check_secret_size({k: len(v.encode("utf-8")) for k, v in clean.items()}, f"Secret {name!r}")
    return SecretManifest(name, namespace, clean, form)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """Parse `KEY=VALUE` strings (from argv or stdin lines); later keys must not repeat earlier ones."""
    out: dict[str, str] = {}
    for i, pair in enumerate(pairs, 1):
        if not pair.strip() or pair.lstrip().startswith("#"):
            continue
        key, sep, value = pair.partition("=")
        if not sep:
            # Never echo the line: in bulk sealing it may be plaintext.
            raise InvalidInputError(f"line {i} has no '='", fix="write KEY=VALUE")
        key = key.strip()
        if key in out:
            raise InvalidInputError(f"key {key!r} is given twice", fix="each key may appear once")
        out[key] = value
    return out
