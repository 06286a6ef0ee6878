"""Kubernetes objects → pod templates, and for each container every value that would reach the kata agent.

kubelet resolves env `value:`, `valueFrom.secretKeyRef` / `configMapKeyRef` and `envFrom` into the container's env
list, and writes Secret / ConfigMap / projected volumes as files; the kata agent sees only the result
(guest-facts.md §5.2, §5.3). Secrets and ConfigMaps are resolved from the same input; `data` is base64,
`stringData` is plain and wins over `data` for the same key, as the API server merges them.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sealtui.core.yamlload import Document, k8s_objects, line_of

TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each workload kind keeps its pod template."""

_SEALED_LINE = re.compile(r"""^[\s"']*sealed\.""", re.IGNORECASE | re.MULTILINE)


def looks_sealed(raw: bytes | str) -> bool:
    """A value worth checking: some line starts with `sealed.` after blanks or quotes, in any case."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return bool(_SEALED_LINE.search(text))


@dataclass
class DataObject:
    """A Secret or ConfigMap from the input."""

    kind: str
    name: str
    namespace: str | None
    file: str
    line: int | None
    items: dict[str, bytes] = field(default_factory=dict)
    field_of: dict[str, str] = field(default_factory=dict)
    """key → `data`, `stringData` or `binaryData`: where the key's value came from."""
    bad: dict[str, str] = field(default_factory=dict)
    """key → why the API server would refuse it (e.g. `data` that is not base64)."""
    raw: dict[str, str] = field(default_factory=dict)
    """key → the text as written, for keys in `bad`."""
    lines: dict[str, int | None] = field(default_factory=dict)
    """key → the line of its value in the file."""

    def line_of(self, key: str | None) -> int | None:
        return self.lines.get(key or "") or self.line


@dataclass
class PodTemplate:
    kind: str
    name: str
    namespace: str | None
    file: str
    line: int | None
    workload_annotations: dict[str, Any]
    """The annotations of the workload object itself (not copied to its pods)."""
    pod_annotations: dict[str, Any]
    spec: dict[str, Any]
    annotations_path: str
    """Where the pod's annotations belong, e.g. `spec.template.metadata.annotations`."""


@dataclass
class FoundValue:
    container: str
    source: Literal["env", "envFrom", "volume", "secret"]
    name: str
    raw: bytes
    origin: str
    file: str
    line: int | None
    data_object: DataObject | None = None
    key: str | None = None
    volume: str | None = None
    mount_path: str | None = None
    sub_path: str | None = None
    volume_file: str | None = None
    """Path of the file inside the volume (a key, or an `items[].path`)."""

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")


