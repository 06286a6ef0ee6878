"""The payload as CDH reads it: serde's derived `Secret`, then `Secret::unseal()` (both CDH builds modelled).

`Secret { version: String, #[serde(flatten)] type: SecretContent }` with `SecretContent` internally tagged by
`type` (`envelope` | `vault`), deserialized by serde 1.0.228 / serde_json 1.0.150. What that code does:

- the payload must be a JSON object (serde_json `deserialize_map`), read as in `sealtui.core.serde_json`;
- a struct refuses a repeated member that is one of its own fields (`duplicate_field`): `version`, `type`,
  and the fields of the variant; repeats of unknown members are ignored, as are unknown members;
- every field is required (`provider_settings` and `annotations` too: they are maps, not options);
- `type` is a variant identifier: `"envelope"`, `"vault"`, or, since a flattened value is buffered, the
  variant index as an unsigned integer (`0` envelope, `1` vault);
- `wrap_type` is a unit-variant enum read from buffered content: `"A256GCM"`, `"A256CTR"`, or a one-member
  object `{"A256GCM": null}` (the value may be `null` or `{}`).

Then `unseal()`: `version` must be `0.1.0`; an envelope decodes `encrypted_key` (canonical standard base64 with
padding), creates the KMS provider, decrypts the data key (the KMS call itself is assumed to succeed), decodes
`iv` and `encrypted_data`, and decrypts; a vault secret creates the provider and gets the secret. The provider
steps are in `providers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sealtui.core.b64 import Base64Problem
from sealtui.core.consumers.base import Context, Problem, shown
from sealtui.core.consumers.providers import Build, create_provider, get_secret_checks, kms_decrypt_checks
from sealtui.core.report import Fix
from sealtui.core.serde_json import MAX_DEPTH, JsonDoc, duplicates, is_u64, json_type, member_count
from sealtui.core.spec import SUPPORTED_VERSION, WRAP_TYPES

PARSE_ERROR = "parse SealedSecret failed: malformed input sealed secret format (json deserialization failed)"
VERSION_ERROR = f"version not supported, only {SUPPORTED_VERSION} supported"
ENVELOPE_ERROR = "unseal envelope secret failed"

TERMINAL_STEPS = ("decrypt", "get-secret")
"""The last step of an envelope and of a vault secret."""

ENVELOPE_FIELDS = {"key_id": "str", "encrypted_key": "str", "encrypted_data": "str", "wrap_type": "wrap",
                   "iv": "str", "provider": "str", "provider_settings": "map", "annotations": "map"}
VAULT_FIELDS = {"name": "str", "provider": "str", "provider_settings": "map", "annotations": "map"}
FIELDS = {"envelope": ENVELOPE_FIELDS, "vault": VAULT_FIELDS}

_RESEAL = Fix("seal the secret again", "reseal")


@dataclass
class SecretValue:
    """A payload that deserialized into `Secret`."""

    version: str
    kind: str
    """`envelope` or `vault`."""
    fields: dict[str, Any]
    """The variant's fields, typed (`wrap_type` resolved to its variant name)."""


def _problem(code: str, detail: str, fix: Fix | None = _RESEAL, severity: str = "error",
             step: str = "parse-secret", error: str = PARSE_ERROR) -> Problem:
    return Problem(step, code, detail, error, severity, fix, "payload")  # type: ignore[arg-type]


def parse_secret(doc: JsonDoc) -> tuple[SecretValue | None, list[Problem]]:
    """Deserialize a payload as `Secret`; every problem serde would stop at, in the order it meets them."""
    if not doc.ok:
        deep = "nested deeper" in (doc.error or "")
        return None, [_problem("payload-too-deep" if deep else "payload-not-json",
                               f"the payload is refused by serde_json: {doc.error}")]
    value = doc.value
    if not isinstance(value, dict):
        return None, [_problem("payload-not-object", f"the payload is {json_type(value)}, not a JSON object "
                               "(a payload is an object with version, type, provider, …)")]
    problems: list[Problem] = []
    kind = _variant(value, problems)
    own = {"version", "type", *(FIELDS[kind] if kind else ())}
    for name in sorted(duplicates(value) & own):
        problems.append(_problem("duplicate-member", f"payload member {name!r} is written more than once; serde "
                                 "refuses a repeated field", Fix("write each member once", "reseal")))
    version = value.get("version")
    if "version" not in value:
        problems.append(_problem("version-missing", "payload has no 'version'",
                                 Fix(f'set "version": "{SUPPORTED_VERSION}"', "reseal")))
    elif not isinstance(version, str):
        problems.append(_problem("field-type", f"payload field 'version' is {json_type(version)}, not a string"))
    fields: dict[str, Any] = {}
    if kind is not None:
        for name, want in FIELDS[kind].items():
            got = _field(value, name, want, kind, problems)
            if got is not None:
                fields[name] = got
    if problems or kind is None or not isinstance(version, str):
        return None, problems
    return SecretValue(version, kind, fields), []


