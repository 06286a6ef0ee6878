"""The OpenAnolis CDH as released: inclavare-containers/guest-components f132e630 = v1.6.0, whose
`hub/src/secret/mod.rs` is byte-identical to upstream's of 2024-11-20.

It checks no signature and no prefix, never trims, and has no skip switch (so it never needs a key): the whole
input is split on `.` into exactly four parts, part 2 is decoded as canonical base64url without padding, and the
payload is a `Secret`, unsealed through this build's providers (default features: aliyun, kbs).
"""

from __future__ import annotations

from sealtui.core.consumers.base import Context, Replay
from sealtui.core.consumers.cdh_skip_verification import replay_four_parts
from sealtui.core.consumers.providers import OPENANOLIS
from sealtui.core.consumers.secret import TERMINAL_STEPS

NAME = "openanolis-cdh"
CODE_VERSION = ("inclavare-containers/guest-components f132e630 = v1.6.0, hub/src/secret/mod.rs (serde_json "
                "1.0.134); default features: kbs, aliyun")
TERMINAL = TERMINAL_STEPS


def replay(r: Replay, ctx: Context) -> None:
    replay_four_parts(r, ctx, OPENANOLIS, "parse SealedSecret failed: malformed input sealed secret",
                      "parse SealedSecret failed: base64 decode Secret body")
