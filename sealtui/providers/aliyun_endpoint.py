"""Endpoints of Alibaba Cloud KMS instances: the one an instance has by default and the `host[:port]` rule.

Apart from `aliyun` (which imports the SDK) so that formatting or checking an endpoint costs no SDK import: the TUI
lists instances and checks a typed endpoint on its UI thread's doorstep.
"""

from __future__ import annotations

import re

from sealtui.core.errors import UsageError

__all__ = ["default_endpoint", "host_port", "normalize_endpoint"]

_ENDPOINT = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:(?P<port>[0-9]{1,5}))?")


def default_endpoint(kms_instance_id: str) -> str:
    """The endpoint CDH dials for an instance: `<id>.cryptoservice.kms.aliyuncs.com` (port 443)."""
    return f"{kms_instance_id}.cryptoservice.kms.aliyuncs.com"


def normalize_endpoint(text: str) -> str:
    """Check `host[:port]`; drop a `https://` prefix and trailing `/` (the SDK would put them in `Host`)."""
    endpoint = text.strip().removeprefix("https://").rstrip("/")
    if endpoint.startswith("http://"):
        raise UsageError(f"endpoint {text!r} is plain HTTP", fix="KMS instances speak HTTPS: give host:port")
    m = _ENDPOINT.fullmatch(endpoint)
    if not m or (m["port"] and not 0 < int(m["port"]) < 65536):
        raise UsageError(f"endpoint {text!r} is not host[:port]", fix="e.g. kst-….cryptoservice.kms.aliyuncs.com")
    return endpoint


def host_port(endpoint: str) -> tuple[str, int]:
    """The host and port of an endpoint `normalize_endpoint` accepted (port 443 when none is given)."""
    m = _ENDPOINT.fullmatch(endpoint)
    assert m is not None  # normalize_endpoint checked it
    return m["host"].strip("[]"), int(m["port"] or 443)