def _variant(value: dict[str, Any], problems: list[Problem]) -> str | None:
    if "type" not in value:
        problems.append(_problem("type-unknown", "payload has no 'type'",
                                 Fix("it must be 'envelope' or 'vault'", "reseal")))
        return None
    tag = value["type"]
    if tag in ("envelope", "vault"):
        return str(tag)
    if is_u64(tag) and tag in (0, 1):  # a buffered tag may be the variant index
        return ("envelope", "vault")[tag]
    problems.append(_problem("type-unknown", f"payload 'type' is {shown(tag)}",
                             Fix("it must be 'envelope' or 'vault'", "reseal")))
    return None


def _field(value: dict[str, Any], name: str, want: str, kind: str, problems: list[Problem]) -> Any:
    if name not in value:
        if name in ("provider_settings", "annotations"):
            problems.append(_problem(f"{name.replace('_', '-')}-missing",
                                     f"payload has no {name!r}: CDH's parser requires the field"
                                     + (" although the old spec calls it optional" if name == "annotations" else ""),
                                     Fix(f'add "{name}": {{}}', "resign")))
        else:
            problems.append(_problem("field-missing", f"{kind} payload has no {name!r}",
                                     Fix(f"add the {name!r} field", "reseal")))
        return None
    got = value[name]
    if want == "str" and not isinstance(got, str):
        problems.append(_problem("field-type", f"payload field {name!r} is {json_type(got)}, not a string"))
        return None
    if want == "map" and not isinstance(got, dict):
        problems.append(_problem("field-type", f"payload field {name!r} is {json_type(got)}, not a JSON object"))
        return None
    if want == "wrap":
        variant = _wrap_type(got)
        if variant is None:
            problems.append(_problem("wrap-type-unknown", f"wrap_type {shown(got)} is not one CDH knows "
                                     f"({', '.join(WRAP_TYPES)})", Fix("re-seal it with A256GCM", "reseal")))
        return variant
    return got


