"""Trustee's side (guest-facts.md §6): resource paths, what a `--trustee DIR` holds, and its resource policy.

A directory is read in one of two layouts:
- **trustee-operator**: YAML with a `KbsConfig` and the Secrets it lists in `spec.kbsSecretResources` (same
  namespace); Secret `<name>` key `<key>` is served as `kbs:///default/<name>/<key>` (the operator's
  secret-converter); the resource policy is the ConfigMap named by `spec.kbsResourcePolicyConfigMapName`.
- **KBS local resource store**: files `<repo>/<type>/<tag>` (optionally under `repository/`), or the flat
  `<repo>\\x2F<type>\\x2F<tag>` names of KBS's local-fs key-value storage; `policy.rego` beside them.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sealtui.core.errors import InvalidInputError
from sealtui.core.files import read_bytes
from sealtui.core.yamlload import MANIFEST_SUFFIXES, iter_manifest_files, k8s_objects, load_file

RESOURCE_SEGMENT = re.compile(r"^[a-zA-Z0-9_\-]+[a-zA-Z0-9_\-.]*$")
"""One segment of a KBS resource path (TR kbs/src/plugins/implementations/resource/backend.rs `ResourceDesc`)."""
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
OPERATOR_NAMESPACE = "trustee-operator-system"
"""Where trustee-operator's KbsConfig (and so the Secrets it serves) usually live."""
_FLAT = "\\x2F"

PolicyKind = Literal["allow-all", "deny-all", "denies-sample", "affirming", "custom"]


def resource_path(uri: str) -> str | None:
    """`repo/type/tag` of a `kbs:///repo/type/tag` URI; None when it is not one."""
    if not uri.startswith("kbs:///"):
        return None
    parts = uri[len("kbs:///"):].split("/")
    return "/".join(parts) if len(parts) == 3 and all(parts) else None


def kbs_path_problem(path: str) -> str | None:
    """Why KBS refuses `repo/type/tag` (`Request path … is invalid`), or None."""
    for name, seg in zip(("repository", "type", "tag"), path.split("/"), strict=False):
        if not RESOURCE_SEGMENT.match(seg):
            return (f"the {name} segment {seg!r} does not match KBS's [A-Za-z0-9_-]+[A-Za-z0-9_.-]* "
                    "(no leading dot, no other characters)")
    return None


def operator_path_problem(path: str) -> str | None:
    """Why trustee-operator cannot serve `repo/type/tag` (repo `default`, type a Secret name, tag a key), or None."""
    repo, rtype, tag = path.split("/")
    if repo != "default":
        return f"trustee-operator serves only repository 'default', not {repo!r}"
    if not _DNS1123_SUBDOMAIN.match(rtype) or len(rtype) > 253:
        why = " ('_' is not allowed)" if "_" in rtype else " (lower-case letters, digits, '-' and '.')"
        return f"the type {rtype!r} must be a Kubernetes Secret name{why}"
    if not _SECRET_KEY.match(tag) or tag.startswith("."):
        return f"the tag {tag!r} must be a Secret key that does not start with '.'"
    return None


def classify_policy(text: str) -> PolicyKind:
    """Which of Trustee's sample resource policies `text` is (comments and blank space ignored)."""
    body = " ".join(line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip())
    allow_rules = re.findall(r"\ballow\s+(?:if\s*)?\{", body)
    if re.search(r"default\s+allow\s*(:?=)\s*true", body) and not allow_rules:
        return "allow-all"
    if not allow_rules:
        return "deny-all"
    if "affirming" in body:
        return "affirming"
    if '["sample"]' in body.replace(" ", "") and "not input" in body:
        return "denies-sample"
    rule = re.sub(r"\s+", " ", body.split(allow_rules[0], 1)[1].split("}", 1)[0]).strip()
    if len(allow_rules) == 1 and rule in ('plugin == "resource"', 'data.plugin == "resource"', ""):
        return "allow-all"
    return "custom"


@dataclass
class Trustee:
    """The resources and resource policy of a Trustee, as read from `--trustee DIR`."""

    source: str
    mode: Literal["operator", "local"]
    resources: dict[str, bytes] = field(default_factory=dict)
    """`repo/type/tag` → content."""
    policy: str | None = None
    policy_source: str | None = None
    namespace: str = OPERATOR_NAMESPACE
    kbsconfig: str | None = None
    unlisted: dict[str, str] = field(default_factory=dict)
    """Operator mode: paths a Secret in the directory would serve if the KbsConfig listed it → Secret name."""
    notes: list[str] = field(default_factory=list)

    def get(self, path: str) -> bytes | None:
        return self.resources.get(path)

    def missing_hint(self, path: str) -> str:
        secret = self.unlisted.get(path)
        if secret:
            return (f"Secret {secret!r} would serve it, but KbsConfig {self.kbsconfig!r} does not list it in "
                    "spec.kbsSecretResources")
        return f"there is no resource {path} in {self.source}"

    @property
    def policy_kind(self) -> PolicyKind | None:
        return classify_policy(self.policy) if self.policy is not None else None


