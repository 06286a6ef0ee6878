"""Issue 11, what a new user trips over in the TUI: one kid per key and where to upload it (11), a success clears the
error line (14), no value silently replaced (15), save dialogs out of the current directory (16), the local
KMS's endpoint restored (17), a failed seal's value replaced by the next typing (19), no palette command twice
(20), copy says where the text went (21). Each test is named after its item."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from sealtui.nav import NAV
from sealtui.screens.dialogs import ConfirmDialog, PathDialog
from sealtui.service.sealing import SealedValue
from sealtui.service.signing import DEFAULT_JWK_KID, DEFAULT_KMS_KID
from sealtui.widgets.secret_view import SecretView
from tests.ui.conftest import (
    make_app,
    record_notifications,
    rendered,
    run,
    settle,
    type_into,
    use_kms,
    use_signing_jwk,
    wait_for,
)
from tests.ui.test_snapshots import ENVELOPE, SIGNED_LOOKING


def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on: a KMS call fails at once
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _error_shown(screen: Any) -> bool:
    return screen.query_one("ErrorLine").has_class("-shown")


def _fake_sealed(app: Any, *names: str) -> None:
    for name in names:
        app.session.sealed[name] = SealedValue(name, SIGNED_LOOKING, ENVELOPE["key_id"], "kid", "where")


# --- 11 -------------------------------------------------------------------------------------------------------


def test_11_default_kids_are_two_kbs_uris_and_the_screen_says_where_to_upload(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="seal")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            kid, kms_kid = screen.query_one("#kid").value, screen.query_one("#kms-kid").value
            assert (kid, kms_kid) == (DEFAULT_JWK_KID, DEFAULT_KMS_KID) == ("kbs:///default/sealtui-signing/jwk",
                                                                           "kbs:///default/sealtui-signing/kms")
            await pilot.press("ctrl+g")
            await settle(pilot)
            assert app.session.signing_kid == DEFAULT_JWK_KID and not app.errors
            public = tmp_path / "config" / "keys" / "default_sealtui-signing_jwk-public.json"
            assert json.loads(public.read_text())["kid"] == DEFAULT_JWK_KID
            shown = rendered(screen.query_one("#provision"))
            assert f"set-resource --path default/sealtui-signing/jwk --resource-file {public}" in shown
            assert "file name" not in shown

    run(flow())


def test_11_a_file_name_kid_is_warned_about(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="seal")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            seen = record_notifications(app)
            app.screen.query_one("#kid").value = "my-key"
            await pilot.press("ctrl+g")
            await settle(pilot)
            assert app.session.signing_kid == "my-key"
            warning = next(m for m in seen if "is a file name" in m)
            assert "kbs:///" in warning and "stock CoCo guest" in warning
            assert "is a file name" in rendered(app.screen.query_one("#provision"))

    run(flow())


def test_11_a_kid_already_used_by_another_key_is_refused(tmp_path: Path, sandbox) -> None:
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, sandbox.endpoint)

    async def flow() -> None:
        from sealtui.core.errors import UsageError

        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            screen.query_one("#kid").value = "kbs:///default/app/signer"
            await pilot.press("ctrl+g")
            await settle(pilot)
            jwk_key = app.session.signing
            assert jwk_key is not None and jwk_key.kid == "kbs:///default/app/signer"

            screen.query_one("#kms-key").value = "alias/sealtui-signing"
            screen.query_one("#kms-kid").value = "kbs:///default/app/signer"  # the JWK's kid: another key
            await pilot.press("ctrl+b")
            await settle(pilot)
            assert isinstance(app.errors[-1], UsageError) and "already used" in app.errors[-1].message
            assert "kbs:///default/app/signer-2" in (app.errors[-1].fix or "")
            assert app.session.signing is jwk_key  # still signing with the JWK

            screen.query_one("#kms-kid").value = "kbs:///default/app/kms"
            await pilot.press("ctrl+b")
            await settle(pilot)
            assert app.session.signing_kid == "kbs:///default/app/kms" and app.session.signing.kms_key
            screen.query_one("#kid").value = "kbs:///default/app/kms"  # now a new JWK for the KMS key's kid
            await pilot.press("ctrl+g")
            await settle(pilot)
            assert "already used" in app.errors[-1].message and app.session.signing.kms_key
            assert not (tmp_path / "config" / "keys" / "default_app_kms-private.json").exists()

    run(flow())


# --- 14 -------------------------------------------------------------------------------------------------------


def test_14_a_later_manifest_save_clears_the_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (home / "sealed-secrets.yaml").write_text("already here\n")
    app = make_app(tmp_path, start_mode="manifest")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            _fake_sealed(app, "db-password")
            app.session_changed()
            await settle(pilot)
            screen = app.screen
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog), "the save dialog")
            await pilot.press("enter")  # the default name exists: refused
            await settle(pilot)
            assert _error_shown(screen) and "exists" in rendered(screen.query_one("ErrorLine"))

            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog), "the save dialog")
            app.screen.query_one("#path").value = str(home / "app.yaml")
            await pilot.press("enter")
            await settle(pilot)
            assert (home / "app.yaml").is_file()
            assert not _error_shown(screen)  # the success cleared it

            screen.query_one("#secret-name").value = "Not_Valid"  # an error the build itself shows…
            await settle(pilot)
            assert _error_shown(screen) and "not a valid Kubernetes name" in rendered(screen.query_one("ErrorLine"))

    run(flow())


def test_14_a_seal_that_succeeds_after_a_failure_clears_the_error_line(tmp_path: Path, sandbox,
                                                                       signing_key) -> None:
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, f"127.0.0.1:{_closed_port()}")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            use_signing_jwk(app, signing_key[0])
            screen = app.screen
            screen.query_one("#value").value = "hunter2"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert _error_shown(screen)
            app.session.endpoint = sandbox.endpoint  # fixed on F3
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.results and not _error_shown(screen)

    run(flow())


# --- 15 -------------------------------------------------------------------------------------------------------


def test_15_a_second_value_is_never_silently_replaced(tmp_path: Path, sandbox, signing_key) -> None:
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, sandbox.endpoint)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            use_signing_jwk(app, signing_key[0])
            screen = app.screen
            for value in ("one", "two"):
                await type_into(pilot, "#value", value)
                await pilot.press("enter")
                await settle(pilot)
            assert list(app.session.sealed) == ["secret", "secret-2"]
            assert screen.query_one("#name").value == "secret-3"
            assert "sealed 2" in rendered(screen.query_one("SessionBar"))
            first = app.session.sealed["secret"].sealed

            screen.query_one("#name").value = "secret"  # the user names an existing value: asked
            await type_into(pilot, "#value", "three")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
            await pilot.press("escape")  # keep the earlier one
            await settle(pilot)
            assert app.session.sealed["secret"].sealed == first and len(app.session.sealed) == 2

            screen.query_one("#name").value = "secret"
            await type_into(pilot, "#value", "four")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
            await pilot.click("#yes")
            await settle(pilot)
            assert app.session.sealed["secret"].sealed == screen.results[-1].sealed != first

    run(flow())


# --- 16 -------------------------------------------------------------------------------------------------------


def test_16_save_dialogs_start_in_the_last_directory_never_the_cwd_for_plaintext(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, checkout, private, out = (tmp_path / d for d in ("home", "checkout", "private", "out"))
    for d in (home, checkout, private, out):
        d.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(checkout)
    app = make_app(tmp_path, start_mode="unseal")

    async def save_as(pilot: Any, key: str, path: Path | None) -> PathDialog:
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PathDialog), "the save dialog")
        dialog = pilot.app.screen
        if path is None:
            await pilot.press("escape")
        else:
            dialog.query_one("#path").value = str(path)
            await pilot.press("enter")
        await settle(pilot)
        return dialog

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            app.screen.query_one("#plain", SecretView).set_data(b"hunter2")
            dialog = await save_as(pilot, "ctrl+s", private / "db-password")
            assert dialog.request.start == home and dialog.request.initial == str(home / "plaintext")
            assert (private / "db-password").stat().st_mode & 0o777 == 0o600
            dialog = await save_as(pilot, "ctrl+s", None)
            assert dialog.request.start == private  # remembered

            await pilot.press("f7")
            _fake_sealed(app, "db-password")
            app.session_changed()
            await settle(pilot)
            dialog = await save_as(pilot, "ctrl+s", out / "app.yaml")
            assert dialog.request.start == home  # not where the plaintext went, not the checkout
            dialog = await save_as(pilot, "ctrl+s", None)
            assert dialog.request.start == out

        config = (tmp_path / "config" / "config.json").read_text()
        saved = json.loads(config)
        assert saved["plaintext_dir"] == str(private) and saved["last_dir"] == str(out)
        assert "hunter2" not in config
        assert not list(checkout.iterdir())

    run(flow())


# --- 17 -------------------------------------------------------------------------------------------------------


def test_17_the_local_kms_gets_its_own_endpoint_back(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="instance")
    wrong = f"127.0.0.1:{_closed_port()}"

    async def flow() -> None:
        from textual.widgets import DataTable

        async with app.run_test(size=(120, 40)) as pilot:
            app.start_sandbox()
            await wait_for(pilot, lambda: app.session.local is not None and app.session.credentials is not None,
                           "the local KMS")
            await settle(pilot)
            screen, local = app.screen, app.session.local
            bar = screen.query_one("SessionBar")
            assert "(local)" in rendered(bar)

            async def set_wrong_endpoint() -> None:
                screen.query_one("#endpoint").value = wrong
                await pilot.click("#set-endpoint")
                await settle(pilot)
                assert app.session.endpoint == wrong
                assert "(local)" not in rendered(bar) and "another endpoint" in rendered(bar)

            await set_wrong_endpoint()
            await pilot.press("ctrl+l")  # reload
            await settle(pilot)
            assert app.session.endpoint == local.endpoint and "(local)" in rendered(bar)
            assert screen.query_one("#endpoint").value == local.endpoint

            await set_wrong_endpoint()
            table = screen.query_one("#instances", DataTable)
            assert str(table.get_row("sandbox")[2]) == local.endpoint  # the row shows where it really is
            table.focus()
            table.move_cursor(row=table.get_row_index("sandbox"))
            await pilot.press("enter")
            await settle(pilot)
            assert app.session.endpoint == local.endpoint and "(local)" in rendered(bar)

    run(flow())


# --- 19 -------------------------------------------------------------------------------------------------------


def test_19_after_a_failed_or_cancelled_seal_typing_replaces_the_value(tmp_path: Path, sandbox,
                                                                       signing_key) -> None:
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, f"127.0.0.1:{_closed_port()}")
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(8)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            use_signing_jwk(app, signing_key[0])
            screen = app.screen
            value = screen.query_one("#value")
            await type_into(pilot, "#value", "first")
            await pilot.press("enter")
            await settle(pilot)
            assert app.errors and value.value == "first"  # kept: enter seals it again
            await pilot.press("x")
            assert value.value == "x"  # not "firstx"

            app.session.endpoint = f"127.0.0.1:{blackhole.getsockname()[1]}"  # a KMS that never answers
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.busy, "the seal to start")
            await pilot.press("escape")
            await wait_for(pilot, lambda: not screen.busy, "the cancellation")
            await pilot.pause()
            await pilot.press("y")
            assert value.value == "y"
            blackhole.close()  # the abandoned call fails fast now

    try:
        run(flow())
    finally:
        blackhole.close()


# --- 20 -------------------------------------------------------------------------------------------------------


def test_20_no_command_appears_twice_in_the_palette(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="credentials")

    async def flow() -> None:
        from sealtui.screens.palette import SealtuiCommands

        async with app.run_test(size=(120, 40)) as pilot:
            for entry in NAV:
                await pilot.press(entry.key)
                await settle(pilot)
                titles = [hit.text async for hit in SealtuiCommands(app.screen).discover()]
                assert len(titles) == len(set(titles)), (entry.mode, sorted(titles))
                assert titles.count("local KMS: create and start") == 1

    run(flow())


# --- 21 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tmux", [False, True])
def test_21_copy_without_a_local_clipboard_says_it_only_went_to_the_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmux: bool) -> None:
    if tmux:
        monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    else:
        monkeypatch.delenv("TMUX", raising=False)
    app = make_app(tmp_path, start_mode="manifest")  # no pyperclip: as on a machine without a local clipboard

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            _fake_sealed(app, "db-password")
            app.session_changed()
            await settle(pilot)
            seen = record_notifications(app)
            await pilot.press("ctrl+y")
            assert app.clipboard == app.screen.texts["yaml"]
            message = seen[-1]
            assert "OSC 52" in message and "save it instead (ctrl+s)" in message
            assert "copied" not in message
            assert ("set-clipboard on" in message) is tmux

    run(flow())


def test_21_copy_with_a_local_clipboard_says_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyperclip

    board: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", board.append)  # a local clipboard that works
    app = make_app(tmp_path, start_mode="manifest", use_pyperclip=True)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            _fake_sealed(app, "db-password")
            app.session_changed()
            await settle(pilot)
            seen = record_notifications(app)
            await pilot.press("ctrl+y")
            assert board == [app.screen.texts["yaml"]]
            assert seen[-1] == "Secret YAML copied to the clipboard"

    run(flow())
