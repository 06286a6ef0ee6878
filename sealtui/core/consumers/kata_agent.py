"""The kata agent's own step: it forwards an env value or a volume file to CDH only when it starts with exactly
`sealed.` (`SEALED_SECRET_PREFIX`, case-sensitive, no leading whitespace); anything else is passed through to the
container as plain text. What CDH then does with a forwarded value is CDH's verdict, not the agent's.
"""

from __future__ import annotations

from sealtui.core.consumers.base import Context, Replay
from sealtui.core.report import Fix

NAME = "kata-agent"
CODE_VERSION = ("kata-containers 7c6ba40c, src/agent/src/rpc.rs and confidential_data_hub/mod.rs "
                "(SEALED_SECRET_PREFIX; kata >= 3.13)")
TERMINAL = ("forward",)
PREFIX = "sealed."


def replay(r: Replay, ctx: Context) -> None:
    at = ctx.utf8_error()
    if at is not None:
        r.fail("utf-8", "not-utf8", f"character {at} is a lone surrogate: no container spec carries such a value",
               "", part="input", position=at)
    r.passed("utf-8")
    if not ctx.text.startswith(PREFIX):
        r.fail("forward", "not-forwarded", "it does not start with `sealed.`: passed through as plain text", "",
               part="prefix", position=0, fix=Fix("write it starting with exactly `sealed.`", "resign"))
    r.passed("forward")
