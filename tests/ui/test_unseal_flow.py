"""Unseal → reveal → copy → the clipboard is cleared after the timeout; save writes 0600 and never
overwrites; a tampered signature is refused before any KMS call."""

from __future__ import annotations

import stat
from pathlib import Path

from sealtui.screens.unseal import UnsealScreen
from tests.ui.conftest import make_app, rendered, run, settle, use_kms, wait_for


def _seal(credentials_dir: Path, endpoint: str, private: Path, plaintext: bytes,
          client_key_id: str | None = None) -> str:
    from sealtui.service.kms import CredentialSource, KmsTarget
    from sealtui.service.sealing import seal_value
    from sealtui.service.signing import load_signing_jwk

    target = KmsTarget(CredentialSource(directory=credentials_dir, client_key_id=client_key_id), endpoint,
                       "alias/sealtui-default")
    return seal_value(target, load_signing_jwk(private), plaintext).sealed


def test_unseal_reveal_copy_and_clipboard_cleared(tmp_path: Path, sandbox, signing_key) -> None:
    private, public = signing_key
    sealed = _seal(sandbox.credentials_dir, sandbox.endpoint, private, b"correct horse battery staple")
    app = use_kms(make_app(tmp_path, start_mode="unseal", clipboard_clear_seconds=0.3), sandbox.credentials_dir,
                  sandbox.endpoint)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, UnsealScreen)
            screen.query_one("#sealed").text = sealed + "\n"  # pasted with a newline: opened, and said
            screen.query_one("#jwk").value = str(public)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            assert screen.plaintext == b"correct horse battery staple"
            assert screen.result is not None and screen.result.stripped_whitespace
            assert screen.result.verdicts["cdh"] == "rejected"  # upstream CDH refuses the string as pasted
            notes = rendered(screen.query_one("#notes"))
            assert "ignored whitespace" in notes and "signature verified" in notes and "cdh rejected" in notes
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
    sealed = _seal(sandbox.credentials_dir, sandbox.endpoint, private, b"v")
    head, _, sig = sealed.rpartition(".")
    tampered = f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    app = use_kms(make_app(tmp_path, start_mode="unseal"), sandbox.credentials_dir, sandbox.endpoint)

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


def test_cli_and_tui_unseal_say_the_same_things_and_choose_the_same_client_key(tmp_path: Path, fresh_sandbox,
                                                                              signing_key) -> None:
    """One sealed string with a trailing newline, sealed with the second of two client keys in one directory,
    through `sealtui unseal` and the Unseal screen: the same client key (the one the secret names) and the same
    notes (whitespace ignored, signature verified, each consumer's verdict)."""
    import shutil
    import subprocess
    import sys

    from sealtui import sandbox as api
    from tests.paths import ALIYUN

    info = fresh_sandbox()
    other = api.register_client_key(info.root_dir, ALIYUN / "clientKey_KAAP.gc-test-vector.json",
                                    ALIYUN / "password_KAAP.gc-test-vector.json")
    creds = tmp_path / "two-client-keys"
    shutil.copytree(info.credentials_dir, creds)
    for name in ("clientKey_KAAP.gc-test-vector.json", "password_KAAP.gc-test-vector.json"):
        shutil.copy(ALIYUN / name, creds / name)
    private, public = signing_key
    sealed = _seal(creds, info.endpoint, private, b"two keys", client_key_id=other) + "\n"

    cli = subprocess.run([sys.executable, "-m", "sealtui", "unseal", "--credentials-dir", str(creds), "--endpoint",
                          info.endpoint, "--jwk", str(public), "--stdout"], input=sealed.encode(),
                         capture_output=True, timeout=120)
    assert cli.returncode == 0, cli.stderr.decode()
    assert cli.stdout == b"two keys"
    cli_notes = cli.stderr.decode().splitlines()

    # The UI uses the directory with the sandbox's own client key chosen (it holds two).
    app = use_kms(make_app(tmp_path, start_mode="unseal"), creds, info.endpoint, client_key_id=info.client_key_id)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, UnsealScreen)
            screen.query_one("#sealed").text = sealed
            screen.query_one("#jwk").value = str(public)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            result = screen.result
            assert result is not None and screen.plaintext == b"two keys"
            assert result.client_key_id == other == result.named_client_key_id
            assert cli_notes == [str(n) for n in result.notes]
            shown = rendered(screen.query_one("#notes"))
            assert all(n.text in shown for n in result.notes)

    run(flow())
    assert any("ignored whitespace" in n for n in cli_notes) and any(other in n for n in cli_notes)
    assert any(n.startswith("warning: as given: cdh rejected") for n in cli_notes)
