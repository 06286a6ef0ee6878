"""Bulk sealing (a .env file, sealed in parallel, all or nothing) and signing with a key held in the KMS, on the
Seal screen against the shared local KMS (`sandbox`)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from sealtui.screens.seal import SealScreen
from tests.ui.conftest import make_app, run, settle, use_kms, use_signing_jwk, wait_for


def _app(tmp_path: Path, sandbox, key: str = "alias/sealtui-default"):
    return use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, sandbox.endpoint, key=key)


def test_kms_signing_key_signs_and_its_exported_public_jwk_verifies(tmp_path: Path, sandbox) -> None:
    from sealtui.core.verify import verify_sealed
    from sealtui.providers.aliyun import AliyunKmsSigner
    from sealtui.screens.dialogs import PathDialog

    app = _app(tmp_path, sandbox)
    exported = tmp_path / "kms-signing-public.json"

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            assert isinstance(seal, SealScreen)
            seal.query_one("#kms-key").value = "alias/sealtui-signing"
            seal.query_one("#kms-kid").value = "kms-signer"
            await pilot.press("ctrl+b")
            await settle(pilot)
            assert not app.errors, app.errors
            from sealtui.service.signing import signer_for

            assert isinstance(signer_for(app.session.signing, app.session.target), AliyunKmsSigner)
            assert app.session.signing_kid == "kms-signer"
            shown = str(seal.query_one("#provision").render())
            assert "alias/sealtui-signing" in shown and "sealed-secret/kms-signer" in shown

            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog), "the save dialog")
            app.screen.query_one("#path").value = str(exported)
            await pilot.press("enter")
            await settle(pilot)
            assert not app.errors, app.errors
            public = json.loads(exported.read_text())
            assert public["kid"] == "kms-signer" and "d" not in public
            assert str(exported) in str(seal.query_one("#provision").render())

            seal.query_one("#value").value = "hunter2"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            verify_sealed(seal.results[0].sealed, exported)

    run(flow())


def test_bulk_seal_of_a_dotenv_file_fills_the_session_and_the_manifest(tmp_path: Path, sandbox, signing_key) -> None:
    from sealtui.screens.manifest import ManifestScreen

    env = tmp_path / "app.env"
    values = {f"KEY_{i:02d}": f"value number {i}" for i in range(20)}
    env.write_text("# twenty values\n" + "".join(f'export {k}="{v}"\n' for k, v in values.items()))
    app = _app(tmp_path, sandbox)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            use_signing_jwk(app, signing_key[0])
            await pilot.click("#src-pairs")
            seal.query_one("#env-path").value = str(env)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert not app.errors, app.errors
            assert list(app.session.sealed) == list(values)
            assert [v.name for v in seal.results] == list(values)
            bar = seal.query_one("#progress")
            assert bar.total == 20 and bar.progress == 20
            assert "value number" not in seal.query_one("#results").text

            await pilot.press("f7")
            await settle(pilot)
            manifest = app.screen
            assert isinstance(manifest, ManifestScreen)
            doc = yaml.safe_load(manifest.texts["yaml"])
            assert set(doc["stringData"]) == set(values)

    run(flow())


def test_bulk_failure_names_a_key_and_adds_nothing(tmp_path: Path, sandbox, signing_key) -> None:
    from sealtui import sandbox as api

    key = api.create_key(sandbox.root_dir, alias="alias/ui-bulk-deactivated")
    api.set_key_state(sandbox.root_dir, key.id, "Deactivated")
    values = {f"K{i}": f"v{i}" for i in range(6)}
    app = _app(tmp_path, sandbox, key="alias/ui-bulk-deactivated")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            use_signing_jwk(app, signing_key[0])
            await pilot.click("#src-pairs")
            seal.query_one("#pairs-text").text = "".join(f"{k}={v}\n" for k, v in values.items())
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert app.errors
            message = app.errors[-1].message
            assert any(message.startswith(f"{k}: ") for k in values), message
            assert not any(v in message for v in values.values())
            assert app.session.sealed == {} and seal.results == []
            assert message.split(":")[0] in str(seal.query_one("ErrorLine").render())

    run(flow())


def test_bulk_bad_line_is_named_without_its_content(tmp_path: Path, sandbox, signing_key) -> None:
    app = _app(tmp_path, sandbox)

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            seal = app.screen
            use_signing_jwk(app, signing_key[0])
            await pilot.click("#src-pairs")
            seal.query_one("#pairs-text").text = "GOOD=1\nthis is not a pair s3cret\n"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert "line 2" in app.errors[-1].message and "s3cret" not in app.errors[-1].message
            assert app.session.sealed == {}

    run(flow())