def load_trustee(directory: str | os.PathLike[str]) -> Trustee:
    root = Path(directory)
    if not root.is_dir():
        raise InvalidInputError(f"{root}: not a directory", fix="give --trustee a directory")
    objects: list[tuple[Path, dict]] = []
    for path in iter_manifest_files([root]):
        for doc in load_file(path):
            objects.extend((path, o) for o in k8s_objects(doc.data))
    configs = [(p, o) for p, o in objects if o.get("kind") == "KbsConfig"]
    if configs:
        return _operator(root, configs[0][1], [o for _, o in objects], len(configs))
    return _local(root)


def _operator(root: Path, config: dict, objects: list[dict], count: int) -> Trustee:
    meta = config.get("metadata") or {}
    spec = config.get("spec") or {}
    t = Trustee(str(root), "operator", namespace=str(meta.get("namespace") or OPERATOR_NAMESPACE),
                kbsconfig=str(meta.get("name") or "?"))
    if count > 1:
        t.notes.append(f"{count} KbsConfigs in {root}; doctor reads the first, {t.kbsconfig!r}")
    listed = [str(n) for n in spec.get("kbsSecretResources") or []]
    secrets: dict[str, dict] = {}
    configmaps: dict[str, dict] = {}
    for o in objects:
        m = o.get("metadata") or {}
        if str(m.get("namespace") or t.namespace) != t.namespace:
            continue
        if o.get("kind") == "Secret":
            secrets[str(m.get("name"))] = o
        elif o.get("kind") == "ConfigMap":
            configmaps[str(m.get("name"))] = o
    for name, secret in secrets.items():
        for key, content in _secret_items(secret).items():
            if key.startswith("."):
                continue  # the secret-converter skips hidden files
            path = f"default/{name}/{key}"
            if name in listed:
                t.resources[path] = content
            else:
                t.unlisted[path] = name
    for name in listed:
        if name not in secrets:
            t.notes.append(f"KbsConfig lists Secret {name!r}, which is not in {root} (namespace {t.namespace}); "
                           "the operator's reconcile fails on a missing Secret")
    policy_map = spec.get("kbsResourcePolicyConfigMapName")
    if policy_map:
        data = (configmaps.get(str(policy_map)) or {}).get("data") or {}
        text = data.get("resource-policy.rego") or next((v for k, v in data.items() if str(k).endswith(".rego")),
                                                        None)
        if isinstance(text, str):
            t.policy, t.policy_source = text, f"ConfigMap {policy_map}"
        else:
            t.notes.append(f"the resource policy ConfigMap {policy_map!r} is not in {root}")
    return t


def _secret_items(secret: dict) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            out[str(key)] = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            continue
    for key, value in (secret.get("stringData") or {}).items():
        out[str(key)] = str(value).encode("utf-8")
    return out


def _local(root: Path) -> Trustee:
    t = Trustee(str(root), "local")
    base = root / "repository" if (root / "repository").is_dir() else root
    for name in ("policy.rego", "resource-policy.rego"):
        for where in (root, base):
            if t.policy is None and (where / name).is_file():
                policy = read_bytes(where / name, "the resource policy")
                t.policy, t.policy_source = policy.decode("utf-8", errors="replace"), name
    for dirpath, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(dirpath).relative_to(base).parts
        for name in sorted(files):
            if name.startswith(".") or name in ("policy.rego", "resource-policy.rego"):
                continue
            if not Path(dirpath, name).is_file():  # a FIFO, a device, a socket: reading it could block forever
                t.notes.append(f"{Path(dirpath, name)} is not a regular file; ignored")
                continue
            if len(rel) == 2:
                path = f"{rel[0]}/{rel[1]}/{name}"
            elif not rel and name.count(_FLAT) == 2:
                path = name.replace(_FLAT, "/")
            else:
                if not (not rel and name.endswith(MANIFEST_SUFFIXES)):
                    t.notes.append(f"{Path(dirpath, name)} is not at <repo>/<type>/<tag>; ignored")
                continue
            t.resources[path] = read_bytes(Path(dirpath, name), "a Trustee resource")
    return t
