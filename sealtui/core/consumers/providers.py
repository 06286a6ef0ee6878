"""The KMS provider steps of `unseal()`, for each CDH build modelled (DESIGN §3.2, §3.4).

Upstream (guest-components 8246e5e0, `kms/src/plugins`) built with its default features, as its Makefile does
(`KMS_PROVIDER=aliyun`, `kbs`): envelopes open through `aliyun`; vault secrets come from `kbs` or `aliyun`. The
OpenAnolis fork (v1.6.0, `hub/src/kms/plugins`, default features: aliyun, kbs) adds the `oidc_ram` and
`attestation` aliyun client types; its `ehsm` plugin is an opt-in feature, not modelled as present. Provider
names match ASCII-case-insensitively (strum `ascii_case_insensitive`). Settings and annotations are read with
`serde_json::from_value` into each plugin's struct: required fields must be there with their JSON types; unknown
ones are ignored. Reading credential files, IMDS, STS and the KMS call itself are the outside world and are assumed
to succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sealtui.core.b64 import Base64Problem
from sealtui.core.consumers.base import Problem, shown
from sealtui.core.consumers.resource_uri import parse as parse_resource_uri
from sealtui.core.consumers.resource_uri import resource_problem
from sealtui.core.report import Fix
from sealtui.core.serde_json import json_type

if TYPE_CHECKING:
    from sealtui.core.consumers.base import Context

KNOWN_PROVIDERS = ("aliyun", "aws", "ehsm", "kbs")
"""Every provider name some CDH build knows."""


@dataclass(frozen=True)
class Build:
    """What one CDH build's KMS plugins accept."""

    name: str
    decryptors: tuple[str, ...]
    """Providers `new_decryptor` knows (envelopes)."""
    getters: tuple[str, ...]
    """Providers `new_getter` knows (vault secrets)."""
    aliyun_client_types: tuple[str, ...]
    aliyun_dir: str
    """Where the aliyun client-key credential files are read in the guest."""
    no_decrypt_message: str
    """The aliyun error for decrypting with a client type other than client_key (`{}`: the type)."""
    kbs_uri_checks_path: bool
    """True when parsing the resource URI itself refuses a path that is not repo/type/tag."""


UPSTREAM = Build("upstream", ("aliyun",), ("kbs", "aliyun"), ("client_key", "ecs_ram_role", "sts_token"),
                 "/run/confidential-containers/cdh/kbs/kms-credential/aliyun/",
                 "Encrypter does not suppot accessing through Aliyun {}", False)
# The crate's default features (aliyun, kbs): its Makefile adds ehsm, but a build without it refuses ehsm
# envelopes, and refusing is the safe side when the build is not known.
OPENANOLIS = Build("openanolis", ("aliyun",), ("kbs", "aliyun"),
                   ("client_key", "ecs_ram_role", "sts_token", "oidc_ram", "attestation"),
                   "/run/confidential-containers/cdh/kms-credential/aliyun/",
                   "Decrypter does not support accessing through Aliyun {}", True)

_CLIENT_NAMES = {"ecs_ram_role": "EcsRamRole", "sts_token": "StsToken", "oidc_ram": "OidcRam",
                 "attestation": "Attestation"}
_SETTINGS = {  # client type → the required string fields of its provider-settings struct
    "client_key": ("client_key_id", "kms_instance_id"),
    "ecs_ram_role": (),
    "sts_token": ("token_path", "region_id"),
    "oidc_ram": ("id_token", "oidc_provider_arn", "role_arn", "region_id"),
    "attestation": ("kms_instance_id",),
}


@dataclass(frozen=True)
class Resolved:
    """The provider `new_decryptor` / `new_getter` built."""

    provider: str
    client_type: str | None = None


def _ctx(kind: str, when: str) -> str:
    if kind == "envelope":
        return f"unseal envelope secret failed: kms interface when {when}"
    return f"unseal vault secret failed: kms interface when {when.replace('KMS', 'kms')}"


def _err(step: str, code: str, detail: str, error: str, fix: Fix | None = None) -> Problem:
    return Problem(step, code, detail, error, "error", fix, "payload")


def create_provider(build: Build, kind: str, provider: str, settings: dict[str, Any]
                    ) -> tuple[Resolved | None, list[Problem]]:
    """`new_decryptor` (envelope) or `new_getter` (vault): the provider, or why it cannot be created."""
    step, error = "create-kms-provider", _ctx(kind, "create KMS provider")
    known = build.decryptors if kind == "envelope" else build.getters
    name = provider.lower() if provider.isascii() else None
    if name not in known:
        unsupported = f"{error}: Unsupported provider: {provider}"
        if name == "kbs" and kind == "envelope":
            return None, [_err(step, "kbs-envelope", "provider 'kbs' holds vault secrets only",
                               unsupported, Fix("seal an envelope with a KMS provider, or make it a vault secret",
                                                "reseal"))]
        if name in KNOWN_PROVIDERS:
            return None, [_err(step, "provider-unsupported", f"provider {shown(provider)} is not built into this "
                               f"CDH for {kind} secrets (it knows {', '.join(known)})", unsupported,
                               Fix(f"use one of {', '.join(known)}, or a CDH built with this provider", "reseal"))]
        return None, [_err(step, "provider-unknown", f"provider {shown(provider)} is not one CDH knows "
                           f"({', '.join(known)})", unsupported, Fix("check the 'provider' field", "reseal"))]
    if name == "kbs":
        return Resolved("kbs"), []
    if name == "ehsm":
        return Resolved("ehsm"), _fields(settings, ("app_id", "endpoint"), step, "ehsm",
                                         f"{error}: eHSM-KMS client error: parse provider setting failed")
    return _aliyun(build, kind, settings, step, error)


