"""The KMS-instance protobuf messages, built at import time without protoc.

The schema is `dkms_api.proto` (decoded from the SDK's `openapi_util/protobuf/api_pb2.py`). The classes live in
a **private** `DescriptorPool` under their own package and file name, so they never collide with the SDK's
`api.proto` in the default pool when the server and the SDK share a process (pytest). Only field numbers and
types matter on the wire; a test cross-checks every field against the SDK's descriptors.

Requests (untrusted input) are parsed by protobuf itself. Responses are written by `serialize`, a direct
proto3 encoder of the same table: the SDK pins protobuf < 4, which has no compiled implementation for this
Python, and its pure-Python serializer cost ~25 µs of the server's ~250 µs per request. A test checks the
encoder byte for byte against protobuf's serializer for every message.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["MESSAGES", "PACKAGE", "SCHEMA", "message_class", "parse", "serialize"]

PACKAGE = "sealtui_sandbox_dkms"
"""Our package name: deliberately not the SDK's `protobuf`, so full names can never clash."""

SCHEMA: dict[str, str] = {
    "KmsEncryptRequest": "string KeyId=1, bytes Plaintext=2, bytes Aad=3",
    "KmsEncryptResponse": "string KeyId=1, bytes CiphertextBlob=2, string RequestId=3",
    "EncryptRequest": "string KeyId=1, bytes Plaintext=2, string Algorithm=3, bytes Aad=4, bytes Iv=5, "
    "string PaddingMode=6",
    "EncryptResponse": "string KeyId=1, bytes CiphertextBlob=2, bytes Iv=3, string RequestId=4, "
    "string Algorithm=5, string PaddingMode=6",
    "KmsDecryptRequest": "bytes CiphertextBlob=1, bytes Aad=2",
    "KmsDecryptResponse": "string KeyId=1, bytes Plaintext=2, string RequestId=3",
    "DecryptRequest": "bytes CiphertextBlob=1, string KeyId=2, string Algorithm=3, bytes Aad=4, bytes Iv=5, "
    "string PaddingMode=6",
    "DecryptResponse": "string KeyId=1, bytes Plaintext=2, string RequestId=3, string Algorithm=4, "
    "string PaddingMode=5",
    "SignRequest": "string KeyId=1, bytes Digest=2, string Algorithm=3, bytes Message=4, string MessageType=5",
    "SignResponse": "string KeyId=1, bytes Signature=2, string RequestId=3, string Algorithm=4, string MessageType=5",
    "VerifyRequest": "string KeyId=1, bytes Digest=2, bytes Signature=3, string Algorithm=4, bytes Message=5, "
    "string MessageType=6",
    "VerifyResponse": "string KeyId=1, bool Value=2, string RequestId=3, string Algorithm=4, string MessageType=5",
    "HmacRequest": "string KeyId=1, bytes Message=2",
    "HmacResponse": "string KeyId=1, bytes Signature=2, string RequestId=3",
    "GenerateRandomRequest": "int32 Length=1",
    "GenerateRandomResponse": "bytes Random=1, string RequestId=2",
    "HashRequest": "bytes Message=1, string Algorithm=2",
    "HashResponse": "bytes Digest=1, string RequestId=3",
    "GenerateDataKeyRequest": "string KeyId=1, string Algorithm=2, int32 NumberOfBytes=3, bytes Aad=4",
    "GenerateDataKeyResponse": "string KeyId=1, bytes Iv=2, bytes Plaintext=3, bytes CiphertextBlob=4, "
    "string RequestId=5, string Algorithm=6",
    "GetPublicKeyRequest": "string KeyId=1",
    "GetPublicKeyResponse": "string KeyId=1, string PublicKey=2, string RequestId=3",
    "Error": "int32 StatusCode=1, string ErrorCode=2, string ErrorMessage=3, string RequestId=4",
    "GetSecretValueRequest": "string SecretName=1, string VersionStage=2, string VersionId=3, "
    "bool FetchExtendedConfig=4",
    "GetSecretValueResponse": "string SecretName=1, string SecretType=2, string SecretData=3, "
    "string SecretDataType=4, repeated string VersionStages=5, string VersionId=6, string CreateTime=7, "
    "string RequestId=8, string LastRotationDate=9, string NextRotationDate=10, string ExtendedConfig=11, "
    "string AutomaticRotation=12, string RotationInterval=13",
    "AdvanceEncryptRequest": "string KeyId=1, bytes Plaintext=2, string Algorithm=3, bytes Aad=4, bytes Iv=5, "
    "string PaddingMode=6",
    "AdvanceEncryptResponse": "string KeyId=1, bytes CiphertextBlob=2, bytes Iv=3, string RequestId=4, "
    "string Algorithm=5, string PaddingMode=6, string KeyVersionId=7",
    "AdvanceDecryptRequest": "bytes CiphertextBlob=1, string KeyId=2, string Algorithm=3, bytes Aad=4, "
    "bytes Iv=5, string PaddingMode=6",
    "AdvanceDecryptResponse": "string KeyId=1, bytes Plaintext=2, string RequestId=3, string Algorithm=4, "
    "string PaddingMode=5, string KeyVersionId=6",
    "AdvanceGenerateDataKeyRequest": "string KeyId=1, int32 NumberOfBytes=2, bytes Aad=3",
    "AdvanceGenerateDataKeyResponse": "string KeyId=1, bytes Iv=2, bytes Plaintext=3, bytes CiphertextBlob=4, "
    "string RequestId=5, string Algorithm=6, string KeyVersionId=7",
    "GenerateDataKeyPairRequest": "string KeyId=1, string Algorithm=2, string KeyPairSpec=3, "
    "string KeyFormat=4, bytes Aad=5",
    "GenerateDataKeyPairResponse": "string KeyId=1, bytes Iv=2, string KeyPairSpec=3, "
    "bytes PrivateKeyPlaintext=4, bytes PrivateKeyCiphertextBlob=5, bytes PublicKey=6, string RequestId=7, "
    "string Algorithm=8",
    "GenerateDataKeyPairWithoutPlaintextRequest": "string KeyId=1, string Algorithm=2, string KeyPairSpec=3, "
    "string KeyFormat=4, bytes Aad=5",
    "GenerateDataKeyPairWithoutPlaintextResponse": "string KeyId=1, bytes Iv=2, string KeyPairSpec=3, "
    "bytes PrivateKeyCiphertextBlob=4, bytes PublicKey=5, string RequestId=6, string Algorithm=7",
    "AdvanceGenerateDataKeyPairRequest": "string KeyId=1, string KeyPairSpec=2, string KeyFormat=3, bytes Aad=4",
    "AdvanceGenerateDataKeyPairResponse": "string KeyId=1, bytes Iv=2, string KeyPairSpec=3, "
    "bytes PrivateKeyPlaintext=4, bytes PrivateKeyCiphertextBlob=5, bytes PublicKey=6, string RequestId=7, "
    "string Algorithm=8, string KeyVersionId=9",
    "AdvanceGenerateDataKeyPairWithoutPlaintextRequest": "string KeyId=1, string KeyPairSpec=2, "
    "string KeyFormat=3, bytes Aad=4",
    "AdvanceGenerateDataKeyPairWithoutPlaintextResponse": "string KeyId=1, bytes Iv=2, string KeyPairSpec=3, "
    "bytes PrivateKeyCiphertextBlob=4, bytes PublicKey=5, string RequestId=6, string Algorithm=7, "
    "string KeyVersionId=8",
}
"""Every message of the SDK's `api.proto`: `[repeated] <type> <Name>=<number>`, comma-separated."""

