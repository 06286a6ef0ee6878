"""The JWS as CDH parses and checks it: jose-jws 0.1.2 `Flattened::from_str`, its typed `Protected` header, the
JWK type of jose-jwk 0.1.2, and the ES256 signature's own shape (p256 0.13 / ecdsa 0.16 `Signature::from_slice`).

`Flattened::from_str` splits on `.` into exactly three parts, decodes the payload (an empty payload part is
`None`), the protected header and the signature with base64ct's canonical base64url without padding, and
deserializes the header with serde_json into `Protected`:

- `crit` [string], `nonce` (base64url), `b64` (a boolean; its value is then ignored by CDH) are read directly;
- every other member is buffered and read into `Unprotected`: `alg` a JWA signing name (`jose_jwa::Signing`; an
  unknown name fails the parse), `jwk` a JWK, `kid`, `typ`, `cty` strings, `x5c` [standard base64], and the
  flattened thumbprints `x5t` / `x5t#S256` (base64url of exactly 20 / 32 bytes). `url`, `jku` and `x5u` are not
  compiled in (no `url` feature): they are unknown members, ignored;
- `null` is `None` for every optional member; a repeated member that is one of a struct's fields is an error.

A buffered enum (`alg`, a JWK's `crv`, `use`, `key_ops` items) may also be written as a one-member object whose
value is `null` or `{}` (`{"ES256": null}`), and a buffered tag (`kty`) as its variant index.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from sealtui.core.b64 import Base64Problem, b64std_decode, b64url_decode, looks_padded_std
from sealtui.core.consumers.base import Context, Problem, shown
from sealtui.core.consumers.resource_uri import parse as parse_resource_uri
from sealtui.core.consumers.resource_uri import resource_problem
from sealtui.core.report import Fix
from sealtui.core.serde_json import duplicates, is_u64, json_type, member_count, parse

PARSE_JWS_ERROR = "parse SealedSecret failed: Failed to parse JWS"
SEALED_SECRET_DIR = "/run/confidential-containers/cdh/sealed-secret"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""n, the order of P-256: a signature's r and s must lie in [1, n-1]."""

SIGNING = ("EdDSA", "ES256", "ES256K", "ES384", "ES512", "HS256", "HS384", "HS512", "PS256", "PS384", "PS512",
           "RS256", "RS384", "RS512", "none")
"""The `alg` names jose-jwa 0.1.2 knows (`Signing`)."""
_PROTECTED = ("crit", "nonce", "b64")
_UNPROTECTED = ("alg", "jwk", "kid", "x5c", "typ", "cty")
_THUMBPRINTS = {"x5t": 20, "x5t#S256": 32}
_KTY = ("EC", "RSA", "oct", "OKP")
_CURVES = {"EC": ("P-256", "P-384", "P-521", "secp256k1"), "OKP": ("Ed25519", "Ed448", "X25519", "X448")}
_OPERATIONS = ("decrypt", "deriveBits", "deriveKey", "encrypt", "sign", "unwrapKey", "verify", "wrapKey")


@dataclass(frozen=True)
class Compact:
    """A JWS that `Flattened::from_str` accepted."""

    header_b64: str
    payload_b64: str
    header: dict[str, Any]
    alg: str | None
    kid: str | None
    payload: bytes | None
    """None when the payload part is empty."""
    signature: bytes

    @property
    def signing_input(self) -> bytes:
        """`<header>.<payload>` exactly as received: what CDH verifies."""
        return f"{self.header_b64}.{self.payload_b64}".encode("ascii")


def _jws_problem(code: str, detail: str, part: str | None = None, position: int | None = None,
                 fix: Fix | None = None) -> Problem:
    return Problem("parse-jws", code, detail, PARSE_JWS_ERROR, "error", fix, part, position)


