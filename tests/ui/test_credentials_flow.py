"""Credentials and the instance/key screen: the check table with fixes, a wrong password file, the connection
check naming the failing step (reachability, trust), keys by id/alias/URI, recent keys, restoring a session."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

from sealtui.screens.credentials import CredentialsScreen
from sealtui.screens.instance import InstanceScreen
from tests.ui.conftest import make_app, rendered, run, settle, use_kms


def _copy_credentials(sandbox, tmp_path: Path) -> Path:
    target = tmp_path / "creds"
    shutil.copytree(sandbox.credentials_dir, target)
    return target


def test_wrong_password_file_is_reported_with_its_fix(tmp_path: Path, sandbox) -> None:
    creds = _copy_credentials(sandbox, tmp_path)
    (creds / sandbox.password_file.name).write_text("not-the-password\n")
    app = make_app(tmp_path, start_mode="credentials")

    async def flow() -> None:
        from sealtui.core.errors import CredentialError

        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, CredentialsScreen)
            screen.query_one("#dir").value = str(creds)
            await pilot.press("ctrl+r")
            await settle(pilot)
            report = screen.report
            assert report is not None and report.has_errors
            bad = [i for i in report.items if i.status == "error"]
            assert bad[0].role == "password" and "wrong password" in bad[0].message and bad[0].fix
            assert screen.query_one("#report").row_count == len(report.items)
            assert "problem" in rendered(screen.query_one("#in-use"))

            await pilot.press("ctrl+s")  # use them anyway: refused, shown, the app keeps running
            await settle(pilot)
            assert isinstance(app.errors[-1], CredentialError)
            assert "wrong password" in rendered(screen.query_one("ErrorLine"))
            assert app.session.credentials is None and app.is_running

    run(flow())


def test_good_credentials_are_used_and_restored_next_time(tmp_path: Path, sandbox) -> None:
    app = make_app(tmp_path, start_mode="credentials")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            screen.query_one("#ck").value = str(sandbox.client_key_file)
            screen.query_one("#pw").value = str(sandbox.password_file)
            screen.query_one("#ca").value = str(sandbox.ca_file)
            await pilot.click("#check-files")
            await settle(pilot)
            assert screen.report is not None and not screen.report.has_errors
            for f in ("ck", "pw", "ca"):
                screen.query_one(f"#{f}").value = ""
            screen.query_one("#dir").value = str(sandbox.credentials_dir)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.report is not None and not screen.report.has_errors
            assert {i.role for i in screen.report.items} >= {"client_key", "password", "ca_bundle"}
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.session.credentials is not None
            assert app.session.credentials.kms_instance_id == sandbox.kms_instance_id

    run(flow())
    config = json.loads((tmp_path / "config" / "config.json").read_text())
    assert config["credentials_dir"] == str(sandbox.credentials_dir)

    again = make_app(tmp_path)

    async def restored() -> None:
        async with again.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert again.current_mode == "seal"
            assert again.session.credentials is not None and again.session.credentials_dir == sandbox.credentials_dir

    run(restored())


def test_connection_check_names_the_failing_step_and_keys_are_remembered(tmp_path: Path, sandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    app = use_kms(make_app(tmp_path, start_mode="instance", sandbox_root=sandbox.root_dir), sandbox.credentials_dir,
                  closed, key=None)

    async def flow() -> None:
        from sealtui.core.errors import InvalidInputError

        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, InstanceScreen)
            assert screen.query_one("#instances").row_count >= 1
            keys = screen.query_one("#sandbox-keys")
            assert {"alias/sealtui-default", "alias/sealtui-signing"} <= {k.value for k in keys.rows}

            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.report is not None and screen.report.failed == "reachability"
            assert "connection refused" in screen.report.steps[0].message
            assert [s.status for s in screen.report.steps][1:] == ["skipped", "skipped"]

            screen.query_one("#key").value = "alibabakms://bad host/x"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.errors[-1], InvalidInputError)

            screen.query_one("#key").value = "alias/sealtui-default"
            await pilot.press("ctrl+s")
            await settle(pilot)
            screen.query_one("#endpoint").value = sandbox.endpoint
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.report.ok, screen.report
            assert [s.name for s in screen.report.steps] == ["reachability", "trust", "client_key", "permission"]
            assert app.session.settings.recent_keys[0] == "alias/sealtui-default"
            assert "alias/sealtui-default" in str(screen.query_one("#recent").get_option_at_index(0).prompt)

    run(flow())


def test_connection_check_names_a_trust_failure(tmp_path: Path, sandbox) -> None:
    from sealtui import sandbox as api

    other = api.init_instance(tmp_path / "other")
    creds = _copy_credentials(sandbox, tmp_path)
    (creds / sandbox.ca_file.name).write_bytes(other.ca_file.read_bytes())  # the CA of another instance
    app = use_kms(make_app(tmp_path, start_mode="instance"), creds, sandbox.endpoint, key=None)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+r")
            await settle(pilot)
            report = app.screen.report
            assert report is not None and report.failed == "trust"
            assert report.steps[1].fix and "PrivateKmsCA" in report.steps[1].fix

    run(flow())