def _aliyun(build: Build, kind: str, s: dict[str, Any], step: str, error: str
            ) -> tuple[Resolved | None, list[Problem]]:
    error = f"{error}: Aliyun KMS error"
    types = ", ".join(build.aliyun_client_types)
    if "client_type" not in s:
        return None, [_err(step, "aliyun-client-type-missing", "aliyun provider_settings have no 'client_type'; "
                           "current CDH refuses them", f"{error}: client type not exist.",
                           Fix(f"add \"client_type\": \"client_key\" (or one of {types})", "resign"))]
    client_type = s["client_type"]
    if not isinstance(client_type, str) or client_type not in build.aliyun_client_types:
        return None, [_err(step, "aliyun-client-type-unknown", f"aliyun client_type {shown(client_type)} is unknown "
                           f"(this CDH knows {types})", f"{error}: client type "
                           + ("invalid." if isinstance(client_type, str) else "value is not str."),
                           Fix(f"use one of {types}", "reseal"))]
    client = "ClientKeyClient" if client_type == "client_key" else \
        "OidcRamClient" if client_type == "oidc_ram" else \
        "AttestationClient" if client_type == "attestation" and build is OPENANOLIS else "EcsRamRoleClient"
    failed = f"{error}: build {client} with `from_provider_settings()` failed"
    problems = _fields(s, _SETTINGS[client_type], step, "aliyun", failed)
    if client_type == "client_key":
        for name in _SETTINGS["client_key"]:
            if s.get(name) == "":  # CDH then reads e.g. clientKey_.json: legal, but surely not what was meant
                problems.append(Problem(step, "aliyun-empty-id", f"provider_settings.{name} is empty: CDH will look "
                                        "for credential files named with an empty id", "", "warning",
                                        Fix(f"set provider_settings.{name}", "reseal"), "payload"))
        if not any(p.severity == "error" for p in problems):
            cid, iid = _short(s["client_key_id"]), _short(s["kms_instance_id"])
            problems.append(Problem(step, "aliyun-guest-files", f"in the guest CDH reads clientKey_{cid}.json, "
                                    f"password_{cid}.json and PrivateKmsCA_{iid}.pem from {build.aliyun_dir}", "",
                                    "info", Fix("provision these files in the guest", "export-guest-bundle")))
    elif client_type == "attestation":
        problems += _attestation(s, step, failed)
    return Resolved("aliyun", client_type), problems


def _attestation(s: dict[str, Any], step: str, failed: str) -> list[Problem]:
    out = []
    for name in ("ecs_ram_role_name", "sts_token", "kms_ca_cert", "tee"):
        v = s.get(name)
        if name in s and not isinstance(v, str) and not (v is None and name != "tee"):
            out.append(_err(step, "aliyun-settings-type", f"provider_settings.{name} is {json_type(v)}, not a "
                            "string", failed))
    if out:
        return out
    role, token = s.get("ecs_ram_role_name") or "", s.get("sts_token") or ""
    if bool(role.strip()) == bool(token.strip()):
        return [_err(step, "aliyun-attestation-credential", "exactly one of provider_settings.ecs_ram_role_name "
                     "and sts_token must be set", failed)]
    parts = token.split(":", 2)
    if token.strip() and (len(parts) != 3 or "" in parts):
        return [_err(step, "aliyun-attestation-credential", "provider_settings.sts_token is not AK:SK:STS", failed)]
    cert = s.get("kms_ca_cert") or ""
    if cert.strip() and not _pem_certificate(cert):  # CDH's TLS stack parses it; refuse what sealtui cannot read
        return [_err(step, "aliyun-attestation-ca", "provider_settings.kms_ca_cert is not a PEM certificate",
                     f"{failed}: read kms instance ca cert failed")]
    return []


def _pem_certificate(text: str) -> bool:
    from cryptography import x509

    try:
        x509.load_pem_x509_certificate(text.encode("utf-8", "surrogatepass"))
    except ValueError:
        return False
    return True


def _fields(s: dict[str, Any], names: tuple[str, ...], step: str, provider: str, error: str) -> list[Problem]:
    out = []
    for name in names:
        if name not in s or not isinstance(s[name], str):
            got = "missing" if name not in s else f"{json_type(s[name])}, not a string"
            out.append(_err(step, f"{provider}-{name.replace('_', '-')}-missing",
                            f"provider_settings.{name} is {got}", error, Fix(f"add provider_settings.{name}",
                                                                              "reseal")))
    return out