def parse_compact(ctx: Context, parts: list[str], offset: int) -> Compact | Problem:
    """`Flattened::from_str` of the text `".".join(parts)`, which starts at `offset` in the input."""
    if len(parts) != 3:
        return _jws_problem("jws-parts", f"after the prefix it has {len(parts)} dot-separated part(s); a JWS has 3",
                            "input", offset)
    h, p, s = parts
    at = {"header": offset, "payload": offset + len(h) + 1, "signature": offset + len(h) + len(p) + 2}
    payload: bytes | None = None
    if p:
        got = ctx.b64url(p)
        if isinstance(got, Base64Problem):
            return _b64_problem("payload", p, got, at["payload"])
        payload = got
    raw = ctx.b64url(h)
    if isinstance(raw, Base64Problem):
        return _b64_problem("header", h, raw, at["header"])
    doc = ctx.json(raw)
    if not doc.ok:
        return _jws_problem("header-malformed", f"the header is refused by serde_json: {doc.error}", "header",
                            at["header"])
    if not isinstance(doc.value, dict):
        return _jws_problem("header-malformed", f"the header is {json_type(doc.value)}, not a JSON object",
                            "header", at["header"])
    errors = check_protected(doc.value)
    if errors:
        code = "alg-unsupported" if errors[0].startswith("alg ") else "header-member-type"
        return _jws_problem(code, f"the header does not deserialize into jose-jws's Protected: {errors[0]}",
                            "header", at["header"], Fix("re-sign it with a standard ES256 header", "resign"))
    sig = ctx.b64url(s)
    if isinstance(sig, Base64Problem):
        return _b64_problem("signature", s, sig, at["signature"])
    alg, kid = doc.value.get("alg"), doc.value.get("kid")
    return Compact(h, p, doc.value, _unit_enum(alg, SIGNING) if alg is not None else None,
                   kid if isinstance(kid, str) else None, payload, sig)


def _b64_problem(part: str, text: str, e: Base64Problem, at: int) -> Problem:
    position = at + e.position if e.position is not None else at
    if part == "payload" and looks_padded_std(text):
        return _jws_problem("payload-padded", "payload is padded standard base64; CDH needs base64url without "
                            "padding", part, position, Fix("re-sign it into the canonical form", "resign"))
    return _jws_problem(f"{part}-malformed", f"{part} is not canonical base64url without padding: {e.reason}",
                        part, position)


def check_protected(h: dict[str, Any]) -> list[str]:
    """Why `h` does not deserialize into jose-jws's `Protected` (empty when it does)."""
    errors = [f"member {n!r} is written more than once"
              for n in sorted(duplicates(h) & {*_PROTECTED, *_UNPROTECTED, *_THUMBPRINTS})]
    crit = h.get("crit")
    if crit is not None and not (isinstance(crit, list) and all(isinstance(c, str) for c in crit)):
        errors.append(f"crit is {json_type(crit)}, not an array of strings")
    nonce = h.get("nonce")
    if nonce is not None and not _b64(nonce, url=True):
        errors.append("nonce is not a base64url string")
    if "b64" in h and not isinstance(h["b64"], bool):
        errors.append(f"b64 is {json_type(h['b64'])}, not a boolean")
    alg = h.get("alg")
    if alg is not None and _unit_enum(alg, SIGNING) is None:
        errors.append(f"alg {shown(alg)} is not a JWA signing algorithm (jose-jwa knows {', '.join(SIGNING)})")
    if h.get("jwk") is not None:
        errors += [f"jwk: {e}" for e in check_jwk(h["jwk"])]
    for name in ("kid", "typ", "cty"):
        if h.get(name) is not None and not isinstance(h[name], str):
            errors.append(f"{name} is {json_type(h[name])}, not a string")
    errors += _x5(h)
    return errors


def _x5(obj: dict[str, Any]) -> list[str]:
    errors = []
    x5c = obj.get("x5c")
    if x5c is not None and not (isinstance(x5c, list) and all(_b64(c, url=False) for c in x5c)):
        errors.append("x5c is not an array of standard base64 strings")
    for name, size in _THUMBPRINTS.items():
        v = obj.get(name)
        if v is not None and not (isinstance(v, str) and _b64(v, url=True, size=size)):
            errors.append(f"{name} is not base64url of {size} bytes")
    return errors


def check_jwk(value: Any) -> list[str]:
    """Why `value` is not a jose-jwk `Jwk` (empty when it is)."""
    if not isinstance(value, dict):
        return [f"it is {json_type(value)}, not an object"]
    dups = duplicates(value)
    if "kty" not in value:
        return ["missing field kty"]
    kty = value["kty"]
    kind = kty if kty in _KTY else _KTY[kty] if is_u64(kty) and kty < len(_KTY) else None
    if kind is None:
        return [f"kty {shown(kty)} is not EC, RSA, oct or OKP"]
    errors = [f"member {n!r} is written more than once" for n in sorted(dups & {"kty"})]
    own = {"EC": ("crv", "x", "y", "d"), "RSA": ("n", "e"), "oct": ("k",), "OKP": ("crv", "x", "d")}[kind]
    params = ("alg", "kid", "use", "key_ops", "x5c", *_THUMBPRINTS)
    errors += [f"member {n!r} is written more than once" for n in sorted(dups & {*own, *params})]
    required = {"EC": ("crv", "x", "y"), "RSA": ("n", "e"), "oct": ("k",), "OKP": ("crv", "x")}[kind]
    errors += [f"missing field {n}" for n in required if n not in value]
    if "crv" in own and "crv" in value and _unit_enum(value["crv"], _CURVES[kind]) is None:
        errors.append(f"crv {shown(value['crv'])} is not a {kind} curve")
    for n in own:
        if n != "crv" and n in value and not (value[n] is None and n == "d") and not _b64(value[n], url=True):
            errors.append(f"{n} is not base64url")
    if value.get("alg") is not None and _unit_enum(value["alg"], SIGNING) is None:
        errors.append("alg is not a JWA signing algorithm")
    if value.get("kid") is not None and not isinstance(value["kid"], str):
        errors.append("kid is not a string")
    if value.get("use") is not None and _unit_enum(value["use"], ("enc", "sig")) is None:
        errors.append("use is not enc or sig")
    ops = value.get("key_ops")
    if ops is not None and not (isinstance(ops, list) and all(_unit_enum(o, _OPERATIONS) for o in ops)):
        errors.append("key_ops is not an array of key operations")
    return errors + _x5(value)


