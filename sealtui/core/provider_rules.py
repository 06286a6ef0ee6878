"""Payload rules: the schema CDH applies at unseal, and each provider's settings (DESIGN §3.2).

Each rule adds `Finding`s for the consumers that parse the payload (both CDH builds, verification on or off);
the kata agent does not look inside payloads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sealtui.core.b64 import Base64Problem, b64std_decode
from sealtui.core.report import Severity
from sealtui.core.spec import SUPPORTED_VERSION, WRAP_TYPES

PAYLOAD_CONSUMERS = ("cdh", "cdh-skip-verification", "openanolis-cdh")
"""The consumers that parse and unseal the payload."""

RESOURCE_URI = re.compile(r"^kbs:///[^/]+/[^/]+/[^/]+$")
"""A KBS resource URI: three slashes, then repository/type/tag."""

ALIYUN_GUEST_DIR = "/run/confidential-containers/cdh/kbs/kms-credential/aliyun/"

_ENVELOPE_FIELDS = ("key_id", "encrypted_key", "encrypted_data", "wrap_type", "iv", "provider")
_VAULT_FIELDS = ("name", "provider")
_KNOWN = {"version", "type", "provider_settings", "annotations", *_ENVELOPE_FIELDS, *_VAULT_FIELDS}

Add = Callable[..., None]


def check_payload(payload: Any, add: Add) -> str | None:
    """Apply every payload rule; return the payload type when known."""
    if not isinstance(payload, dict):
        add("error", "payload-not-object", "the payload is JSON but not an object", part="payload",
            fix="a payload is a JSON object with version, type, provider, …")
        return None
    version = payload.get("version")
    if version is None:
        add("error", "version-missing", "payload has no 'version'", fix=f"set \"version\": \"{SUPPORTED_VERSION}\"")
    elif version != SUPPORTED_VERSION:
        add("error", "version-unsupported", f"payload version {version!r}: CDH only unseals {SUPPORTED_VERSION}",
            fix=f"re-seal with version {SUPPORTED_VERSION}")
    kind = payload.get("type")
    if kind not in ("envelope", "vault"):
        add("error", "type-unknown", f"payload 'type' is {kind!r}", fix="it must be 'envelope' or 'vault'")
        return None
    required = _ENVELOPE_FIELDS if kind == "envelope" else _VAULT_FIELDS
    for name in required:
        if name not in payload:
            add("error", "field-missing", f"{kind} payload has no {name!r}", fix=f"add the {name!r} field")
        elif not isinstance(payload[name], str):
            add("error", "field-type", f"payload field {name!r} is {type(payload[name]).__name__}, not a string")
    for name in ("provider_settings", "annotations"):
        if name not in payload:
            add("error", f"{name.replace('_', '-')}-missing",
                f"payload has no {name!r}: CDH's parser requires the field"
                + (" although the old spec calls it optional" if name == "annotations" else ""),
                fix=f"add \"{name}\": {{}}")
        elif not isinstance(payload[name], dict):
            add("error", "field-type", f"payload field {name!r} is not a JSON object")
    for name in sorted(set(payload) - _KNOWN):
        add("warning", "unknown-field", f"payload field {name!r} is unknown; CDH ignores it",
            fix="remove it unless a newer CDH needs it")
    if kind == "envelope":
        _check_envelope(payload, add)
    provider = payload.get("provider")
    raw_settings, raw_annotations = payload.get("provider_settings"), payload.get("annotations")
    settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
    annotations: dict[str, Any] = raw_annotations if isinstance(raw_annotations, dict) else {}
    if isinstance(provider, str):
        rule = PROVIDER_RULES.get(provider)
        if rule is None:
            add("error", "provider-unknown",
                f"provider {provider!r} is not one CDH knows ({', '.join(sorted(PROVIDER_RULES))})",
                fix="check the 'provider' field")
        else:
            rule(kind, payload, settings, annotations, add)
    return kind


def _std_b64(value: Any, name: str, add: Add) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return b64std_decode(value)
    except Base64Problem as e:
        add("error", "field-not-base64",
            f"payload field {name!r} is not standard base64 with padding: {e.reason}"
            + (f" (character {e.position} of the field)" if e.position is not None else ""),
            fix="CDH decodes it with the STANDARD engine; re-seal it")
        return None


def _check_envelope(p: dict[str, Any], add: Add) -> None:
    wrap = p.get("wrap_type")
    if wrap == "A256CTR":
        add("warning", "wrap-type-ctr", "wrap_type A256CTR is not authenticated: tampering with encrypted_data "
            "goes unnoticed", fix="re-seal with A256GCM")
    elif isinstance(wrap, str) and wrap not in WRAP_TYPES:
        add("error", "wrap-type-unknown", f"wrap_type {wrap!r} is not one CDH knows ({', '.join(WRAP_TYPES)})")
    _std_b64(p.get("encrypted_key"), "encrypted_key", add)
    if p.get("encrypted_key") == "":
        add("error", "field-empty", "payload field 'encrypted_key' is empty")
    data = _std_b64(p.get("encrypted_data"), "encrypted_data", add)
    iv = _std_b64(p.get("iv"), "iv", add)
    if iv is not None and wrap == "A256GCM" and len(iv) != 12:
        add("error", "iv-length", f"iv is {len(iv)} bytes; A256GCM needs a 12-byte nonce", fix="re-seal it")
    if data is not None and wrap == "A256GCM" and len(data) < 16:
        add("error", "data-too-short", f"encrypted_data is {len(data)} bytes; A256GCM data carries a 16-byte tag")


def _need_str(obj: dict[str, Any], key: str, where: str, code: str, add: Add, why: str = "") -> None:
    if not isinstance(obj.get(key), str) or not obj.get(key):
        add("error", code, f"{where} has no {key!r}{why}", fix=f"add {where}.{key}")


def _aliyun(kind: str, p: dict[str, Any], s: dict[str, Any], a: dict[str, Any], add: Add) -> None:
    client_type = s.get("client_type")
    if client_type is None:
        add("error", "aliyun-client-type-missing",
            "aliyun provider_settings have no 'client_type'; current CDH refuses them",
            fix="add \"client_type\": \"client_key\" (or ecs_ram_role / sts_token)")
    elif client_type not in ("client_key", "ecs_ram_role", "sts_token"):
        add("error", "aliyun-client-type-unknown", f"aliyun client_type {client_type!r} is unknown",
            fix="use client_key, ecs_ram_role or sts_token")
    if client_type in (None, "client_key"):
        _need_str(s, "client_key_id", "provider_settings", "aliyun-client-key-id-missing", add)
        _need_str(s, "kms_instance_id", "provider_settings", "aliyun-kms-instance-id-missing", add)
        if isinstance(s.get("client_key_id"), str) and isinstance(s.get("kms_instance_id"), str):
            add("info", "aliyun-guest-files",
                f"in the guest CDH reads clientKey_{s['client_key_id']}.json, password_{s['client_key_id']}.json "
                f"and PrivateKmsCA_{s['kms_instance_id']}.pem from {ALIYUN_GUEST_DIR}",
                fix="provision them with `sealtui credentials export-guest-bundle`")
    if kind == "envelope":
        if "iv" not in a:
            add("error", "aliyun-iv-missing", "aliyun envelope has no annotations.iv (the KMS-returned IV)",
                fix="re-seal it: CDH passes annotations.iv to the KMS Decrypt")
        else:
            _std_b64(a.get("iv"), "annotations.iv", add)
    else:
        for key in sorted(set(a) - {"version_stage", "version_id"}):
            add("warning", "annotation-unknown", f"aliyun vault annotation {key!r} is unknown; CDH ignores it")


def _aws(kind: str, p: dict[str, Any], s: dict[str, Any], a: dict[str, Any], add: Add) -> None:
    _need_str(s, "region", "provider_settings", "aws-region-missing", add)
    if kind == "envelope" and "encryption_context" in a and not isinstance(a["encryption_context"], dict):
        add("error", "aws-encryption-context-type", "annotations.encryption_context must be a JSON object")


def _ehsm(kind: str, p: dict[str, Any], s: dict[str, Any], a: dict[str, Any], add: Add) -> None:
    _need_str(s, "app_id", "provider_settings", "ehsm-app-id-missing", add)
    _need_str(s, "endpoint", "provider_settings", "ehsm-endpoint-missing", add)


def _kbs(kind: str, p: dict[str, Any], s: dict[str, Any], a: dict[str, Any], add: Add) -> None:
    if kind == "envelope":
        add("error", "kbs-envelope", "provider 'kbs' supports vault secrets only",
            fix="seal an envelope with a KMS provider, or make this a vault secret")
        return
    name = p.get("name")
    if not isinstance(name, str):
        return
    if RESOURCE_URI.match(name):
        return
    if name.startswith("kbs://") and not name.startswith("kbs:///"):
        add("error", "resource-uri-two-slashes", f"vault name {name!r} has two slashes after 'kbs:'",
            fix=f"a KBS resource URI has three: kbs:///{name[len('kbs://'):]}")
    else:
        add("error", "resource-uri-invalid", f"vault name {name!r} is not a KBS resource URI",
            fix="use kbs:///<repository>/<type>/<tag>")


PROVIDER_RULES: dict[str, Callable[[str, dict[str, Any], dict[str, Any], dict[str, Any], Add], None]] = {
    "aliyun": _aliyun,
    "aws": _aws,
    "ehsm": _ehsm,
    "kbs": _kbs,
}
"""Provider name → the rule that checks its settings and annotations."""

__all__ = ["PAYLOAD_CONSUMERS", "PROVIDER_RULES", "RESOURCE_URI", "Severity", "check_payload"]
