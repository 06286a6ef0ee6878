"""Key references: ids, aliases and the `alibabakms://` URIs of the sigstore plugin seed (002)."""

from __future__ import annotations

import pytest

from sealtui.core.errors import InvalidInputError
from sealtui.core.keyref import KeyRef, parse_key_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key-bjj65a2f8d9fe8x0uz6xx", KeyRef("key-bjj65a2f8d9fe8x0uz6xx")),
        ("alias/cosign-key", KeyRef("alias/cosign-key")),
        ("alias/team/seal_key-1", KeyRef("alias/team/seal_key-1")),
        ("218d6978-5a4e-4e0e-a5b4-2bd9d5f2b3c1", KeyRef("218d6978-5a4e-4e0e-a5b4-2bd9d5f2b3c1")),
        # the seed's examples (redacted ids replaced by real-looking ones)
        (
            "alibabakms://kms.cn-hangzhou.aliyuncs.com//alias/cosign-key",
            KeyRef("alias/cosign-key", "kms.cn-hangzhou.aliyuncs.com"),
        ),
        (
            "alibabakms://kms.cn-hangzhou.aliyuncs.com/kst-foo-bar/alias/cosign-key",
            KeyRef("alias/cosign-key", "kms.cn-hangzhou.aliyuncs.com", "kst-foo-bar"),
        ),
        (
            "alibabakms://kms.cn-hangzhou.aliyuncs.com//218d6978-abc/versions/bb0416cd-2086-4107-a4a1-d2ecba325080",
            KeyRef("218d6978-abc", "kms.cn-hangzhou.aliyuncs.com", None, "bb0416cd-2086-4107-a4a1-d2ecba325080"),
        ),
        (
            "alibabakms://kms.cn-hangzhou.aliyuncs.com/kst-foo-bar/218d6978-abc/versions/bb0416cd",
            KeyRef("218d6978-abc", "kms.cn-hangzhou.aliyuncs.com", "kst-foo-bar", "bb0416cd"),
        ),
        ("alibabakms://127.0.0.1:9998/kst-local/key-1", KeyRef("key-1", "127.0.0.1:9998", "kst-local")),
        ("alibabakms://[::1]:9998//key-1", KeyRef("key-1", "[::1]:9998")),
    ],
)
def test_valid_refs(text, expected):
    ref = parse_key_ref(text)
    assert ref == expected
    assert str(ref) == expected.key
    assert ref.is_alias == expected.key.startswith("alias/")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        (" key-1", "whitespace"),
        ("key-1\n", "whitespace"),
        ("key 1", "not a key id"),
        ("alias/", "alias name"),
        ("alias/bad name", "alias name"),
        ("gcpkms://projects/x", "unknown scheme"),
        ("alibabakms://", "not host[:port]"),
        ("alibabakms://host:0//key-1", "not host[:port]"),
        ("alibabakms://host:70000//key-1", "not host[:port]"),
        ("alibabakms://host", "no key after the endpoint"),
        ("alibabakms://host/", "no key after the endpoint"),
        ("alibabakms://host/key-1", "no instance segment"),
        ("alibabakms://host/alias/cosign-key", "where the instance id goes"),
        ("alibabakms://host/key-1/versions/v1", "where the instance id goes"),
        ("alibabakms://host//", "empty key id"),
        ("alibabakms://host//key-1/versions/", "after the key id"),
        ("alibabakms://host//key-1/other/v1", "after the key id"),
        ("alibabakms://host/kst a//key-1", "instance id"),
        ("alibabakms://host//alias/", "alias name"),
    ],
)
def test_malformed_refs(text, fragment):
    with pytest.raises(InvalidInputError) as e:
        parse_key_ref(text)
    assert fragment in e.value.message
    assert repr(text) in e.value.message  # the message quotes what was given
    assert e.value.fix


def test_missing_instance_segment_fix_shows_the_double_slash():
    with pytest.raises(InvalidInputError) as e:
        parse_key_ref("alibabakms://kms.cn-hangzhou.aliyuncs.com/alias/cosign-key")
    assert "alibabakms://kms.cn-hangzhou.aliyuncs.com//alias/cosign-key" in (e.value.fix or "")
