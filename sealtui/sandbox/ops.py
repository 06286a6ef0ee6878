"""The KMS operations the sandbox implements, on an authenticated client key (dkms-protocol.md §5).

Every key operation checks, in this order: the key exists (404 `Forbidden.KeyNotFound`), the client key may
run this operation on it (403 `Forbidden.NoPermission`), the key is `Active` (409), the key has the right
type (400 `InvalidParameter`).

`Encrypt` picks the IV itself and refuses one chosen by the caller (400 `InvalidParameter`) unless the server
allows it (`allow_chosen_iv`, for compatibility tests): with AES-GCM, a caller that may only Encrypt could
otherwise reuse the IV of someone else's ciphertext (every sealed secret carries it in `annotations.iv`) and
recover that ciphertext's plaintext. The SDK's and CDH's clients never send one.

CiphertextBlob layout (opaque to clients): the 16 bytes of the key version's UUID, then the AES-256-GCM
ciphertext with its 16-byte tag. The 12-byte IV travels separately (`Iv`), and `Aad` is the GCM AAD. The
version prefix lets Decrypt find the key without a KeyId, as Alibaba's transfer SDK calls it.
"""

from __future__ import annotations

import base64
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError

from sealtui.sandbox import proto
from sealtui.sandbox.kmserror import KmsError
from sealtui.sandbox.storage import KeyRecord, Storage

__all__ = ["MIGRATION_HEADER", "OpResult", "Operations"]

MIGRATION_HEADER = "x-kms-migrationkeyversionid"
"""Response (and optional Decrypt request) header carrying the key version id."""

_AES = "Aliyun_AES_256"
_EC = "EC_P256"
_GCM = "AES_GCM"
_ECDSA = "ECDSA_SHA_256"
_IV_LEN = 12
_TAG_LEN = 16
_VERSION_LEN = 16
_BYTES_RANGE = range(1, 1025)


