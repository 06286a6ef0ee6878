"""The app as a whole: navigation, help, the command palette, bindings, errors, and what it imports."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from textual.binding import Binding

from sealtui.app import SealtuiApp
from sealtui.nav import NAV
from tests.ui.conftest import make_app, run, settle, wait_for

SCREEN_MODULES = [(e.module, e.cls) for e in NAV] + [
    ("sealtui.screens.help", "HelpScreen"), ("sealtui.screens.dialogs", "FirstRunDialog"),
    ("sealtui.screens.dialogs", "PathDialog")]


@pytest.mark.parametrize(("module", "cls"), [("sealtui.app", "SealtuiApp"), *SCREEN_MODULES])
def test_every_binding_has_an_id_and_a_description(module: str, cls: str) -> None:
    klass = getattr(importlib.import_module(module), cls)
    for binding in klass.BINDINGS:
        assert isinstance(binding, Binding)
        assert binding.id and binding.description and binding.tooltip, binding


def test_function_keys_reach_every_screen_and_help_lists_its_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        from sealtui.screens.help import HelpScreen

        async with app.run_test(size=(120, 40)) as pilot:
            for entry in NAV:
                await pilot.press(entry.key)
                await pilot.pause()
                assert app.current_mode == entry.mode and type(app.screen).__name__ == entry.cls
            await pilot.press("f4")
            await pilot.pause()
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            keys = {b.key: b.description for b in app.screen.screen_bindings}
            assert keys["ctrl+y"] == "Copy" and keys["escape"] == "Cancel"  # the screen's own and inherited
            assert "f4" in {b.key for b in app.screen.app_bindings}
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)

    run(flow())


def test_command_palette_goes_to_screens_and_runs_screen_commands(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="seal")

    async def flow() -> None:
        from textual.command import CommandPalette

        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
            await pilot.press(*"go: inspect")
            palette = app.screen
            await wait_for(pilot, lambda: palette.query_one("CommandList").option_count > 0, "the hits")
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: app.current_mode == "inspect", "the Inspect screen")

            from sealtui.screens.palette import SealtuiCommands

            titles = [t for t, _h, _c in SealtuiCommands(app.screen)._commands()]
            assert "go: Seal" in titles and "inspect: run" in titles and "local KMS: create and start" in titles

    run(flow())


def test_errors_with_markup_characters_are_shown_as_text(tmp_path: Path) -> None:
    from sealtui.core.errors import InvalidInputError

    app = make_app(tmp_path, start_mode="seal")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            app.show_error(InvalidInputError("file [/]x[bold] is bad", fix="remove [red]"), app.screen)
            await pilot.pause()
            await pilot.press("ctrl+r")  # sealing with nothing configured: shown, not fatal
            await settle(pilot)
            assert app.is_running and "the value is empty" in app.errors[-1].message

    run(flow())


def test_import_app_loads_neither_the_sdk_nor_the_core_models() -> None:
    probe = ("import sys, json; import sealtui.app; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"sdk", "openapi", "Tea", "OpenSSL", "sealtui.providers.aliyun", "sealtui.sandbox.server"}
    assert "sealtui.core.models" not in loaded and "pydantic" not in loaded  # keeps the first frame quick


def test_create_app_defaults_follow_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sealtui.app import create_app

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = create_app()
    assert isinstance(app, SealtuiApp)
    assert app.session.config_dir == tmp_path / "cfg" / "sealtui"
    assert app.session.sandbox_root == tmp_path / "data" / "sealtui" / "sandbox"
    assert app.session.clipboard_clear_seconds == 30


def test_progressive_start_draws_the_frame_then_the_first_screen(tmp_path: Path) -> None:
    """What `sealtui` does in a terminal: a light frame first (a quick first paint), then the screen."""
    app = make_app(tmp_path, progressive=True, first_run_offer=True)

    async def flow() -> None:
        from sealtui.screens.credentials import CredentialsScreen
        from sealtui.screens.dialogs import FirstRunDialog
        from sealtui.widgets.frame import StartScreen

        async with app.run_test(size=(120, 40)) as pilot:
            assert isinstance(app.screen, StartScreen | CredentialsScreen | FirstRunDialog)
            await wait_for(pilot, lambda: isinstance(app.screen, FirstRunDialog), "the first-run offer")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, CredentialsScreen), "the Credentials screen")
            assert app.session.local is None and not (tmp_path / "sandbox").exists()

    run(flow())
