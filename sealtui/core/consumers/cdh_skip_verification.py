"""Upstream CDH with `SKIP_SEALED_SECRET_VERIFICATION=true`: `Secret::from_signed_base64_string(s, true)`, then
`Secret::unseal()` (guest-components 8246e5e0, `confidential-data-hub/hub/src/secret/mod.rs`).

The whole input is split on `.` into exactly four parts; part 0 is not checked (no prefix check, no trimming),
parts 1 and 3 are ignored, part 2 is decoded with base64's `URL_SAFE_NO_PAD` (canonical: no padding, no `+`/`/`,
no whitespace, no stray bits) and is the payload.
"""

from __future__ import annotations

from sealtui.core.consumers.base import Context, Replay
from sealtui.core.consumers.cdh import check_utf8
from sealtui.core.consumers.providers import UPSTREAM, Build
from sealtui.core.consumers.secret import TERMINAL_STEPS, secret_steps
from sealtui.core.report import Fix

NAME = "cdh-skip-verification"
CODE_VERSION = ("confidential-containers/guest-components 8246e5e0, hub/src/secret/mod.rs, "
                "SKIP_SEALED_SECRET_VERIFICATION=true (base64 0.23, serde_json 1.0.150); default build: kbs, aliyun")
TERMINAL = TERMINAL_STEPS
SPLIT_ERROR = "parse SealedSecret failed: malformed input sealed secret"
DECODE_ERROR = "parse SealedSecret failed: failed to decode secret body as base64 (URL-safe without padding)"


def replay_four_parts(r: Replay, ctx: Context, build: Build, split_error: str, decode_error: str) -> None:
    """Split into four parts, decode part 2, then the payload: shared with the OpenAnolis CDH."""
    check_utf8(r, ctx)
    parts = ctx.parts
    if len(parts) != 4:
        r.fail("split", "not-four-parts", f"it has {len(parts)} dot-separated part(s); this CDH splits the whole "
               "string and needs exactly 4", split_error, part="input", position=0,
               fix=Fix("use the form sealed.<header>.<payload>.<signature>", "resign"))
    r.passed("split")
    body = ctx.b64url(parts[2])
    if not isinstance(body, bytes):
        at = len(parts[0]) + len(parts[1]) + 2
        padded = any(c in parts[2] for c in "=+/")
        r.fail("decode-body", "payload-padded" if padded else "payload-malformed",
               "payload is padded standard base64; CDH needs base64url without padding" if padded else
               f"payload is not canonical base64url without padding: {body.reason}", decode_error, part="payload",
               position=at + (body.position or 0), fix=Fix("re-sign it into the canonical form", "resign"))
    r.passed("decode-body")
    for step, problems in secret_steps(ctx, ctx.json(body), build):
        r.take(step, problems)


def replay(r: Replay, ctx: Context) -> None:
    replay_four_parts(r, ctx, UPSTREAM, SPLIT_ERROR, DECODE_ERROR)
