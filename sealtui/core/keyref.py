"""References to a KMS key: a key id, an alias, or an `alibabakms://` URI.

Forms accepted (DESIGN §4; the URI form is the sigstore plugin's, `seeds/002_961b40f5981ebf77.txt`):

- `key-…` (or any key id made of letters, digits, `.`, `_`, `-`);
- `alias/<name>`;
- `alibabakms://<endpoint>/[<instance-id>]/alias/<name>`;
- `alibabakms://<endpoint>/[<instance-id>]/<key-id>[/versions/<version-id>]`.

The instance segment may be empty (`alibabakms://kms.cn-hangzhou.aliyuncs.com//alias/cosign-key`).

Example:
    >>> parse_key_ref("alibabakms://kst-x.cryptoservice.kms.aliyuncs.com/kst-x/alias/seal").key
    'alias/seal'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sealtui.core.errors import InvalidInputError

__all__ = ["KeyRef", "parse_key_ref"]

SCHEME = "alibabakms://"

_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# Alibaba alias names: letters, digits, `_`, `-` and `/` (so an alias may itself contain slashes).
_ALIAS_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_/-]{0,254}")
_ENDPOINT = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:(?P<port>[0-9]{1,5}))?")
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class KeyRef:
    """A parsed key reference."""

    key: str
    """What the KMS `KeyId` field takes: the key id, or `alias/<name>`."""
    endpoint: str | None = None
    """`host[:port]` from a URI, if any."""
    kms_instance_id: str | None = None
    """The instance id from a URI, if the segment was not empty."""
    version_id: str | None = None
    """The key version from `…/versions/<id>`. The KMS-instance API takes no version on Encrypt/Sign, so this
    is informational."""

    @property
    def is_alias(self) -> bool:
        """True for `alias/…` references."""
        return self.key.startswith("alias/")

    def __str__(self) -> str:
        return self.key


def _bad(text: str, why: str, fix: str | None = None) -> InvalidInputError:
    return InvalidInputError(
        f"key reference {text!r}: {why}",
        fix=fix or "give a key id (key-…), alias/<name>, or alibabakms://<endpoint>/[<instance>]/<key-id>",
    )


def _parse_key(text: str, key: str, where: str) -> str:
    if key.startswith("alias/"):
        name = key[len("alias/") :]
        if not _ALIAS_NAME.fullmatch(name):
            raise _bad(text, f"{where}alias name {name!r} is empty or has characters other than A-Z a-z 0-9 _ - /")
        return key
    if not _KEY_ID.fullmatch(key):
        raise _bad(text, f"{where}{key!r} is not a key id (letters, digits, '.', '_', '-') nor alias/<name>")
    return key


def parse_key_ref(text: str) -> KeyRef:
    """Parse a key reference; raises `InvalidInputError` naming what is wrong."""
    if text != text.strip():
        raise _bad(text, "has leading or trailing whitespace", "remove it")
    if not text:
        raise _bad(text, "is empty")
    if "://" not in text:
        return KeyRef(_parse_key(text, text, ""))
    if not text.startswith(SCHEME):
        scheme = text.split("://", 1)[0]
        raise _bad(text, f"unknown scheme {scheme!r}://", f"use {SCHEME}<endpoint>/[<instance>]/<key>")
    rest = text[len(SCHEME) :]
    endpoint, sep, path = rest.partition("/")
    m = _ENDPOINT.fullmatch(endpoint)
    if not m or (m["port"] and not 0 < int(m["port"]) < 65536):
        raise _bad(text, f"endpoint {endpoint!r} is not host[:port]", f"write {SCHEME}<host[:port]>/[<instance>]/…")
    if not sep or not path:
        raise _bad(text, "has no key after the endpoint", f"write {SCHEME}{endpoint}/[<instance>]/<key-id>")
    instance, sep, key_path = path.partition("/")
    if not sep:
        raise _bad(text, "has no instance segment", f"write {SCHEME}{endpoint}//{instance} (empty instance)")
    if instance == "alias" or instance.startswith("key-"):
        # `alibabakms://host/alias/x` or `alibabakms://host/key-1/…`: the instance segment was left out.
        raise _bad(
            text,
            f"{instance!r} sits where the instance id goes",
            f"keep the instance segment, empty if unknown: {SCHEME}{endpoint}//{path}",
        )
    if instance and not _INSTANCE.fullmatch(instance):
        raise _bad(text, f"instance id {instance!r} has characters other than A-Z a-z 0-9 _ -")
    version: str | None = None
    if key_path.startswith("alias/"):
        key = _parse_key(text, key_path, "")
    else:
        key, _, tail = key_path.partition("/")
        if tail:
            label, _, version = tail.partition("/")
            if label != "versions" or not version or not _KEY_ID.fullmatch(version):
                raise _bad(text, f"unexpected {tail!r} after the key id", "the only suffix is /versions/<version-id>")
        if not key:
            raise _bad(text, "has an empty key id")
        key = _parse_key(text, key, "")
    return KeyRef(key, endpoint, instance or None, version)
