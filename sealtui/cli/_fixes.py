"""How the command line says each fix action of the core (`sealtui.core.report.ACTIONS`) in its own words."""

from __future__ import annotations

CLI_ACTIONS: dict[str, str] = {
    "verify-with-jwk": "--jwk PUBLIC.json",
    "resign": "sealtui resign",
    "reseal": "sealtui seal …",
    "strip-whitespace": "sealtui seal … > FILE writes no newline; or printf %s",
    "export-guest-bundle": "sealtui credentials export-guest-bundle",
}
"""Action id → the CLI flag or command that does it."""


def render_action(action: str) -> str | None:
    """The CLI's words for a fix action, or None when the CLI has none."""
    return CLI_ACTIONS.get(action)
