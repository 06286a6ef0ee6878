"""Re-sign or migrate a sealed secret into the canonical signed form, without ever decrypting it.

Legacy forms (`fake-jws`, `fake-jws-padded`, `legacy-base64`, `bare-json`, a JWS without the prefix, stray
whitespace) keep their payload; only the wrapping changes. Payload fixes that change nothing CDH decrypts are
made and reported (missing `annotations`/`provider_settings` maps, aliyun's `client_type`, unknown fields).
A payload that is itself invalid is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sealtui.core.codec import Form, decode, encode_sealed
from sealtui.core.errors import InvalidInputError
from sealtui.core.keywrap import Signer
from sealtui.core.models import payload_from_dict
from sealtui.core.provider_rules import check_payload
from sealtui.core.report import Finding, Fix

_KNOWN = {"version", "type", "provider", "provider_settings", "annotations", "key_id", "encrypted_key",
          "encrypted_data", "wrap_type", "iv", "name"}


@dataclass
class Resigned:
    sealed: str
    from_form: str
    changes: list[str] = field(default_factory=list)


def migrate_payload(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Apply the safe payload fixes; return the new payload and what changed."""
    out, changes = dict(payload), []
    for name in ("provider_settings", "annotations"):
        if name not in out:
            out[name] = {}
            changes.append(f"added \"{name}\": {{}} (CDH's parser requires it)")
    settings = out.get("provider_settings")
    if (out.get("provider") == "aliyun" and isinstance(settings, dict) and "client_type" not in settings
            and "client_key_id" in settings):
        out["provider_settings"] = settings | {"client_type": "client_key"}
        changes.append("added provider_settings.client_type = client_key (current CDH requires it)")
    for name in sorted(set(out) - _KNOWN):
        del out[name]
        changes.append(f"removed unknown field {name!r} (CDH ignores it)")
    return out, changes


def resign(text: str, signer: Signer) -> Resigned:
    """The canonical signed form of `text`, signed by `signer`. Raises `InvalidInputError` when it cannot be."""
    d = decode(text)
    if d.form is Form.UNRECOGNISED or d.payload is None:
        why = str(d.problems[0]) if d.problems else "no payload"
        raise InvalidInputError(f"cannot re-sign: the payload does not decode ({why})",
                                fix="run `sealtui inspect` on it to see what is wrong")
    if not isinstance(d.payload, dict):
        raise InvalidInputError("cannot re-sign: the payload is not a JSON object")
    payload, changes = migrate_payload(d.payload)
    errors: list[Finding] = []

    def add(severity: str, code: str, message: str, *a: Any, fix: Fix | None = None, **k: Any) -> None:
        if severity == "error":
            errors.append(Finding("error", code, message, (), fix))

    check_payload(payload, add)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidInputError(f"cannot re-sign: the payload itself is invalid: {first.message}{more}",
                                fix=first.fix.text if first.fix else "re-seal the secret from its plaintext")
    sealed = encode_sealed(payload_from_dict(payload), signer)
    if d.form is not Form.SIGNED_JWS:
        changes.insert(0, f"converted {d.form.value} to signed-jws")
    if d.leading_whitespace or d.trailing_whitespace:
        changes.append("removed surrounding whitespace")
    old_kid = d.header.get("kid") if isinstance(d.header, dict) else None
    changes.append(f"signed with kid {signer.kid!r}" + (f" (was {old_kid!r})" if old_kid else ""))
    return Resigned(sealed, d.form.value, changes)


def resign_manifest(text: str, signer: Signer) -> tuple[str, list[tuple[str, Resigned]]]:
    """Re-sign every sealed value of a manifest text, rewriting only those scalars.

    Values already in the canonical form and signed by the same kid are left alone. Raises on the first value
    that cannot be re-signed, naming it, so no half-migrated file is produced.
    """
    import base64

    from sealtui.core.scan import scan_text

    edits: list[tuple[int, int, str]] = []
    done: list[tuple[str, Resigned]] = []
    for v in scan_text(text):
        where = f"{v.resource} {v.path} (line {v.line})"
        canonical = v.report.form == Form.SIGNED_JWS.value and v.value == v.value.strip()
        if canonical and v.report.signature.kid == signer.kid:
            continue
        try:
            r = resign(v.value, signer)
        except InvalidInputError as e:
            raise InvalidInputError(f"{where}: {e.message}", fix=e.fix) from None
        new = base64.b64encode(r.sealed.encode()).decode() if v.encoding == "base64" else r.sealed
        assert v.span is not None
        edits.append((v.span[0], v.span[1], new))
        done.append((where, r))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, done
