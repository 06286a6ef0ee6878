"""Reviewer workflows in the UI: scan manifests and open a value in Inspect, diff two values, re-sign a legacy
string; and quitting while the first screen is still being built."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from sealtui.app import SealtuiApp
from tests.ui.conftest import make_app, run, settle, use_signing_jwk, wait_for
from tests.ui.test_snapshots import ENVELOPE, FAKE_ENVELOPE, SIGNED_LOOKING


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def write_manifests(root: Path) -> Path:
    """A directory with a Secret (stringData and base64 data), a Deployment env value and a broken file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n"
        f"  db: {FAKE_ENVELOPE}\n  api: {SIGNED_LOOKING}\n"
        "data:\n  token: " + base64.b64encode(FAKE_ENVELOPE.encode()).decode() + "\n")
    (root / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: web\n        env:\n        - name: DB\n"
        f"          value: {FAKE_ENVELOPE}\n")
    (root / "broken.yaml").write_text("kind: Secret\nstringData: [unclosed\n")
    return root


def test_scan_a_directory_then_open_a_row_in_inspect(tmp_path: Path) -> None:
    from sealtui.screens.inspect import InspectScreen
    from sealtui.screens.scan import ScanScreen

    manifests = write_manifests(tmp_path / "manifests")
    app = make_app(tmp_path, start_mode="scan")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            scan = app.screen
            assert isinstance(scan, ScanScreen)
            scan.query_one("#path").value = str(manifests)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            result = scan.result
            assert result is not None and len(result.values) == 4 and result.files == 3
            assert len(result.errors) == 1 and result.errors[0].file.endswith("broken.yaml")
            table = scan.query_one("#results")
            assert table.row_count == 4
            summary = str(scan.query_one("#summary").render())
            assert "4 sealed value(s) in 3 file(s)" in summary and "rejected by cdh" in summary
            assert scan.query_one("#errors").row_count == 1
            paths = {v.path for v in result.values}
            assert {"stringData.db", "data.token", "spec.template.spec.containers[0].env[0].value"} <= paths

            table.focus()
            await pilot.press("down")  # the second row
            wanted = scan.selected()
            assert wanted is not None
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen), "the Inspect screen")
            inspect = app.screen
            await wait_for(pilot, lambda: inspect.report is not None, "the inspection")
            assert inspect.input_text() == wanted.value
            assert inspect.report.form == wanted.report.form

    run(flow())


def test_scan_a_missing_path_is_an_error_on_the_screen(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="scan")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            app.screen.query_one("#path").value = str(tmp_path / "nope")
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert "no such file or directory" in app.errors[-1].message
            assert app.is_running

    run(flow())


def test_diff_two_values_shows_the_differing_fields_and_no_plaintext(tmp_path: Path) -> None:
    from sealtui.screens.diff import DiffScreen

    other = dict(ENVELOPE, key_id="key-0123456789abcdef0123456X", iv="AAAAAAAAAAAAAAAA")
    b = f"sealed.fakejwsheader.{_b64url(other)}.fakesignature"
    app = make_app(tmp_path, start_mode="diff")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            diff = app.screen
            assert isinstance(diff, DiffScreen)
            diff.query_one("#a").text = FAKE_ENVELOPE
            diff.query_one("#b").text = b
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            assert diff.rows is not None
            differing = {r.field for r in diff.rows if not r.same}
            assert differing == {"key_id", "iv"}
            table = diff.query_one("#table")
            assert table.row_count == 2
            shown = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
            assert shown == {"key_id", "iv"}
            assert "2 of" in str(diff.query_one("#summary").render())
            diff.query_one("#all").value = True
            await pilot.pause()
            assert table.row_count == len(diff.rows)

    run(flow())


def test_diff_two_manifests_pairs_values_by_resource_and_path(tmp_path: Path) -> None:
    a = f"kind: Secret\nmetadata:\n  name: app\nstringData:\n  db: {FAKE_ENVELOPE}\n  old: {FAKE_ENVELOPE}\n"
    b = f"kind: Secret\nmetadata:\n  name: app\nstringData:\n  db: {SIGNED_LOOKING}\n  new: {FAKE_ENVELOPE}\n"
    app = make_app(tmp_path, start_mode="diff")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            diff = app.screen
            diff.query_one("#a").text, diff.query_one("#b").text = a, b
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert diff.entries is not None
            assert {e.key: e.status for e in diff.entries} == {
                "Secret/app:stringData.db": "changed", "Secret/app:stringData.new": "added",
                "Secret/app:stringData.old": "removed"}

    run(flow())


def test_resign_a_fake_jws_string_with_the_session_signer(tmp_path: Path, signing_key) -> None:
    from sealtui.core.verify import verify_sealed
    from sealtui.screens.inspect import InspectScreen

    private, public = signing_key
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            use_signing_jwk(app, private)
            inspect = app.screen
            assert isinstance(inspect, InspectScreen)
            inspect.set_input(FAKE_ENVELOPE)
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert not app.errors, app.errors
            r = inspect.resigned
            assert r is not None and r.from_form == "fake-jws"
            assert any("converted fake-jws to signed-jws" in c for c in r.changes)
            verify_sealed(r.sealed, public)
            assert inspect.query_one("#resigned").text == r.sealed
            assert "signed with kid 'ui-test-signer'" in str(inspect.query_one("#changes").render())
            await pilot.press("ctrl+y")
            assert app.clipboard == r.sealed
            # Saved exactly as CDH accepts it: no trailing newline (upstream CDH with verification refuses one).
            saved = tmp_path / "resigned.sealed"
            inspect.ask_save_path = lambda title, name, then, **kw: then(saved)  # type: ignore[method-assign]
            await pilot.press("ctrl+s")
            await wait_for(pilot, saved.exists, "the re-signed string saved")
            assert saved.read_bytes() == r.sealed.encode()

    run(flow())


def test_resign_refuses_an_invalid_payload_with_the_cores_message(tmp_path: Path, signing_key) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            use_signing_jwk(app, signing_key[0])
            app.screen.set_input("sealed.not-base64!.garbage.x")
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert app.errors and app.errors[-1].message.startswith("cannot re-sign")
            assert "cannot re-sign" in str(app.screen.query_one("ErrorLine").render())
            assert app.screen.resigned is None

    run(flow())


class _QuitWhileBuilding(SealtuiApp):
    """Quits right after the first frame, while the first screen is being built (ctrl+q pressed at once)."""

    CSS_PATH = str(Path(__file__).resolve().parents[2] / "sealtui" / "app.tcss")

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self.action_quit)


@pytest.mark.parametrize("configured", [False, True])
def test_quitting_while_the_first_screen_is_built_prints_no_traceback(tmp_path: Path, configured: bool) -> None:
    from sealtui.session import Session

    config = tmp_path / "config"
    if configured:  # a previous run chose credentials: the Seal screen is built and the session restored
        config.mkdir()
        (config / "config.json").write_text(json.dumps({"credentials_dir": str(tmp_path / "creds")}))
    app = _QuitWhileBuilding(Session(config_dir=config, sandbox_root=tmp_path / "sandbox", persist=False),
                             progressive=True, first_run_offer=True, cursor_blink=False, use_pyperclip=False)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.return_code is not None, "the app to quit")
        # An exception in a handler would be re-raised by run_test here (and printed by `sealtui` on exit).

    run(flow())
    assert app.return_code == 0
