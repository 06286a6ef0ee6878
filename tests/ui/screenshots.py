"""Write the README's screenshots (`assets/*.svg`): a real session against a fresh local KMS instance, at 120×40
and (Seal, Inspect) at 80×24.

Run: `.venv/bin/python -m tests.ui.screenshots [OUTPUT_DIR]` (default `assets/`). It removes and recreates
`/tmp/sealtui-demo` (the demo's home), so the paths on screen read like a user's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from sealtui.app import SealtuiApp, create_app
from tests.ui.conftest import settle, wait_for

HOME = Path("/tmp/sealtui-demo")
SIZE = (120, 40)
SMALL = (80, 24)


async def _shoot(pilot: Any, out: Path, name: str) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()
    (out / f"{name}.svg").write_text(pilot.app.export_screenshot(title=f"sealtui: {name}"))
    print(out / f"{name}.svg")


async def session(out: Path) -> None:
    shutil.rmtree(HOME, ignore_errors=True)
    (HOME / "work").mkdir(parents=True)
    app: SealtuiApp = create_app(config_dir=HOME / ".config" / "sealtui",
                                 sandbox_root=HOME / ".local" / "share" / "sealtui" / "sandbox",
                                 first_run_offer=True, cursor_blink=False, use_pyperclip=False)
    async with app.run_test(size=SIZE) as pilot:
        from sealtui.screens.dialogs import FirstRunDialog

        await wait_for(pilot, lambda: isinstance(app.screen, FirstRunDialog), "the first-run offer")
        await _shoot(pilot, out, "first-run")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.credentials is not None, "the local KMS")
        await _shoot(pilot, out, "credentials")

        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await _shoot(pilot, out, "instance")

        await pilot.press("f4")
        await pilot.press("ctrl+g")
        await settle(pilot)
        seal = app.screen
        seal.query_one("#src-pairs").value = True
        seal.query_one("#pairs-text").text = "DB_PASSWORD=correct horse battery staple\nAPI_TOKEN=tok-1234\n"
        await pilot.press("ctrl+r")
        await _shoot(pilot, out, "seal")
        sealed = seal.results[0].sealed

        await pilot.press("f5")
        unseal = app.screen
        unseal.query_one("#sealed").text = sealed
        public = HOME / ".config" / "sealtui" / "keys" / "default_sealtui-signing_jwk-public.json"
        unseal.query_one("#jwk").value = str(public)
        await pilot.press("ctrl+r")
        await _shoot(pilot, out, "unseal")

        await pilot.press("f6")
        inspect = app.screen
        inspect.set_input(sealed)
        inspect.query_one("#jwk").value = str(public)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+t")  # the tree has the focus
        await _shoot(pilot, out, "inspect")

        await pilot.press("f7")
        await settle(pilot)
        app.screen.query_one("#secret-name").value = "app-secrets"
        app.screen.query_one("#namespace").value = "prod"
        await _shoot(pilot, out, "manifest")

        work = HOME / "work"
        (work / "secret.yaml").write_text(app.screen.texts["yaml"])
        legacy = sealed.replace("sealed.", "", 1).split(".")
        (work / "legacy.yaml").write_text(  # the same payload in the old unsigned fake-jws form
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\nstringData:\n"
            f"  DB_PASSWORD: sealed.fakejwsheader.{legacy[1]}.fakesignature\n")
        await pilot.press("f8")
        scan = app.screen
        os.chdir(HOME)  # the table shows the paths as given: short ones read better
        scan.query_one("#path").value = "work"
        scan.query_one("#jwk").value = str(public)
        await pilot.press("ctrl+r")
        await _shoot(pilot, out, "scan")

        await pilot.press("f9")
        diff = app.screen
        diff.query_one("#a").text = sealed
        diff.query_one("#b").text = seal.results[1].sealed
        await pilot.press("ctrl+r")
        await _shoot(pilot, out, "diff")

        (work / "deployment.yaml").write_text(_deployment())
        await pilot.press("f10")
        doctor = app.screen
        doctor.query_one("#path").value = "work"
        doctor.query_one("#kata").value = "3.28"
        doctor.query_one("#jwk").value = str(public)
        await pilot.press("ctrl+r")
        await _shoot(pilot, out, "doctor")

        await pilot.press("f1")
        await _shoot(pilot, out, "help")
        await pilot.press("escape")

        await pilot.resize_terminal(*SMALL)  # the common default terminal
        await pilot.press("f4")
        await _shoot(pilot, out, "seal-80x24")
        await pilot.press("f6")
        await _shoot(pilot, out, "inspect-80x24")


def _deployment() -> str:
    """A Deployment using the Secret of the Manifest screen, with the initdata `sealtui initdata --kbs-url` writes."""
    from sealtui.core.doctor import initdata

    url = "http://kbs.example:8080"
    toml = initdata.build_initdata({"aa.toml": initdata.aa_toml(url), "cdh.toml": initdata.cdh_toml(url)})
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: prod\nspec:\n"
        "  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n"
        f"      annotations:\n        {initdata.ANNOTATION}: {initdata.encode_annotation(toml.encode())}\n"
        "    spec:\n      runtimeClassName: kata-qemu-tdx\n      containers:\n      - name: app\n"
        "        image: registry.example/app:1.0\n        envFrom:\n        - secretRef: {name: app-secrets}\n")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "assets").resolve()  # the session changes directory
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(session(out))


if __name__ == "__main__":
    main()