@dataclass
class ContainerValues:
    name: str
    env_names: list[str]
    """Every env name the container gets, envFrom first then env, in order (for `$(VAR)` references)."""
    env_literals: dict[str, str]
    """env name → its literal `value:` (to find `$(VAR)` splicing)."""
    command: list[str]
    values: list[FoundValue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Inventory:
    templates: list[PodTemplate] = field(default_factory=list)
    objects: dict[tuple[str, str], list[DataObject]] = field(default_factory=dict)
    """(kind, name) → Secrets / ConfigMaps of that name (any namespace)."""
    runtime_classes: dict[str, str] = field(default_factory=dict)
    """RuntimeClass name → handler."""

    def find(self, kind: str, name: str, namespace: str | None) -> DataObject | None:
        candidates = self.objects.get((kind, name), [])
        for o in candidates:
            if o.namespace == namespace:
                return o
        for o in candidates:
            if o.namespace is None or namespace is None:
                return o
        return None


def collect(documents: list[Document]) -> Inventory:
    inv = Inventory()
    for doc in documents:
        for obj in k8s_objects(doc.data):
            kind = str(obj.get("kind") or "")
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            name, ns = str(meta.get("name") or "?"), meta.get("namespace")
            ns = str(ns) if ns else None
            if kind in ("Secret", "ConfigMap"):
                inv.objects.setdefault((kind, name), []).append(_data_object(kind, name, ns, doc.file, obj))
            elif kind == "RuntimeClass":
                inv.runtime_classes[name] = str(obj.get("handler") or "")
            elif kind in TEMPLATE_PATHS:
                tpl = _template(kind, name, ns, doc.file, obj)
                if tpl is not None:
                    inv.templates.append(tpl)
    return inv


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _template(kind: str, name: str, ns: str | None, file: str, obj: dict) -> PodTemplate | None:
    path = TEMPLATE_PATHS[kind]
    tpl = _dig(obj, path) if path else obj
    if not isinstance(tpl, dict) or not isinstance(tpl.get("spec"), dict):
        return None
    pod_meta, meta = _dict(tpl.get("metadata")), _dict(obj.get("metadata"))
    where = ".".join((*path, "metadata", "annotations"))
    return PodTemplate(kind, name, ns, file, line_of(obj), _dict(meta.get("annotations")) if path else {},
                       _dict(pod_meta.get("annotations")), tpl["spec"], where)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _data_object(kind: str, name: str, ns: str | None, file: str, obj: dict) -> DataObject:
    o = DataObject(kind, name, ns, file, line_of(obj))
    binary_field = "data" if kind == "Secret" else "binaryData"
    for key, value in _dict(obj.get(binary_field)).items():
        key = str(key)
        o.lines[key] = line_of(obj.get(binary_field), key)
        try:
            o.items[key] = base64.b64decode(str(value), validate=True)
            o.field_of[key] = binary_field
        except (binascii.Error, ValueError):
            o.bad[key] = f"{kind} {name!r} {binary_field}.{key} is not base64: the API server refuses it"
            o.raw[key] = str(value)
    plain_field = "stringData" if kind == "Secret" else "data"
    for key, value in _dict(obj.get(plain_field)).items():
        o.lines[str(key)] = line_of(obj.get(plain_field), str(key))
        o.items[str(key)] = str(value).encode("utf-8")
        o.field_of[str(key)] = plain_field
        o.bad.pop(str(key), None)
    return o


def container_values(tpl: PodTemplate, inv: Inventory) -> list[ContainerValues]:
    """Every container (init containers first) with the values that would reach the agent."""
    spec = tpl.spec
    volumes = {str(v.get("name")): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
    out = []
    for group in ("initContainers", "containers"):
        for c in spec.get(group) or []:
            if isinstance(c, dict):
                out.append(_container(tpl, c, volumes, inv))
    return out


def _container(tpl: PodTemplate, c: dict, volumes: dict[str, dict], inv: Inventory) -> ContainerValues:
    name = str(c.get("name") or "?")
    command = [str(x) for x in (c.get("command") or []) + (c.get("args") or [])]
    cv = ContainerValues(name, [], {}, command)
    for i, ef in enumerate(c.get("envFrom") or []):
        if not isinstance(ef, dict):
            continue
        ref_kind = "Secret" if "secretRef" in ef else "ConfigMap" if "configMapRef" in ef else None
        if ref_kind is None:
            continue
        ref = _dict(ef.get("secretRef") or ef.get("configMapRef"))
        obj = inv.find(ref_kind, str(ref.get("name")), tpl.namespace)
        if obj is None:
            if not ref.get("optional"):
                cv.notes.append(f"envFrom[{i}] names {ref_kind} {ref.get('name')!r}, which is not in these files: "
                                "its values are not checked")
            continue
        prefix = str(ef.get("prefix") or "")
        for key in sorted(set(obj.items) | set(obj.bad)):
            env_name = prefix + key
            cv.env_names.append(env_name)
            _add(cv, FoundValue(name, "envFrom", env_name, obj.items.get(key, obj.raw.get(key, "").encode()),
                                f"envFrom[{i}] {ref_kind}/{obj.name} key {key} ({obj.field_of.get(key, 'data')})",
                                obj.file, obj.line_of(key), obj, key))
    for i, e in enumerate(c.get("env") or []):
        if not isinstance(e, dict):
            continue
        env_name = str(e.get("name"))
        cv.env_names.append(env_name)
        if "value" in e:
            text = str(e.get("value") or "")
            cv.env_literals[env_name] = text
            _add(cv, FoundValue(name, "env", env_name, text.encode("utf-8"), f"env[{i}].value", tpl.file,
                                line_of(e, "value")))
            continue
        vf = _dict(e.get("valueFrom"))
        ref_kind = "Secret" if "secretKeyRef" in vf else "ConfigMap" if "configMapKeyRef" in vf else None
        if ref_kind is None:
            continue
        ref = _dict(vf.get("secretKeyRef") or vf.get("configMapKeyRef"))
        obj = inv.find(ref_kind, str(ref.get("name")), tpl.namespace)
        key = str(ref.get("key"))
        if obj is None or (key not in obj.items and key not in obj.bad):
            if not ref.get("optional"):
                what = f"{ref_kind} {ref.get('name')!r}" if obj is None else f"key {key!r} of {ref_kind} {obj.name!r}"
                cv.notes.append(f"env {env_name} reads {what}, which is not in these files: not checked")
            continue
        _add(cv, FoundValue(name, "env", env_name, obj.items.get(key, obj.raw.get(key, "").encode()),
                            f"env[{i}] {ref_kind}/{obj.name} key {key} ({obj.field_of.get(key, 'data')})",
                            obj.file, obj.line_of(key), obj, key))
    for m in c.get("volumeMounts") or []:
        if isinstance(m, dict) and str(m.get("name")) in volumes:
            _mount(tpl, cv, m, volumes[str(m.get("name"))], inv)
    return cv


def _add(cv: ContainerValues, v: FoundValue) -> None:
    if looks_sealed(v.raw):
        cv.values.append(v)


def volume_files(volume: dict, inv: Inventory, namespace: str | None,
                 notes: list[str]) -> list[tuple[str, DataObject, str]]:
    """The files of a Secret / ConfigMap / projected volume: (path inside the volume, object, key)."""
    sources: list[tuple[str, dict]] = []
    if isinstance(volume.get("secret"), dict):
        s = volume["secret"]
        sources.append(("Secret", {"name": s.get("secretName"), "items": s.get("items"),
                                   "optional": s.get("optional")}))
    if isinstance(volume.get("configMap"), dict):
        sources.append(("ConfigMap", volume["configMap"]))
    for src in _dict(volume.get("projected")).get("sources") or []:
        if isinstance(src, dict) and isinstance(src.get("secret"), dict):
            sources.append(("Secret", src["secret"]))
        elif isinstance(src, dict) and isinstance(src.get("configMap"), dict):
            sources.append(("ConfigMap", src["configMap"]))
    files = []
    for kind, ref in sources:
        obj = inv.find(kind, str(ref.get("name")), namespace)
        if obj is None:
            if not ref.get("optional"):
                notes.append(f"volume {volume.get('name')!r} mounts {kind} {ref.get('name')!r}, which is not in "
                             "these files: its files are not checked")
            continue
        keys = sorted(set(obj.items) | set(obj.bad))
        items = ref.get("items")
        if isinstance(items, list) and items:
            files += [(str(it.get("path")), obj, str(it.get("key"))) for it in items
                      if isinstance(it, dict) and str(it.get("key")) in keys]
        else:
            files += [(k, obj, k) for k in keys]
    return files


def _mount(tpl: PodTemplate, cv: ContainerValues, m: dict, volume: dict, inv: Inventory) -> None:
    mount_path = str(m.get("mountPath") or "")
    sub_path = m.get("subPath") or m.get("subPathExpr")
    for path, obj, key in volume_files(volume, inv, tpl.namespace, cv.notes):
        if sub_path and not (path == sub_path or path.startswith(f"{sub_path}/")):
            continue
        inside = mount_path if sub_path == path else posixpath.join(mount_path, path[len(sub_path) + 1:]
                                                                    if sub_path else path)
        raw = obj.items.get(key, obj.raw.get(key, "").encode())
        origin = f"volume {volume.get('name')} {obj.kind}/{obj.name} key {key} ({obj.field_of.get(key, 'data')})"
        _add(cv, FoundValue(cv.name, "volume", inside, raw, origin,
                            obj.file, obj.line_of(key), obj, key, str(volume.get("name")), mount_path,
                            str(sub_path) if sub_path else None, path))