@dataclass
class OpResult:
    """A successful response: message name, its fields, and extra response headers."""

    message: str
    fields: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Operations:
    """Runs one API call for one client key against the storage."""

    def __init__(self, storage: Storage, *, allow_chosen_iv: bool = False) -> None:
        self._storage = storage
        self._allow_chosen_iv = allow_chosen_iv
        # Parsed keys by key version: parsing costs more than the operation. Dropped as soon as a request finds
        # the key in any state but Active, so nothing of a destroyed key stays usable.
        self._ec_keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._aes_keys: dict[str, AESGCM] = {}
        self._cache_lock = threading.Lock()
        self._handlers: dict[str, tuple[str, Callable[[Any, str, Mapping[str, str]], OpResult]]] = {
            "Encrypt": ("EncryptRequest", self.encrypt),
            "Decrypt": ("DecryptRequest", self.decrypt),
            "GenerateDataKey": ("GenerateDataKeyRequest", self.generate_data_key),
            "GetSecretValue": ("GetSecretValueRequest", self.get_secret_value),
            "GetPublicKey": ("GetPublicKeyRequest", self.get_public_key),
            "Sign": ("SignRequest", self.sign),
            "Verify": ("VerifyRequest", self.verify),
            "GenerateRandom": ("GenerateRandomRequest", self.generate_random),
        }

    def supports(self, api_name: str) -> bool:
        """Whether `api_name` is implemented (others get 400 `InvalidApiName`)."""
        return api_name in self._handlers

    def run(self, api_name: str, body: bytes, client_key_id: str, headers: Mapping[str, str]) -> OpResult:
        """Parse the request body and run the operation; raises `KmsError` on refusal."""
        request_name, handler = self._handlers[api_name]
        try:
            request = proto.parse(request_name, body)
        except (DecodeError, UnicodeDecodeError, RecursionError, ValueError, TypeError, IndexError, KeyError):
            # Whatever the decoder raised on this body (invalid UTF-8 in a string field, groups nested deeper
            # than the recursion limit, truncated fields): it is the caller's malformed input, not a server fault.
            raise KmsError.invalid_parameter(f"The body is not a valid {request_name} message.") from None
        return handler(request, client_key_id, headers)

    # helpers

    def _key(self, ref: str, client_key_id: str, operation: str, spec: str) -> KeyRecord:
        if not ref:
            raise KmsError.invalid_parameter("KeyId is empty.")
        key = self._storage.key_for(ref, client_key_id)
        if key is None:
            raise KmsError.key_not_found(ref)
        self._check_usable(key, ref, operation, spec)
        return key

    def _check_usable(self, key: KeyRecord, ref: str, operation: str, spec: str) -> None:
        if key.state != "Active":
            with self._cache_lock:
                self._ec_keys.pop(key.version_id, None)
                self._aes_keys.pop(key.version_id, None)
        if operation not in key.permissions:
            raise KmsError.no_permission(ref)
        if key.state != "Active":
            raise KmsError.key_state(key.key_id, key.state)
        if key.spec != spec:
            raise KmsError.invalid_parameter(f'{operation} needs a {spec} key; "{ref}" is a {key.spec} key.')

    @staticmethod
    def _check_algorithm(value: str, expected: str, *, optional: bool) -> str:
        if not value and optional:
            return expected
        if value != expected:
            raise KmsError.invalid_parameter(f'Algorithm "{value}" is not supported here; use {expected}.')
        return value

    def _aes(self, key: KeyRecord) -> AESGCM:
        with self._cache_lock:
            cached = self._aes_keys.get(key.version_id)
        if cached is None:
            cached = AESGCM(key.material)
            with self._cache_lock:
                self._aes_keys[key.version_id] = cached
        return cached

    def _seal(self, key: KeyRecord, plaintext: bytes, aad: bytes, iv: bytes) -> bytes:
        sealed = self._aes(key).encrypt(iv, plaintext, aad or None)
        return uuid.UUID(key.version_id).bytes + sealed

    def _ec_key(self, key: KeyRecord) -> ec.EllipticCurvePrivateKey:
        with self._cache_lock:
            cached = self._ec_keys.get(key.version_id)
        if cached is None:
            loaded = serialization.load_der_private_key(key.material, password=None)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            cached = loaded
            with self._cache_lock:
                self._ec_keys[key.version_id] = cached
        return cached

    # symmetric

    def encrypt(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """Encrypt: AES-256-GCM under the key with a random 12-byte IV (a caller's IV only if allowed)."""
        key = self._key(req.KeyId, client, "Encrypt", _AES)
        algorithm = self._check_algorithm(req.Algorithm, _GCM, optional=True)
        if not req.Plaintext:
            raise KmsError.invalid_parameter("Plaintext is empty.")
        if req.Iv and not self._allow_chosen_iv:
            raise KmsError.invalid_parameter(
                "Iv must not be given: this instance chooses a fresh random IV for every Encrypt "
                "(a reused AES-GCM IV exposes the data)."
            )
        iv = req.Iv or os.urandom(_IV_LEN)
        if len(iv) != _IV_LEN:
            raise KmsError.invalid_parameter(f"Iv must be {_IV_LEN} bytes for AES_GCM, not {len(iv)}.")
        blob = self._seal(key, req.Plaintext, req.Aad, iv)
        return OpResult(
            "EncryptResponse",
            {
                "KeyId": key.key_id,
                "CiphertextBlob": blob,
                "Iv": iv,
                "Algorithm": algorithm,
                "PaddingMode": req.PaddingMode,
            },
            {MIGRATION_HEADER: key.version_id},
        )

    def decrypt(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """Decrypt: finds the key from the blob's version prefix; a given KeyId must match it."""
        algorithm = self._check_algorithm(req.Algorithm, _GCM, optional=True)
        blob = req.CiphertextBlob
        if len(blob) < _VERSION_LEN + _TAG_LEN:
            raise KmsError.invalid_parameter("CiphertextBlob is too short to be a ciphertext of this instance.")
        if len(req.Iv) != _IV_LEN:
            raise KmsError.invalid_parameter(f"Iv must be the {_IV_LEN} bytes Encrypt returned.")
        version_id = str(uuid.UUID(bytes=blob[:_VERSION_LEN]))
        asked_version = headers.get(MIGRATION_HEADER, "").strip()
        if asked_version and asked_version != version_id:
            raise KmsError.invalid_parameter(f"CiphertextBlob was not made with key version {asked_version}.")
        if req.KeyId:
            key = self._key(req.KeyId, client, "Decrypt", _AES)
            if key.version_id != version_id:
                raise KmsError.invalid_parameter(f'CiphertextBlob was not made with key "{req.KeyId}".')
        else:
            owner = self._storage.key_id_for_version(version_id)
            found = self._storage.key_for(owner, client) if owner else None
            if found is None:
                raise KmsError.invalid_parameter("CiphertextBlob was not made by a key of this instance.")
            self._check_usable(found, found.key_id, "Decrypt", _AES)
            key = found
        try:
            plaintext = self._aes(key).decrypt(req.Iv, blob[_VERSION_LEN:], req.Aad or None)
        except InvalidTag:
            raise KmsError.invalid_parameter(
                "The ciphertext does not authenticate: CiphertextBlob, Iv or Aad differ from what Encrypt used."
            ) from None
        return OpResult(
            "DecryptResponse",
            {"KeyId": key.key_id, "Plaintext": plaintext, "Algorithm": algorithm, "PaddingMode": req.PaddingMode},
            {MIGRATION_HEADER: key.version_id},
        )

    def generate_data_key(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """GenerateDataKey: random bytes (default 32) and their ciphertext, as Encrypt would make it."""
        key = self._key(req.KeyId, client, "GenerateDataKey", _AES)
        algorithm = self._check_algorithm(req.Algorithm, _GCM, optional=True)
        size = req.NumberOfBytes or 32
        if size not in _BYTES_RANGE:
            raise KmsError.invalid_parameter(f"NumberOfBytes must be 1 to 1024, not {size}.")
        plaintext = os.urandom(size)
        iv = os.urandom(_IV_LEN)
        blob = self._seal(key, plaintext, req.Aad, iv)
        return OpResult(
            "GenerateDataKeyResponse",
            {"KeyId": key.key_id, "Iv": iv, "Plaintext": plaintext, "CiphertextBlob": blob, "Algorithm": algorithm},
            {MIGRATION_HEADER: key.version_id},
        )

    # asymmetric

    def get_public_key(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """GetPublicKey: the PEM SubjectPublicKeyInfo, as a string."""
        key = self._key(req.KeyId, client, "GetPublicKey", _EC)
        pem = (
            self._ec_key(key)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        return OpResult(
            "GetPublicKeyResponse",
            {"KeyId": key.key_id, "PublicKey": pem.decode("ascii")},
            {MIGRATION_HEADER: key.version_id},
        )

    @staticmethod
    def _digest(req: Any) -> tuple[bytes, str]:
        message_type = req.MessageType or "RAW"
        if req.Message:
            data = req.Message
        elif req.Digest:  # field 2: never sent by the Python SDK, accepted for other clients
            data, message_type = req.Digest, "DIGEST"
        else:
            raise KmsError.invalid_parameter("Message is empty.")
        if message_type == "RAW":
            h = hashes.Hash(hashes.SHA256())
            h.update(data)
            return h.finalize(), message_type
        if message_type == "DIGEST":
            if len(data) != 32:
                raise KmsError.invalid_parameter(f"a SHA-256 digest is 32 bytes, not {len(data)}.")
            return data, message_type
        raise KmsError.invalid_parameter(f'MessageType "{message_type}" is not RAW or DIGEST.')

    def sign(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """Sign: ECDSA P-256 over SHA-256, DER-encoded signature."""
        key = self._key(req.KeyId, client, "Sign", _EC)
        algorithm = self._check_algorithm(req.Algorithm, _ECDSA, optional=False)
        digest, message_type = self._digest(req)
        signature = self._ec_key(key).sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return OpResult(
            "SignResponse",
            {"KeyId": key.key_id, "Signature": signature, "Algorithm": algorithm, "MessageType": message_type},
            {MIGRATION_HEADER: key.version_id},
        )

    def verify(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """Verify: `Value` true or false (a bad signature is an answer, not an error)."""
        key = self._key(req.KeyId, client, "Verify", _EC)
        algorithm = self._check_algorithm(req.Algorithm, _ECDSA, optional=False)
        digest, message_type = self._digest(req)
        if not req.Signature:
            raise KmsError.invalid_parameter("Signature is empty.")
        try:
            self._ec_key(key).public_key().verify(req.Signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
            valid = True
        except (InvalidSignature, ValueError):
            valid = False
        return OpResult(
            "VerifyResponse",
            {"KeyId": key.key_id, "Value": valid, "Algorithm": algorithm, "MessageType": message_type},
            {MIGRATION_HEADER: key.version_id},
        )

    # no key

    def generate_random(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """GenerateRandom: `Length` random bytes (default 32, at most 1024)."""
        length = req.Length or 32
        if length not in _BYTES_RANGE:
            raise KmsError.invalid_parameter(f"Length must be 1 to 1024, not {length}.")
        return OpResult("GenerateRandomResponse", {"Random": os.urandom(length)})

    def get_secret_value(self, req: Any, client: str, headers: Mapping[str, str]) -> OpResult:
        """GetSecretValue: the current version (or the one named by VersionId / VersionStage)."""
        if not req.SecretName:
            raise KmsError.invalid_parameter("SecretName is empty.")
        secret = self._storage.secret_for(req.SecretName, client, version_id=req.VersionId, stage=req.VersionStage)
        if secret is None:
            what = f"secret {req.SecretName}"
            if req.VersionId or req.VersionStage:
                what += f" version {req.VersionId or req.VersionStage}"
            raise KmsError.resource_not_found(what)
        if "GetSecretValue" not in secret.permissions:
            raise KmsError.no_permission(req.SecretName)
        if secret.data_type == "binary":
            data = base64.b64encode(secret.data).decode("ascii")
        else:
            data = secret.data.decode("utf-8")
        fields: dict[str, Any] = {
            "SecretName": secret.name,
            "SecretType": "Generic",
            "SecretData": data,
            "SecretDataType": secret.data_type,
            "VersionStages": list(secret.stages),
            "VersionId": secret.version_id,
            "CreateTime": secret.created,
        }
        if req.FetchExtendedConfig:
            fields.update({"AutomaticRotation": "Disabled", "ExtendedConfig": ""})
        return OpResult("GetSecretValueResponse", fields)
