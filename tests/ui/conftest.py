"""Helpers for the UI tests: an app factory with test settings, and bounded waits (never fixed sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from sealtui.app import SealtuiApp, create_app

WAIT_SECONDS = 20.0
"""Upper bound of any wait in a UI test (each wait ends as soon as its condition holds)."""


def make_app(tmp_path: Path, **options: Any) -> SealtuiApp:
    """An app with its config and sandbox under `tmp_path`, no cursor blink, no system clipboard."""
    options.setdefault("cursor_blink", False)
    options.setdefault("use_pyperclip", False)
    options.setdefault("first_run_offer", False)
    options.setdefault("sandbox_root", tmp_path / "sandbox")
    return create_app(config_dir=tmp_path / "config", **options)


def use_kms(app: SealtuiApp, credentials_dir: Path, endpoint: str | None = None,
            key: str | None = "alias/sealtui-default", client_key_id: str | None = None) -> SealtuiApp:
    """Start `app` with the credentials in `credentials_dir` in use, as if chosen on the Credentials screen."""
    from sealtui.service.kms import CredentialSource, load_credentials

    source = CredentialSource(directory=credentials_dir, client_key_id=client_key_id)
    app.session.use_credentials(source, load_credentials(source), endpoint)
    app.session.key = key
    return app


def use_signing_jwk(app: SealtuiApp, private: Path) -> None:
    """Sign with the private JWK `private` from now on, as if loaded on the Seal screen."""
    from sealtui.service.signing import load_signing_jwk

    app.session.signing = load_signing_jwk(private)


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run an async test body (no pytest-asyncio needed)."""
    asyncio.run(coro)


async def wait_for(pilot: Any, condition: Callable[[], object], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settle(pilot: Any) -> None:
    """Wait for every worker to finish and the messages they posted to be handled (a failed worker is the
    app's business: it shows the error, which the test then asserts on)."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(2):
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerFailed, WorkerCancelled):
            pass
        await pilot.pause()


def rendered(widget: Any) -> str:
    """The plain text a widget shows now."""
    return str(widget.render())


@pytest.fixture
def signing_key(tmp_path: Path) -> tuple[Path, Path]:
    """A P-256 key pair on disk: (private JWK, public JWK)."""
    from sealtui.core.jws import keygen

    files = keygen("ui-test-signer", tmp_path)
    return files.private_path, files.public_path


async def type_into(pilot: Any, selector: str, text: str) -> None:
    """Focus a field by clicking it and type `text` key by key."""
    await pilot.click(selector)
    await pilot.press(*[c if c != " " else "space" for c in text])



def screen_lines(app: Any) -> list[str]:
    """The screen as plain text, one string per row, as a terminal shows it: what is clipped or covered is not
    there. (The same rendering as `App.export_screenshot`, as text.)"""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
                      legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text().split("\n")[:height]


def shown_in(app: Any, widget: Any) -> list[str]:
    """The rows of the screen inside `widget`'s content region, scroll bars excluded (what the user sees of it)."""
    region = widget.scrollable_content_region
    return [row[region.x:region.right] for row in screen_lines(app)[region.y:region.bottom]]


def fully_visible(widget: Any) -> bool:
    """Whether all of `widget` is on screen now, without scrolling (not clipped by its containers or the
    screen's edges, not under the footer)."""
    from textual.widgets import Footer

    screen = widget.screen
    geometry = screen.find_widget(widget)
    footer = screen.query_one(Footer).region
    return (bool(geometry.region) and geometry.clip.contains_region(geometry.region)
            and screen.region.contains_region(geometry.region) and not geometry.region.overlaps(footer))


def record_notifications(app: Any) -> list[str]:
    """Every notification's message from now on, oldest first."""
    seen: list[str] = []
    notify = app.notify

    def recording(message: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return seen
