"""One model per consumer, each replaying that consumer's own code step by step (DESIGN §3.4).

`decide(text, key)` gives every consumer's `Decision`: the verdict, the step that decided, the consumer's own
error text and the code version modelled. The linter explains these decisions; it never makes one.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from sealtui.core.consumers import cdh, cdh_skip_verification, kata_agent, openanolis_cdh
from sealtui.core.consumers.base import Context, Reject, Replay
from sealtui.core.report import Decision

if TYPE_CHECKING:
    from sealtui.core.jws import Jwk

MODELS: dict[str, ModuleType] = {m.NAME: m for m in (cdh, cdh_skip_verification, kata_agent, openanolis_cdh)}
"""Consumer name → its model (a module with NAME, CODE_VERSION, TERMINAL and `replay(replay, context)`)."""


_ACCEPTED = {"forward": "starts with `sealed.`: forwarded to CDH",
             "get-secret": "passes every step; what is left is fetching the secret from its provider",
             "decrypt": "passes every step; what is left is the KMS unwrapping the data key"}


def run(model: ModuleType, ctx: Context) -> Decision:
    """Replay one consumer on `ctx`; never raises."""
    r = Replay()
    name, version = model.NAME, model.CODE_VERSION
    try:
        model.replay(r, ctx)
    except Reject as e:
        p = e.problem
        return Decision(name, "rejected", p.step, p.error or None, p.detail, version, tuple(r.steps), p.code, p.fix)
    except Exception as e:  # a model bug must fail closed, never crash inspect
        return Decision(name, "rejected", "sealtui", None, f"sealtui could not model this input ({type(e).__name__}"
                        "); refusing rather than guessing", version, tuple(r.steps), "model-error")
    if r.awaiting_key is not None:
        where = ctx.results.get("key_location", "the kid")
        return Decision(name, "needs-key", r.awaiting_key, None, "everything else passes; the signature must "
                        f"verify with the key CDH gets from {where}", version, tuple(r.steps), "needs-key")
    last = r.steps[-1]
    detail = _ACCEPTED.get(last, "passes every step")
    return Decision(name, "accepted", last, None, detail, version, tuple(r.steps))


def decide(text: str, key: Jwk | None = None, ctx: Context | None = None) -> dict[str, Decision]:
    """Every consumer's decision on `text` (verifying with `key` when given). Never raises for a `str`."""
    ctx = ctx or Context(text, key)
    return {name: run(model, ctx) for name, model in MODELS.items()}


__all__ = ["MODELS", "Context", "Decision", "decide", "run"]