def _wrap_type(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value in WRAP_TYPES else None
    if isinstance(value, dict) and member_count(value) == 1:  # the externally tagged form of a unit variant
        (name, inner), = value.items()
        unit = inner is None or (isinstance(inner, dict) and member_count(inner) == 0)
        return name if name in WRAP_TYPES and unit else None
    return None


def secret_steps(ctx: Context, doc: JsonDoc, build: Build) -> list[tuple[str, list[Problem]]]:
    """The payload's steps in CDH's order, each with what it finds (errors, and warnings worth knowing).

    Steps after a failed parse are not listed; later steps are listed even after an earlier one fails, so that
    every problem can be explained, but a model stops at the first error.
    """
    secret, problems = parse_secret(doc)
    steps: list[tuple[str, list[Problem]]] = [("parse-secret", problems + _unknown_members(doc))]
    if secret is None:
        return steps
    steps.append(("check-version", [] if secret.version == SUPPORTED_VERSION else [
        _problem("version-unsupported", f"payload version {shown(secret.version)}: CDH only unseals "
                 f"{SUPPORTED_VERSION}", Fix(f"re-seal it with version {SUPPORTED_VERSION}", "reseal"),
                 step="check-version", error=VERSION_ERROR)]))
    f = secret.fields
    if secret.kind == "vault":
        resolved, created = create_provider(build, "vault", f["provider"], f["provider_settings"])
        steps.append(("create-kms-provider", created))
        steps.append(("get-secret", get_secret_checks(build, resolved, f["name"], f["annotations"])))
        return steps
    steps.append(("decode-encrypted-key", _std(ctx, f, "encrypted_key", "decode `encrypted_key`")))
    resolved, created = create_provider(build, "envelope", f["provider"], f["provider_settings"])
    steps.append(("create-kms-provider", created))
    key = ctx.b64std(f["encrypted_key"])
    steps.append(("kms-decrypt", kms_decrypt_checks(ctx, build, resolved, key if isinstance(key, bytes) else None,
                                                    f["annotations"])))
    steps.append(("decode-iv", _std(ctx, f, "iv", "decode iv")))
    steps.append(("decode-encrypted-data", _std(ctx, f, "encrypted_data", "decode encrypted_data")))
    steps.append(("decrypt", _decrypt(ctx, f)))
    return steps


def _unknown_members(doc: JsonDoc) -> list[Problem]:
    value = doc.value if doc.ok else None
    if not isinstance(value, dict):
        return []
    tag = value.get("type")
    kind = tag if isinstance(tag, str) and tag in FIELDS else \
        ("envelope", "vault")[tag] if is_u64(tag) and tag in (0, 1) else None
    if kind is None:
        return []
    known = {"version", "type", *FIELDS[kind]}
    unknown = sorted(set(value) - known)
    if not unknown:
        return []
    names = ", ".join(shown(n, 30) for n in unknown[:5]) + (f" and {len(unknown) - 5:,} more" if len(unknown) > 5
                                                           else "")
    what = f"payload field {names} is" if len(unknown) == 1 else f"payload fields {names} are"
    return [_problem("unknown-field", f"{what} unknown; CDH ignores {'it' if len(unknown) == 1 else 'them'}",
                     Fix("remove them unless a newer CDH needs them", "resign"), "warning")]


def _std(ctx: Context, f: dict[str, Any], name: str, context: str) -> list[Problem]:
    got = ctx.b64std(f[name])
    if not isinstance(got, Base64Problem):
        return []
    where = f" (character {got.position} of the field)" if got.position is not None else ""
    step = {"encrypted_key": "decode-encrypted-key", "iv": "decode-iv"}.get(name, "decode-encrypted-data")
    return [_problem("field-not-base64", f"payload field {name!r} is not standard base64 with padding: "
                     f"{got.reason}{where}", Fix("CDH decodes it as canonical standard base64; re-seal it",
                                                  "reseal"),
                     step=step, error=f"{ENVELOPE_ERROR}: base64 decoding failed when {context}")]


def _decrypt(ctx: Context, f: dict[str, Any]) -> list[Problem]:
    iv, data = ctx.b64std(f["iv"]), ctx.b64std(f["encrypted_data"])
    out: list[Problem] = []
    wrap = f["wrap_type"]
    if wrap == "A256CTR":
        out.append(_problem("wrap-type-ctr", "wrap_type A256CTR is not authenticated: tampering with "
                            "encrypted_data goes unnoticed", Fix("re-seal it with A256GCM", "reseal"), "warning",
                            step="decrypt", error=""))
    if isinstance(data, bytes) and wrap == "A256GCM" and len(data) < 16:
        out.append(_problem("data-too-short", f"encrypted_data is {len(data)} bytes; A256GCM data carries a "
                            "16-byte tag", Fix("re-seal it", "reseal"), step="decrypt",
                            error=f"{ENVELOPE_ERROR}: decrypt envelope: Illegal length of ciphertext"))
    # CDH decrypts with OpenSSL 3 (kbs_protocol turns on crypto/openssl, vendored): rust-openssl sets a GCM nonce
    # of another length than 12 (OpenSSL takes 1 to 128 bytes); for CTR it cannot, and OpenSSL would read 16 bytes
    # from a shorter buffer: no correct plaintext either way, so CDH is taken to refuse it.
    if isinstance(iv, bytes):
        error = f"{ENVELOPE_ERROR}: decrypt envelope"
        if wrap == "A256CTR" and len(iv) != 16:
            out.append(_problem("iv-length", f"iv is {len(iv)} bytes; A256CTR needs a 16-byte counter block",
                                Fix("re-seal it", "reseal"), step="decrypt", error=error))
        elif wrap == "A256GCM" and not 1 <= len(iv) <= 128:
            out.append(_problem("iv-length", f"iv is {len(iv)} bytes; CDH's AES-GCM takes a nonce of 1 to 128 "
                                "bytes (12 is standard)", Fix("re-seal it", "reseal"), step="decrypt", error=error))
        elif wrap == "A256GCM" and len(iv) != 12:
            out.append(_problem("iv-length-unusual", f"iv is {len(iv)} bytes; AES-GCM's standard nonce is 12 "
                                "bytes (CDH's default build, on OpenSSL, takes it; a build without kbs, on RustCrypto, "
                                "would not)", Fix("re-seal it", "reseal"), "warning",
                                step="decrypt", error=""))
    return out


__all__ = ["MAX_DEPTH", "PARSE_ERROR", "TERMINAL_STEPS", "SecretValue", "parse_secret", "secret_steps"]
