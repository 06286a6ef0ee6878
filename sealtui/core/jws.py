"""ES256 JWS over P-256 JWKs, exactly as guest-components' `secret seal` makes and CDH checks them.

Protected header `{"b64":true,"alg":"ES256","kid":…}`, every part base64url without padding, and a raw 64-byte
`r‖s` signature (not DER) over the ASCII bytes `<header>.<payload>`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from sealtui.core.b64 import Base64Problem, b64url_decode, b64url_encode
from sealtui.core.errors import InvalidInputError

ALG = "ES256"
"""The only JWS algorithm CDH accepts for sealed secrets."""
_COORD = 32  # bytes per P-256 coordinate / scalar


@dataclass(frozen=True)
class Jwk:
    """A P-256 JWK, public or private."""

    public_key: ec.EllipticCurvePublicKey
    private_key: ec.EllipticCurvePrivateKey | None = None
    kid: str | None = None
    source: str = "JWK"
    """Where the key came from (a file name), for messages."""

    @property
    def is_private(self) -> bool:
        return self.private_key is not None

    def public_dict(self) -> dict[str, str]:
        """The public JWK as JSON-ready members."""
        nums = self.public_key.public_numbers()
        d = {"kty": "EC", "crv": "P-256", "alg": ALG,
             "x": b64url_encode(nums.x.to_bytes(_COORD, "big")),
             "y": b64url_encode(nums.y.to_bytes(_COORD, "big"))}
        if self.kid:
            d["kid"] = self.kid
        return d

    def private_dict(self) -> dict[str, str]:
        """The private JWK as JSON-ready members (`d` included)."""
        if self.private_key is None:
            raise InvalidInputError(f"{self.source} is a public key", fix="give the private JWK to sign")
        d = self.public_dict()
        d["d"] = b64url_encode(self.private_key.private_numbers().private_value.to_bytes(_COORD, "big"))
        return d


def jwk_from_dict(data: Any, source: str = "JWK") -> Jwk:
    """Build a `Jwk` from JWK members, naming the member at fault on error."""
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{source} is not a JSON object", fix="give a P-256 JWK file")
    if data.get("kty") != "EC":
        raise InvalidInputError(f"{source}: 'kty' is {data.get('kty')!r}, not 'EC'",
                                fix="sealed secrets are signed with P-256 (ES256) keys")
    if data.get("crv") != "P-256":
        raise InvalidInputError(f"{source}: 'crv' is {data.get('crv')!r}, not 'P-256'",
                                fix="sealed secrets are signed with P-256 (ES256) keys")
    if "alg" in data and data["alg"] != ALG:
        raise InvalidInputError(f"{source}: 'alg' is {data['alg']!r}, not 'ES256'")

    def coord(name: str) -> int:
        value = data.get(name)
        if not isinstance(value, str):
            raise InvalidInputError(f"{source}: member {name!r} is missing")
        try:
            raw = b64url_decode(value)
        except Base64Problem as e:
            raise InvalidInputError(f"{source}: member {name!r} is not base64url ({e})") from None
        if len(raw) != _COORD:
            raise InvalidInputError(f"{source}: member {name!r} is {len(raw)} bytes, P-256 needs 32")
        return int.from_bytes(raw, "big")

    try:
        public = ec.EllipticCurvePublicNumbers(coord("x"), coord("y"), ec.SECP256R1()).public_key()
    except ValueError:
        raise InvalidInputError(f"{source}: the point (x, y) is not on the P-256 curve") from None
    private = None
    if "d" in data:
        private = ec.derive_private_key(coord("d"), ec.SECP256R1())
        if private.public_key().public_numbers() != public.public_numbers():
            raise InvalidInputError(f"{source}: 'd' does not belong to the public point (x, y)")
    kid = data.get("kid")
    return Jwk(public, private, kid if isinstance(kid, str) and kid else None, source)


def load_jwk(source: str | os.PathLike[str] | Mapping[str, Any] | Jwk) -> Jwk:
    """Load a JWK from a file path, JSON text, a mapping, or return a `Jwk` unchanged."""
    if isinstance(source, Jwk):
        return source
    if isinstance(source, Mapping):
        return jwk_from_dict(source)
    text = str(source)
    if text.lstrip().startswith("{"):
        name, content = "JWK", text
    else:
        from sealtui.core.files import read_text

        name = str(Path(text).expanduser())
        content = read_text(text, "a P-256 JWK (JSON)")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as e:
        raise InvalidInputError(f"{name} is not JSON (line {e.lineno}, column {e.colno}: {e.msg})",
                                fix="give a P-256 JWK file, e.g. one written by `sealtui keygen`") from None
    except RecursionError:  # `[[[[…` deeper than Python's stack; a JWK is one flat object
        raise InvalidInputError(f"{name} is not a JWK (JSON nested too deeply)",
                                fix="give a P-256 JWK file, e.g. one written by `sealtui keygen`") from None
    return jwk_from_dict(data, name)


def generate_jwk(kid: str) -> Jwk:
    """A new P-256 private JWK."""
    key = ec.generate_private_key(ec.SECP256R1())
    return Jwk(key.public_key(), key, kid, "generated")


class JwkSigner:
    """A `Signer` backed by a private JWK held in memory."""

    def __init__(self, jwk: Jwk, kid: str | None = None) -> None:
        if jwk.private_key is None:
            raise InvalidInputError(f"{jwk.source} is a public JWK", fix="signing needs the private JWK ('d')")
        kid = kid or jwk.kid
        if not kid:
            raise InvalidInputError(f"{jwk.source} has no 'kid'", fix="pass the kid (e.g. --signing-kid)")
        self.kid = kid
        self._key = jwk.private_key

    def sign(self, data: bytes) -> bytes:
        return der_to_raw(self._key.sign(data, ec.ECDSA(hashes.SHA256())))


def der_to_raw(der: bytes) -> bytes:
    """Convert a DER ECDSA signature to the 64-byte `r‖s` form JWS uses."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(_COORD, "big") + s.to_bytes(_COORD, "big")


