"""Snapshots of every screen at 120×40, and of Seal, Inspect (with a result, and with its long fix in view),
Credentials and Help at 80×24 (the common default). Deterministic: fixed sizes, fixed paths that are never created,
no cursor blink, workers awaited, notifications cleared, and no KMS state (ids and ciphertexts are random) on
screen."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from sealtui.app import SealtuiApp, create_app
from tests.ui.conftest import settle

SIZE = (120, 40)
SMALL = (80, 24)
FIXED = Path("/nonexistent/sealtui-snapshot")
"""Shown on screen (state directories); never created (persist=False, nothing is started)."""


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


ENVELOPE = {
    "version": "0.1.0", "type": "envelope", "key_id": "key-0123456789abcdef01234567",
    "encrypted_key": "S5QgOUmYQQ6rmA/iP7pfFTjISI5WFs8mM1z2aXgOWmE=", "encrypted_data": "3XESu2fSjG4RmA288/XZvkwRu3ni",
    "wrap_type": "A256GCM", "iv": "VdmKU768Wk/49Xrw", "provider": "aliyun",
    "provider_settings": {"client_key_id": "KAAP.0f4b2c9e-demo", "kms_instance_id": "kst-demo0example0instance",
                          "client_type": "client_key"},
    "annotations": {"iv": "q83vEjRWeJASNFZ4"},
}
FAKE_ENVELOPE = f"sealed.fakejwsheader.{_b64url(ENVELOPE)}.fakesignature"
SIGNED_LOOKING = ("sealed." + _b64url({"b64": True, "alg": "ES256", "kid": "sealtui-signing"}) + "."
                  + _b64url(ENVELOPE) + "." + "A" * 86)


def _app(**options: Any) -> SealtuiApp:
    options.setdefault("first_run_offer", False)
    return create_app(config_dir=FIXED / "config", sandbox_root=FIXED / "sandbox", persist=False,
                      cursor_blink=False, use_pyperclip=False, **options)


async def _quiet(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


def test_credentials_first_run_offer(snap_compare) -> None:
    assert snap_compare(_app(first_run_offer=True, start_mode="credentials"), terminal_size=SIZE,
                        run_before=_quiet)


def _credentials_with_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "clientKey_KAAP.demo.json").write_text('{"KeyId": "KAAP.demo"}')
    (creds / "ClientKeyPassword.json").write_text('{"ClientKeyPassword": "x"}')
    monkeypatch.chdir(tmp_path)  # the table shows paths relative to here

    async def check(pilot: Any) -> None:
        pilot.app.screen.query_one("#dir").value = "creds"
        await pilot.press("ctrl+r")
        await _quiet(pilot)

    return check


def test_credentials_with_problems(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check = _credentials_with_problems(tmp_path, monkeypatch)
    assert snap_compare(_app(start_mode="credentials"), terminal_size=SIZE, run_before=check)


def test_credentials_with_problems_80x24(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check = _credentials_with_problems(tmp_path, monkeypatch)
    assert snap_compare(_app(start_mode="credentials"), terminal_size=SMALL, run_before=check)


def test_instance_and_key(snap_compare) -> None:
    async def fill(pilot: Any) -> None:
        pilot.app.screen.query_one("#key").value = "alibabakms://kst-demo.cryptoservice.kms.aliyuncs.com/kst-demo/alias/app"
        await pilot.press("ctrl+r")  # no credentials yet: the check says so
        await _quiet(pilot)

    assert snap_compare(_app(start_mode="instance"), terminal_size=SIZE, run_before=fill)


async def _fill_seal(pilot: Any) -> None:
    screen = pilot.app.screen
    screen.query_one("#name").value = "db-password"
    screen.query_one("#value").value = "hunter2"  # shown masked
    await _quiet(pilot)


def test_seal(snap_compare) -> None:
    assert snap_compare(_app(start_mode="seal"), terminal_size=SIZE, run_before=_fill_seal)


def test_seal_80x24(snap_compare) -> None:
    assert snap_compare(_app(start_mode="seal"), terminal_size=SMALL, run_before=_fill_seal)


def test_unseal(snap_compare) -> None:
    async def fill(pilot: Any) -> None:
        screen = pilot.app.screen
        screen.query_one("#sealed").text = SIGNED_LOOKING
        screen.query_one("#skip").value = True
        await pilot.press("ctrl+r")  # no credentials: the error and its fix are shown
        await _quiet(pilot)

    assert snap_compare(_app(start_mode="unseal"), terminal_size=SIZE, run_before=fill)


async def _inspect_envelope(pilot: Any) -> None:
    pilot.app.screen.set_input(FAKE_ENVELOPE)
    await pilot.press("ctrl+r")
    await _quiet(pilot)


async def _long_fix_in_view(pilot: Any) -> None:
    """The finding whose fix is the longest (SKIP_SEALED_SECRET_VERIFICATION=true), scrolled to the top."""
    await _inspect_envelope(pilot)
    pilot.app.screen.query_one("#findings").scroll_visible(top=True, animate=False)
    await _quiet(pilot)


def test_inspect(snap_compare) -> None:
    assert snap_compare(_app(start_mode="inspect"), terminal_size=SIZE, run_before=_inspect_envelope)


def test_inspect_80x24(snap_compare) -> None:
    assert snap_compare(_app(start_mode="inspect"), terminal_size=SMALL, run_before=_inspect_envelope)


def test_inspect_long_fix(snap_compare) -> None:
    assert snap_compare(_app(start_mode="inspect"), terminal_size=SIZE, run_before=_long_fix_in_view)


def test_inspect_long_fix_80x24(snap_compare) -> None:
    assert snap_compare(_app(start_mode="inspect"), terminal_size=SMALL, run_before=_long_fix_in_view)


def test_manifest(snap_compare) -> None:
    from sealtui.service.sealing import SealedValue

    async def fill(pilot: Any) -> None:
        app = pilot.app
        for name in ("db-password", "api-token"):
            app.session.sealed[name] = SealedValue(name, SIGNED_LOOKING, ENVELOPE["key_id"], "sealtui-signing",
                                                   "/run/confidential-containers/cdh/sealed-secret/sealtui-signing")
        app.screen.query_one("#namespace").value = "prod"
        app.session_changed()
        await _quiet(pilot)

    assert snap_compare(_app(start_mode="manifest"), terminal_size=SIZE, run_before=fill)


def test_help(snap_compare) -> None:
    assert snap_compare(_app(start_mode="seal"), terminal_size=SIZE, press=["f1"], run_before=_quiet)


def test_help_80x24(snap_compare) -> None:
    assert snap_compare(_app(start_mode="seal"), terminal_size=SMALL, press=["f1"], run_before=_quiet)


def test_scan(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ui.test_review_flows import write_manifests

    write_manifests(tmp_path / "manifests")
    monkeypatch.chdir(tmp_path)  # the table shows paths relative to here

    async def fill(pilot: Any) -> None:
        pilot.app.screen.query_one("#path").value = "manifests"
        await pilot.press("ctrl+r")
        await _quiet(pilot)

    assert snap_compare(_app(start_mode="scan"), terminal_size=SIZE, run_before=fill)


def test_diff(snap_compare) -> None:
    other = dict(ENVELOPE, key_id="key-0123456789abcdef0123456X", iv="AAAAAAAAAAAAAAAA")

    async def fill(pilot: Any) -> None:
        screen = pilot.app.screen
        screen.query_one("#a").text = SIGNED_LOOKING
        screen.query_one("#b").text = f"sealed.fakejwsheader.{_b64url(other)}.fakesignature"
        await pilot.press("ctrl+r")
        await _quiet(pilot)

    assert snap_compare(_app(start_mode="diff"), terminal_size=SIZE, run_before=fill)
