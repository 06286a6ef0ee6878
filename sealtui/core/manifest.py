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


def build_manifest(name: str, values: Mapping[str, str], namespace: str | None = None,
                   form: DataForm = "stringData") -> SecretManifest:
    """Validate names and values and build the manifest. Values are stripped of surrounding whitespace."""
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