def protected_header(kid: str) -> dict[str, Any]:
    """The protected header `secret seal` writes, in its member order."""
    return {"b64": True, "alg": ALG, "kid": kid}


def sign_compact(payload: bytes, signer: Any) -> str:
    """Compact JWS `<header>.<payload>.<signature>` of `payload` by a `Signer`."""
    header = b64url_encode(json.dumps(protected_header(signer.kid), separators=(",", ":")).encode())
    signing_input = f"{header}.{b64url_encode(payload)}"
    signature = signer.sign(signing_input.encode("ascii"))
    if len(signature) != 2 * _COORD:
        raise InvalidInputError(f"the signer returned {len(signature)} bytes; ES256 needs raw r‖s (64)")
    return f"{signing_input}.{b64url_encode(signature)}"


def verify_raw(signing_input: bytes, signature: bytes, jwk: Jwk) -> bool:
    """True when `signature` (raw r‖s) is a valid ES256 signature of `signing_input` by `jwk`."""
    if len(signature) != 2 * _COORD:
        return False
    r = int.from_bytes(signature[:_COORD], "big")
    s = int.from_bytes(signature[_COORD:], "big")
    try:
        jwk.public_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class KeyPairFiles:
    """What `keygen` wrote."""

    kid: str
    private_path: Path
    public_path: Path


def key_file_stem(kid: str) -> str:
    """The file-name stem for a kid: the kid itself, or for a `kbs:///repo/type/tag` URI `repo_type_tag`."""
    stem = kid.removeprefix("kbs:///").strip("/").replace("/", "_") if kid.startswith("kbs://") else kid
    if not stem or "/" in stem or "\x00" in stem or stem in (".", ".."):
        raise InvalidInputError(
            f"kid {kid!r} cannot name a file",
            fix="use the file name CDH looks up under /run/confidential-containers/cdh/sealed-secret/ "
            "(e.g. my-key) or a kbs:///repo/type/tag URI",
        )
    return stem


def keygen(kid: str, output_dir: str | os.PathLike[str]) -> KeyPairFiles:
    """Write `<kid>-private.json` (mode 0600) and `<kid>-public.json` (0644) in `output_dir`, created (mode 0700)
    when it does not exist; never overwrite either (`sealtui.core.files`)."""
    from sealtui.core.files import check_new_file, ensure_directory, write_new_file, write_public_file

    stem = key_file_stem(kid)
    out = Path(output_dir)
    private_path, public_path = out / f"{stem}-private.json", out / f"{stem}-public.json"
    for p in (private_path, public_path):
        check_new_file(p)
    ensure_directory(out)
    jwk = generate_jwk(kid)
    write_new_file(private_path, (json.dumps(jwk.private_dict(), indent=2) + "\n").encode("utf-8"))
    write_public_file(public_path, (json.dumps(jwk.public_dict(), indent=2) + "\n").encode("utf-8"))
    return KeyPairFiles(kid, private_path, public_path)
