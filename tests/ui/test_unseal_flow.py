"""Unseal → reveal → copy → the clipboard is cleared after the timeout; save writes 0600 and never
overwrites; a tampered signature is refused before any KMS call."""

from __future__ import annotations

import stat
from pathlib import Path

from sealtui.screens.unseal import UnsealScreen
from tests.ui.conftest import make_app, rendered, run, settle, wait_for


def _seal(tmp_path: Path, sandbox, private: Path, plaintext: bytes) -> str:
    from sealtui.session import Session

    s = Session(config_dir=tmp_path / "sealer", sandbox_root=tmp_path / "unused", persist=False)
    s.use_credentials(sandbox.credentials_dir, endpoint=sandbox.endpoint, remember=False)
    s.key = "alias/sealtui-default"
    s.load_signing_key(private)
    return s.seal_value("token", plaintext).sealed


def test_unseal_reveal_copy_and_clipboard_cleared(tmp_path: Path, sandbox, signing_key) -> None:
    private, public = signing_key
    sealed = _seal(tmp_path, sandbox, private, b"correct horse battery staple")
    app = make_app(tmp_path, credentials_dir=sandbox.credentials_dir, endpoint=sandbox.endpoint,
                   start_mode="unseal", clipboard_clear_seconds=0.3)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, UnsealScreen)
            screen.query_one("#sealed").text = sealed + "\n"  # pasted with a newline: tolerated here
            screen.query_one("#jwk").value = str(public)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            assert screen.plaintext == b"correct horse battery staple"
            shown = rendered(screen.query_one("#plain"))
            assert "correct horse" not in shown and "hidden" in shown  # masked until revealed

            await pilot.press("ctrl+t")
            await pilot.pause()
            assert "correct horse battery staple" in rendered(screen.query_one("#plain"))
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert "correct horse" not in rendered(screen.query_one("#plain"))

            await pilot.press("ctrl+y")
            assert app.clipboard == "correct horse battery staple"
            await wait_for(pilot, lambda: app.clipboard == "", "the clipboard to be cleared")

            out = tmp_path / "out" / "plain.txt"
            out.parent.mkdir()
            await pilot.press("ctrl+s")
            await pilot.pause()
            dialog = app.screen
            dialog.query_one("#path").value = str(out)
            await pilot.press("enter")
            await settle(pilot)
            assert out.read_bytes() == b"correct horse battery staple"
            assert stat.S_IMODE(out.stat().st_mode) == 0o600

            await pilot.press("ctrl+s")  # the same name again: refused, the file is kept
            await pilot.pause()
            app.screen.query_one("#path").value = str(out)
            await pilot.press("enter")
            await settle(pilot)
            assert "already exists" in app.errors[-1].message
            assert out.read_bytes() == b"correct horse battery staple"

    run(flow())


def test_tampered_signature_and_missing_key_are_refused(tmp_path: Path, sandbox, signing_key) -> None:
    from sealtui.core.errors import UsageError, VerificationError

    private, public = signing_key
    sealed = _seal(tmp_path, sandbox, private, b"v")
    head, _, sig = sealed.rpartition(".")
    tampered = f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    app = make_app(tmp_path, credentials_dir=sandbox.credentials_dir, endpoint=sandbox.endpoint,
                   start_mode="unseal")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            screen.query_one("#sealed").text = tampered
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.errors[-1], UsageError)  # neither a key nor "skip verification"
            screen.query_one("#jwk").value = str(public)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.errors[-1], VerificationError)
            assert "does not verify" in rendered(screen.query_one("ErrorLine"))
            assert screen.plaintext is None

            screen.query_one("#sealed").text = "sealed.not-a-jws"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert "malformed" in app.errors[-1].message or "not a sealed secret" in app.errors[-1].message
            assert app.is_running

    run(flow())


def test_quitting_clears_a_copied_secret_at_once(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="unseal", clipboard_clear_seconds=3600)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            app.copy_text("s3cret", secret=True)
            app.copy_text("s3cret-2", secret=True)
            assert app.clipboard == "s3cret-2"
            await pilot.press("ctrl+q")
        assert app.clipboard == ""

    run(flow())