def _unit_enum(value: Any, names: tuple[str, ...]) -> str | None:
    """A unit variant read from buffered content: its name, or a one-member object `{name: null | {}}`."""
    if isinstance(value, str):
        return value if value in names else None
    if isinstance(value, dict) and member_count(value) == 1:
        (name, inner), = value.items()
        if name in names and (inner is None or (isinstance(inner, dict) and member_count(inner) == 0)):
            return name
    return None


def _b64(value: Any, *, url: bool, size: int | None = None) -> bool:
    if not isinstance(value, str):
        return False
    try:
        data = b64url_decode(value) if url else b64std_decode(value)
    except Base64Problem:
        return False
    return size is None or len(data) == size


def key_refusal(data: bytes) -> tuple[str, str] | None:
    """Why `validate_es256` refuses `data` as the verification key: (CDH's error text, what is wrong), or None.

    The key file is read with serde_json into jose-jwk's `Jwk`; it must be an EC key on P-256 whose x and y are
    32 bytes each and a point of the curve.
    """
    doc = parse(data)
    if not doc.ok:
        return "JSON Parsing Error", f"the key is refused by serde_json: {doc.error}"
    errors = check_jwk(doc.value)
    if errors:
        return "JSON Parsing Error", f"the key is not a JWK jose-jwk reads: {errors[0]}"
    jwk = doc.value
    kind = jwk["kty"] if isinstance(jwk["kty"], str) else _KTY[jwk["kty"]]
    if kind != "EC" or _unit_enum(jwk["crv"], _CURVES["EC"]) != "P-256":
        return "Signing key error: Key must be P256", "the key is not an EC P-256 key"
    x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    bad = "Signing key error: Could not parse verification key."
    if len(x) != 32 or len(y) != 32:
        return bad, "the key's x and y are not 32 bytes each"
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
    except ValueError:
        return bad, "the key's (x, y) is not a point of P-256"
    return None


def signature_shape_problem(sig: bytes) -> str | None:
    """Why `sig` is not an ES256 signature whatever the key (`Signature::from_slice`), or None."""
    if len(sig) != 64:
        hint = " (it looks like DER; JWS needs raw r‖s)" if sig[:1] == b"\x30" else ""
        return f"the signature is {len(sig)} bytes; ES256 needs 64{hint}"
    for name, half in (("r", sig[:32]), ("s", sig[32:])):
        if not 1 <= int.from_bytes(half, "big") < P256_ORDER:
            return f"the signature's {name} is not in [1, n-1] for P-256"
    return None


def kid_problem(kid: str) -> tuple[str, str | None]:
    """Where CDH gets the key named `kid` (`Secret::get_kid`), and why it cannot, or None.

    A `kbs://` resource URI is fetched from Trustee; anything else is a file under the sealed-secret directory,
    which must resolve inside it (a path that leaves it, the directory itself or a directory name cannot be read).
    """
    if parse_resource_uri(kid) is not None:  # `ResourceUri::try_from(kid).is_ok()`: fetched from Trustee
        why = resource_problem(kid)
        return f"KBS resource {kid}", (None if why is None else f"kid {shown(kid)} names no key Trustee can serve: "
                                       f"{why}")
    if "\x00" in kid:
        return "a file", f"kid {shown(kid)} holds a NUL character, which no file name can"
    path = posixpath.normpath(posixpath.join(SEALED_SECRET_DIR, kid))
    names_a_directory = kid in (".", "..") or kid.endswith(("/", "/.", "/.."))
    if not path.startswith(SEALED_SECRET_DIR + "/") or names_a_directory:
        return path, (f"kid {shown(kid)} names {shown(path)}, which is not a file inside {SEALED_SECRET_DIR}/ "
                      "(CDH refuses a path outside it, and cannot read a directory)")
    return path, None