def kms_decrypt_checks(ctx: Context, build: Build, resolved: Resolved | None, key: bytes | None,
                       annotations: dict[str, Any]) -> list[Problem]:
    """What `Decrypter::decrypt` checks before (or without) calling the KMS."""
    step, error = "kms-decrypt", _ctx("envelope", "decrypt encryption key")
    if resolved is None:
        return []
    if resolved.provider == "ehsm":
        if key is not None:
            try:
                key.decode("utf-8")
            except UnicodeDecodeError:
                return [_err(step, "ehsm-ciphertext", "the decoded encrypted_key is not UTF-8; eHSM ciphertexts are "
                             "text", f"{error}: eHSM-KMS client error: decrypt &[u8] to &str failed",
                             Fix("re-seal it", "reseal"))]
        return []
    error = f"{error}: Aliyun KMS error"
    if resolved.client_type != "client_key":
        kind = _CLIENT_NAMES.get(resolved.client_type or "", "?")
        return [_err(step, "aliyun-client-type-cannot-decrypt", f"aliyun client_type {resolved.client_type!r} "
                     "cannot decrypt envelopes (only client_key can)", f"{error}: "
                     + build.no_decrypt_message.format(kind), Fix("use client_type client_key", "reseal"))]
    out = []
    if "iv" not in annotations:
        out.append(_err(step, "aliyun-iv-missing", "aliyun envelope has no annotations.iv (the KMS-returned IV)",
                        f"{error}: deserialize SecretSettings for decryption failed",
                        Fix("re-seal it: CDH passes annotations.iv to the KMS Decrypt", "reseal")))
    elif not isinstance(annotations["iv"], str):
        out.append(_err(step, "field-type", f"annotations.iv is {json_type(annotations['iv'])}, not a string",
                        f"{error}: deserialize SecretSettings for decryption failed", Fix("re-seal it", "reseal")))
    else:
        got = ctx.b64std(annotations["iv"])
        if isinstance(got, Base64Problem):
            out.append(_err(step, "field-not-base64", f"payload field 'annotations.iv' is not standard base64 "
                            f"with padding: {got.reason}", f"{error}: decode iv for decryption failed",
                            Fix("CDH decodes it as canonical standard base64; re-seal it", "reseal")))
    if key == b"":
        out.append(_err(step, "field-empty", "payload field 'encrypted_key' is empty: no KMS decrypts an empty "
                        "ciphertext", f"{error}: do request to kms server failed", Fix("re-seal it", "reseal")))
    return out


def get_secret_checks(build: Build, resolved: Resolved | None, name: str, annotations: dict[str, Any]
                      ) -> list[Problem]:
    """What `Getter::get_secret` checks before (or without) the provider call."""
    step, error = "get-secret", _ctx("vault", "get secret from provider")
    if resolved is None:
        return []
    if resolved.provider == "kbs":
        strict = build.kbs_uri_checks_path
        why = resource_problem(name, openanolis=strict)
        if why is None:
            return []
        parsed = parse_resource_uri(name, openanolis=strict) is not None
        rust = "Kbs client error: get resource failed" if parsed else \
            f"Kbs client error: illegal kbs resource uri: {_short(name)}"
        if name.startswith("kbs://") and not name.startswith("kbs:///"):
            return [_err(step, "resource-uri-two-slashes", f"vault name {shown(name)} has two slashes after 'kbs:' "
                         "(the first path part becomes the KBS host)", f"{error}: {rust}",
                         Fix(f"a KBS resource URI has three: kbs:///{_short(name[len('kbs://'):])}", "reseal"))]
        return [_err(step, "resource-uri-invalid", f"vault name {shown(name)} is not a resource CDH can get: {why}",
                     f"{error}: {rust}", Fix("use kbs:///<repository>/<type>/<tag>", "reseal"))]
    message = "deserialize SecretSettings for get_secret failed" if resolved.client_type == "client_key" else \
        "deserialize Secret annotations for get_secret failed" if resolved.client_type == "attestation" else \
        "illegal Secret annotations format"
    out = []
    for key in ("version_stage", "version_id"):
        if key in annotations and not isinstance(annotations[key], str):
            out.append(_err(step, "field-type", f"annotations.{key} is {json_type(annotations[key])}, not a string",
                            f"{error}: Aliyun KMS error: {message}", Fix(f"make annotations.{key} a string",
                                                                         "reseal")))
    unknown = sorted(set(annotations) - {"version_stage", "version_id"})
    if unknown:
        names = ", ".join(shown(k, 30) for k in unknown[:5]) + (f" and {len(unknown) - 5:,} more"
                                                               if len(unknown) > 5 else "")
        out.append(Problem(step, "annotation-unknown", f"aliyun vault annotation(s) {names} unknown; CDH ignores "
                           "them", "", "warning", None, "payload"))
    return out


def _short(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