_FDP = descriptor_pb2.FieldDescriptorProto
_TYPES = {
    "string": _FDP.TYPE_STRING,
    "bytes": _FDP.TYPE_BYTES,
    "bool": _FDP.TYPE_BOOL,
    "int32": _FDP.TYPE_INT32,
}


def _file_proto() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(name="sealtui/sandbox/dkms_api.proto", package=PACKAGE, syntax="proto3")
    for msg_name, spec in SCHEMA.items():
        msg = fdp.message_type.add(name=msg_name)
        for item in spec.split(","):
            words = item.split()
            label = _FDP.LABEL_OPTIONAL
            if words[0] == "repeated":
                label = _FDP.LABEL_REPEATED
                words = words[1:]
            type_name, assignment = words
            field_name, number = assignment.split("=")
            msg.field.add(name=field_name, number=int(number), type=_TYPES[type_name], label=label)
    return fdp


def _build() -> dict[str, type[Any]]:
    pool = descriptor_pool.DescriptorPool()
    # AddSerializedFile exists on every implementation (pure Python 3.20, upb 4+); Add() does not.
    pool.AddSerializedFile(_file_proto().SerializeToString())
    classes: dict[str, type[Any]] = {}
    get_class = getattr(message_factory, "GetMessageClass", None)
    factory = None if get_class is not None else message_factory.MessageFactory(pool)
    for name in SCHEMA:
        desc = pool.FindMessageTypeByName(f"{PACKAGE}.{name}")
        # protobuf >= 4.21 has GetMessageClass; 3.20 only the (later removed) MessageFactory.GetPrototype.
        classes[name] = get_class(desc) if get_class is not None else factory.GetPrototype(desc)  # type: ignore[union-attr]
    return classes


