"""The sandbox's protobuf descriptors against the SDK's own `api_pb2`, field by field."""

from __future__ import annotations

import pytest

from sealtui.sandbox import proto

api_pb2 = pytest.importorskip("openapi_util.protobuf.api_pb2")


def _fields(descriptor) -> list[tuple[str, int, int, int]]:
    return sorted((f.name, f.number, f.type, f.label) for f in descriptor.fields)


def test_every_sdk_message_is_defined_with_the_same_fields():
    sdk_messages = api_pb2.DESCRIPTOR.message_types_by_name
    assert set(sdk_messages) == set(proto.MESSAGES)
    for name, sdk_desc in sdk_messages.items():
        assert _fields(proto.MESSAGES[name].DESCRIPTOR) == _fields(sdk_desc), name


def test_private_pool_does_not_clash_with_the_sdk():
    # Both sets of classes coexist in one process and interoperate on the wire.
    ours = proto.MESSAGES["GetSecretValueResponse"].DESCRIPTOR
    assert ours.full_name != api_pb2.GetSecretValueResponse.DESCRIPTOR.full_name
    data = proto.serialize("GetSecretValueResponse", SecretName="n", VersionStages=["ACSCurrent", "x"])
    theirs = api_pb2.GetSecretValueResponse()
    theirs.ParseFromString(data)
    assert theirs.SecretName == "n" and list(theirs.VersionStages) == ["ACSCurrent", "x"]
    back = proto.parse("VerifyResponse", api_pb2.VerifyResponse(Value=True, KeyId="k").SerializeToString())
    assert back.Value is True and back.KeyId == "k"


def _value(type_name: str, rng):
    if type_name == "string":
        return rng.choice(["", "a", "alias/sealtui-default", "é€😀", "x" * 300])
    if type_name == "bytes":
        return rng.choice([b"", b"\x00", bytes(range(256)), b"y" * 200])
    if type_name == "bool":
        return rng.choice([False, True])
    return rng.choice([0, 1, 127, 128, 300, 2**31 - 1, -1, -(2**31)])


def test_serialize_is_protobufs_encoding_byte_for_byte():
    """`serialize` is a direct encoder (speed); protobuf's own serializer is the reference."""
    import random

    rng = random.Random(13)
    for name in proto.SCHEMA:
        for _ in range(25):
            fields = {}
            for field_name, (_number, type_name, repeated) in proto._FIELDS[name].items():
                if rng.random() < 0.7:
                    fields[field_name] = (
                        [_value(type_name, rng) for _ in range(rng.randrange(4))]
                        if repeated
                        else (_value(type_name, rng))
                    )
            reference = proto.MESSAGES[name](**fields).SerializeToString()
            assert proto.serialize(name, **fields) == reference, (name, fields)
    with pytest.raises(ValueError, match="no field Nope"):
        proto.serialize("Error", Nope=1)
