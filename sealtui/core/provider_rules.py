"""Payload rules for callers that check a bare payload (re-signing, sealing): upstream CDH's own checks.

The checks themselves live in `sealtui.core.consumers.secret` and `.providers`, where the consumer models use them;
this module applies them to a decoded payload and reports each problem through a callback, as the linter does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sealtui.core.consumers.base import Context
from sealtui.core.consumers.providers import UPSTREAM
from sealtui.core.consumers.secret import parse_secret, secret_steps
from sealtui.core.report import Severity
from sealtui.core.serde_json import JsonDoc

PAYLOAD_CONSUMERS = ("cdh", "cdh-skip-verification", "openanolis-cdh")
"""The consumers that parse and unseal the payload."""

RESOURCE_URI = re.compile(r"^kbs:///[^/]+/[^/]+/[^/]+$")
"""The KBS resource URI sealtui writes: three slashes, then repository/type/tag."""

ALIYUN_GUEST_DIR = UPSTREAM.aliyun_dir

Add = Callable[..., None]


def check_payload(payload: Any, add: Add) -> str | None:
    """Report every problem upstream CDH finds in a decoded payload through `add`; return the payload type.

    `add(severity, code, message, consumers, fix=Fix | None, part=…)` is called once per problem.
    """
    doc = JsonDoc(True, payload)
    for _step, problems in secret_steps(Context(""), doc, UPSTREAM):
        for p in problems:
            add(p.severity, p.code, p.detail, PAYLOAD_CONSUMERS, fix=p.fix, part=p.part)
    secret, _ = parse_secret(doc)
    return secret.kind if secret is not None else None


__all__ = ["ALIYUN_GUEST_DIR", "PAYLOAD_CONSUMERS", "RESOURCE_URI", "Severity", "check_payload"]