MESSAGES: dict[str, type[Any]] = _build()
"""Message name → generated class (fields accessed by their proto names, e.g. `msg.KeyId`)."""


def message_class(name: str) -> type[Any]:
    """Return the message class called `name` (e.g. `"EncryptRequest"`)."""
    return MESSAGES[name]


def parse(name: str, data: bytes) -> Any:
    """Parse `data` as the message `name`; raises `google.protobuf.message.DecodeError` on garbage."""
    msg = MESSAGES[name]()
    msg.ParseFromString(data)
    return msg


def _field_table() -> dict[str, dict[str, tuple[int, str, bool]]]:
    table: dict[str, dict[str, tuple[int, str, bool]]] = {}
    for msg_name, spec in SCHEMA.items():
        fields: dict[str, tuple[int, str, bool]] = {}
        for item in spec.split(","):
            words = item.split()
            repeated = words[0] == "repeated"
            type_name, assignment = words[-2:]
            field_name, number = assignment.split("=")
            fields[field_name] = (int(number), type_name, repeated)
        table[msg_name] = dict(sorted(fields.items(), key=lambda kv: kv[1][0]))  # field-number order, as protobuf
    return table


_FIELDS = _field_table()


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _encode_value(number: int, type_name: str, value: Any) -> bytes:
    if type_name in ("string", "bytes"):
        data = value.encode("utf-8") if type_name == "string" else bytes(value)
        return _varint(number << 3 | 2) + _varint(len(data)) + data
    if type_name == "bool":
        return _varint(number << 3) + b"\x01"
    if type_name == "int32":
        return _varint(number << 3) + _varint(value if value >= 0 else value + (1 << 64))  # two's complement
    raise TypeError(f"cannot encode a {type_name}")


def serialize(name: str, **fields: Any) -> bytes:
    """Serialize the message `name` with the given fields (unset and default ones are omitted, as in proto3)."""
    table = _FIELDS[name]
    unknown = set(fields) - set(table)
    if unknown:
        raise ValueError(f"{name} has no field {', '.join(sorted(unknown))}")
    out: list[bytes] = []
    for field_name, (number, type_name, repeated) in table.items():
        value = fields.get(field_name)
        if repeated:
            out.extend(_encode_value(number, type_name, item) for item in value or ())
        elif value:
            out.append(_encode_value(number, type_name, value))
    return b"".join(out)
