"""Every input form of a sealed secret, decoded and named; and the one canonical form sealtui writes.

`decode()` never raises: it returns what it could decode and a list of problems, each naming the part
(prefix, header, payload, signature), the character position in the input, and the reason. `parse_sealed()`
raises `InvalidInputError` for the first problem that makes the payload unusable. `encode_sealed()` writes
`sealed.<header>.<payload>.<signature>` exactly as DESIGN §3.1 says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sealtui.core.b64 import Base64Problem, b64_lenient_decode, b64std_decode, looks_padded_std
from sealtui.core.consumers.base import Context
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import sign_compact
from sealtui.core.keywrap import Signer
from sealtui.core.models import EnvelopePayload, VaultPayload, payload_from_dict
from sealtui.core.report import Fix
from sealtui.core.serde_json import JsonDoc

PREFIX = "sealed."
FAKE_HEADER = "fakejwsheader"
FAKE_SIGNATURE = "fakesignature"


class Form(StrEnum):
    """The shapes a sealed secret is found in (DESIGN §3.2)."""

    SIGNED_JWS = "signed-jws"
    FAKE_JWS = "fake-jws"
    FAKE_JWS_PADDED = "fake-jws-padded"
    LEGACY_BASE64 = "legacy-base64"
    BARE_JSON = "bare-json"
    JWS_WITHOUT_PREFIX = "jws-without-prefix"
    UNRECOGNISED = "unrecognised"

    @property
    def description(self) -> str:
        return _FORM_DESCRIPTIONS[self]


_FORM_DESCRIPTIONS = {
    Form.SIGNED_JWS: "sealed.<header>.<payload>.<signature>: an ES256 JWS, as current `secret seal` and "
    "sealtui write it",
    Form.FAKE_JWS: "sealed.fakejwsheader.<base64url JSON>.fakesignature: unsigned, from `secret seal` "
    "2024-11 … 2026-01 and many docs",
    Form.FAKE_JWS_PADDED: "sealed.fakejwsheader.<padded standard base64 JSON>.fakesignature: unsigned, from "
    "`secret seal` 2024-08 … 2024-11 and the kata tests",
    Form.LEGACY_BASE64: "sealed.<standard base64 JSON>: the two-part form of the original spec and early docs",
    Form.BARE_JSON: "a bare JSON payload: `secret_cli` before 2024-08 and old provider docs",
    Form.JWS_WITHOUT_PREFIX: "<header>.<payload>.<signature> without the `sealed.` prefix: hand-made",
    Form.UNRECOGNISED: "not a sealed secret in any known form",
}


@dataclass(frozen=True)
class Problem:
    """Why part of the input could not be decoded."""

    part: str
    """`input`, `prefix`, `header`, `payload` or `signature`."""
    reason: str
    position: int | None = None
    """0-based character offset in the input, when one character is at fault."""
    fix: Fix | None = None

    def __str__(self) -> str:
        where = f" (character {self.position})" if self.position is not None else ""
        return f"{self.part}{where}: {self.reason}"


@dataclass
class Decoded:
    """What could be read from an input string, whatever its form."""

    text: str
    form: Form = Form.UNRECOGNISED
    leading_whitespace: str = ""
    trailing_whitespace: str = ""
    prefix: str | None = None
    """The prefix as written (`sealed.`, or a wrongly cased `Sealed.`), or None."""
    header_b64: str | None = None
    payload_b64: str | None = None
    signature_b64: str | None = None
    header: Any = None
    payload: Any = None
    """The decoded payload JSON (any JSON value), or None when it did not decode."""
    payload_doc: JsonDoc | None = None
    """The payload as serde_json reads it (None when its bytes did not decode)."""
    signature: bytes | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def signing_input(self) -> bytes | None:
        """The exact `<header>.<payload>` bytes a JWS signature covers (signed forms only)."""
        if self.header_b64 is None or self.payload_b64 is None:
            return None
        return f"{self.header_b64}.{self.payload_b64}".encode("ascii", "replace")


_RESIGN = Fix("re-sign it into the canonical signed form", "resign")


def _json(data: bytes, part: str, offset: int, out: Decoded, ctx: Context) -> Any:
    """`data` as serde_json reads it; the value is kept for display only when it is safe to show (bounded)."""
    doc = ctx.json(data)
    if part == "payload":
        out.payload_doc = doc
    if not doc.ok:
        out.problems.append(Problem(part, f"decodes to something CDH's JSON parser refuses: {doc.error}", offset))
    return doc.value if doc.parsed else None


def _b64url_part(text: str, part: str, offset: int, out: Decoded, ctx: Context) -> bytes | None:
    got = ctx.b64url(text)
    if isinstance(got, bytes):
        return got
    pos = offset + got.position if got.position is not None else offset
    fix = None
    if part == "payload" and looks_padded_std(text):
        reason = "payload is padded standard base64; CDH needs base64url without padding"
        fix = _RESIGN
    else:
        reason = f"is not base64url without padding: {got.reason}"
    out.problems.append(Problem(part, reason, pos, fix))
    return None


def decode(text: str, ctx: Context | None = None) -> Decoded:
    """Decode `text` in whatever form it is in. Never raises; `ctx` shares decodings with the consumer models."""
    ctx = ctx or Context(text)
    out = Decoded(text=text)
    body = text.strip()
    if not body:
        out.problems.append(Problem("input", "is empty" if not text else "holds only whitespace", 0))
        return out
    lead = len(text) - len(text.lstrip())
    out.leading_whitespace = text[:lead]
    out.trailing_whitespace = text[lead + len(body):]

    if body.startswith("{"):
        out.form = Form.BARE_JSON
        try:
            data = body.encode("utf-8")
        except UnicodeEncodeError as e:
            out.problems.append(Problem("payload", "is not UTF-8 text (a lone surrogate)", lead + e.start))
            return out
        out.payload = _json(data, "payload", lead, out, ctx)
        return out

    has_prefix = body[: len(PREFIX)].lower() == PREFIX
    # The parts of `body` after the prefix are its dot-separated parts but the first: share the context's.
    parts = ctx.parts if body is ctx.text else body.split(".")
    if has_prefix:
        out.prefix = body[: len(PREFIX)]
        rest_at, parts = lead + len(PREFIX), parts[1:]
    else:
        rest_at = lead
    offsets = [rest_at]
    for p in parts[:-1]:
        offsets.append(offsets[-1] + len(p) + 1)

    if has_prefix and len(parts) == 1:
        out.form = Form.LEGACY_BASE64
        out.payload_b64 = parts[0]
        try:
            out.payload = _json(b64_lenient_decode(parts[0]), "payload", rest_at, out, ctx)
        except Base64Problem as e:
            out.problems.append(Problem("payload", f"is not base64: {e.reason}", rest_at))
        return out

    if len(parts) != 3:
        out.form = Form.UNRECOGNISED
        out.problems.append(Problem(
            "input",
            f"has {len(parts)} dot-separated part{'s' if len(parts) != 1 else ''} after the prefix; a JWS has 3"
            if has_prefix else "does not start with `sealed.` and is neither JSON nor a JWS",
            rest_at if has_prefix else lead,
        ))
        return out

    h, p, s = parts
    out.header_b64, out.payload_b64, out.signature_b64 = h, p, s
    if h == FAKE_HEADER or s == FAKE_SIGNATURE:
        # Unsigned placeholders: the payload is all there is.
        padded = looks_padded_std(p)
        out.form = Form.FAKE_JWS_PADDED if padded else Form.FAKE_JWS
        if padded:
            out.problems.append(Problem(
                "payload", "payload is padded standard base64; CDH needs base64url without padding",
                offsets[1], _RESIGN))
            try:
                out.payload = _json(b64_lenient_decode(p), "payload", offsets[1], out, ctx)
            except Base64Problem as e:
                out.problems.append(Problem("payload", f"is not base64: {e.reason}", offsets[1]))
        else:
            raw = _b64url_part(p, "payload", offsets[1], out, ctx)
            if raw is not None:
                out.payload = _json(raw, "payload", offsets[1], out, ctx)
        return out

    out.form = Form.SIGNED_JWS if has_prefix else Form.JWS_WITHOUT_PREFIX
    raw_h = _b64url_part(h, "header", offsets[0], out, ctx)
    if raw_h is not None:
        out.header = _json(raw_h, "header", offsets[0], out, ctx)
        if out.header is not None and not isinstance(out.header, dict):
            out.problems.append(Problem("header", "is JSON but not an object", offsets[0]))
    raw_p = _b64url_part(p, "payload", offsets[1], out, ctx)
    if raw_p is not None:
        out.payload = _json(raw_p, "payload", offsets[1], out, ctx)
    out.signature = _b64url_part(s, "signature", offsets[2], out, ctx)
    if not has_prefix and out.header is None and out.payload is None:
        out.form = Form.UNRECOGNISED  # three dotted words that are not a JWS
    return out


@dataclass(frozen=True)
class SealedSecret:
    """A sealed secret whose payload decoded and validated."""

    form: Form
    payload: EnvelopePayload | VaultPayload
    header: dict[str, Any] | None
    signing_input: bytes | None
    signature: bytes | None
    text: str

    @property
    def kid(self) -> str | None:
        kid = (self.header or {}).get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def alg(self) -> str | None:
        alg = (self.header or {}).get("alg")
        return alg if isinstance(alg, str) else None


def parse_sealed(text: str) -> SealedSecret:
    """Parse a sealed secret in any readable form, or raise `InvalidInputError` saying which part and why."""
    if not isinstance(text, str):
        raise InvalidInputError(f"expected text, got {type(text).__name__}")
    d = decode(text)
    if d.form is Form.UNRECOGNISED:
        first = d.problems[0] if d.problems else Problem("input", "is not a sealed secret")
        raise InvalidInputError(f"not a sealed secret: {first}", fix=first.fix.text if first.fix else
                                "a sealed secret looks like sealed.<header>.<payload>.<signature>")
    blocking = [pr for pr in d.problems if pr.part in ("header", "payload", "signature", "input")
                and not (pr.part == "payload" and d.form is Form.FAKE_JWS_PADDED and d.payload is not None)]
    if blocking:
        pr = blocking[0]
        raise InvalidInputError(f"malformed sealed secret: {pr}", fix=pr.fix.text if pr.fix else None)
    if d.form in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX) and not isinstance(d.header, dict):
        raise InvalidInputError("malformed sealed secret: the JWS header is not a JSON object")
    if d.payload_doc is not None:  # what CDH's own parser refuses (repeated members, …) is refused here too
        from sealtui.core.consumers.secret import parse_secret

        _, refused = parse_secret(d.payload_doc)
        if refused:
            why = refused[0]
            raise InvalidInputError(f"malformed sealed secret: {why.detail}", fix=why.fix.text if why.fix else None)
    payload = payload_from_dict(d.payload)
    return SealedSecret(
        form=d.form, payload=payload, header=d.header if isinstance(d.header, dict) else None,
        signing_input=d.signing_input if d.form in (Form.SIGNED_JWS, Form.JWS_WITHOUT_PREFIX) else None,
        signature=d.signature, text=text,
    )


def encode_sealed(payload: EnvelopePayload | VaultPayload, signer: Signer) -> str:
    """The canonical sealed string: `sealed.` + an ES256 JWS of the payload. No whitespace, no newline."""
    return PREFIX + sign_compact(payload.to_json().encode("utf-8"), signer)


def decode_std_field(value: Any, name: str) -> bytes:
    """Decode one of the envelope's standard-base64 byte fields, or raise naming the field."""
    if not isinstance(value, str):
        raise InvalidInputError(f"payload field {name!r} is not a string")
    try:
        return b64std_decode(value)
    except Base64Problem as e:
        raise InvalidInputError(f"payload field {name!r} is not standard base64 with padding: {e}",
                                fix="CDH decodes it with the STANDARD engine") from None
