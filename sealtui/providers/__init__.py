"""KMS providers behind one interface (`sealtui.core.keywrap.KeyWrapper`).

The registry is the one place that knows which providers exist. Modules are imported only when a provider is
used, so `import sealtui` never pulls in a vendor SDK.
"""

from __future__ import annotations

PROVIDERS: dict[str, str] = {
    "aliyun": "sealtui.providers.aliyun",
}
"""Provider name (the payload's `provider`) → module implementing it."""


def require_provider(name: str) -> None:
    """Raise `InvalidInputError` unless sealtui has a provider called `name`."""
    from sealtui.core.errors import InvalidInputError

    if name not in PROVIDERS:
        raise InvalidInputError(f"provider {name!r} is not supported for unsealing",
                                fix=f"sealtui unseals envelopes of: {', '.join(sorted(PROVIDERS))}")
