"""Issue 11, the TUI at 80×24 and 120×40: fixes wrap whole (12), every screen fits with its main action in view
(13), text areas keep every character and can be cleared (18). Each test is named after its item."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual import events

from sealtui.nav import NAV
from sealtui.service.sealing import SealedValue
from tests.ui.conftest import (
    fully_visible,
    make_app,
    rendered,
    run,
    screen_lines,
    settle,
    shown_in,
    use_kms,
)
from tests.ui.test_inspect_flow import FAKE
from tests.ui.test_snapshots import ENVELOPE, FAKE_ENVELOPE, SIGNED_LOOKING

SIZES = [(80, 24), (120, 40)]

MAIN_ACTIONS = {
    "credentials": ["#dir", "#check", "#use", "#sandbox"],
    "instance": ["#key", "#use-key", "#check"],
    "seal": ["#value", "#seal", "#results"],
    "unseal": ["#sealed", "#unseal"],
    "inspect": ["#input", "#inspect"],
    "manifest": ["#secret-name", "#outputs"],
    "scan": ["#path", "#scan"],
    "diff": ["#a", "#b", "#compare"],
    "doctor": ["#path", "#check"],
}
"""Per screen, what must be in view without scrolling the page: the input and the main action (and its result,
where it has its own place)."""


def column(lines: list[str], label: str) -> str:
    """The text of the table column headed `label` in `lines` (the table as shown), its wrapped lines joined
    without whitespace."""
    header = next(i for i, line in enumerate(lines) if re.search(rf"\b{re.escape(label)}\b", line))
    start = lines[header].index(label)
    return "".join("".join(line[start:].split()) for line in lines[header + 1:])


def _squeezed(text: str) -> str:
    return "".join(text.split())


# --- 12 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_12_long_fixes_wrap_whole_in_the_findings_table(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=size) as pilot:
            screen = app.screen
            screen.set_input(FAKE_ENVELOPE)
            await pilot.press("ctrl+r")
            await settle(pilot)
            fixes = [f.fix.text for f in screen.report.findings if f.fix]
            assert any("SKIP_SEALED_SECRET_VERIFICATION=true" in f for f in fixes)
            findings = screen.query_one("#findings")
            findings.scroll_visible(top=True, animate=False)
            await pilot.pause()
            shown = column(shown_in(app, findings), "Fix")
            for fix in fixes:
                assert _squeezed(fix) in shown, (fix, shown)

    run(flow())


@pytest.mark.parametrize("size", SIZES)
def test_12_long_fixes_wrap_whole_in_the_credentials_table(tmp_path: Path, size: tuple[int, int]) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "clientKey_KAAP.demo.json").write_text('{"KeyId": "KAAP.demo"}')
    (creds / "ClientKeyPassword.json").write_text('{"ClientKeyPassword": "x"}')
    app = make_app(tmp_path, start_mode="credentials")

    async def flow() -> None:
        async with app.run_test(size=size) as pilot:
            screen = app.screen
            screen.query_one("#dir").value = str(creds)
            await pilot.press("ctrl+r")
            await settle(pilot)
            fixes = [i.fix for i in screen.report.items if i.fix]
            assert fixes and max(len(f) for f in fixes) > 40
            screen.query_one("#report").scroll_visible(top=True, animate=False)
            await pilot.pause()
            shown = column(shown_in(app, screen.query_one("#report")), "Fix")
            for fix in fixes:
                assert _squeezed(fix) in shown, (fix, shown)

    run(flow())


# --- 13 -------------------------------------------------------------------------------------------------------


def _long_session(app: Any, tmp_path: Path) -> None:
    """A session whose status line has everything in it: instance, endpoint, key, a kbs:/// kid, sealed values."""
    from sealtui.service.signing import generate_signing_key

    app.session.use_signing_key(generate_signing_key(tmp_path / "keys"))
    app.session.sealed["db-password"] = SealedValue("db-password", SIGNED_LOOKING, ENVELOPE["key_id"], "kid", "p")


@pytest.mark.parametrize("size", SIZES)
def test_13_every_screen_fits_with_its_main_action_in_view(tmp_path: Path, sandbox, size: tuple[int, int]) -> None:
    app = use_kms(make_app(tmp_path, start_mode="seal"), sandbox.credentials_dir, sandbox.endpoint)
    width, _height = size

    async def flow() -> None:
        async with app.run_test(size=size) as pilot:
            _long_session(app, tmp_path)
            app.session_changed()
            for entry in NAV:
                if entry.mode not in MAIN_ACTIONS:
                    continue  # a screen added since: its own tests say what it needs
                await pilot.press(entry.key)
                await settle(pilot)
                screen = app.screen
                lines = screen_lines(app)
                keys = set(re.findall(r"\bF\d+\b", lines[0]))
                assert {e.key.upper() for e in NAV} <= keys and "F1 help" in lines[0], lines[0]
                bar = screen.query_one("SessionBar")
                status = rendered(bar)
                assert len(status) <= bar.content_region.width, status
                for part in ("KMS ", "key ", "kid " if width < 100 else "signing ", "sealed 1"):
                    assert part in lines[1], (part, lines[1])
                for selector in MAIN_ACTIONS[entry.mode]:
                    assert fully_visible(screen.query_one(selector)), (entry.mode, selector, "\n".join(lines))
                assert not screen.query_one(".body").scroll_y  # nothing had to scroll to get there

            await pilot.press("f4")
            kms_key = app.screen.query_one("#kms-key")
            assert kms_key.size.width >= 20 and fully_visible(kms_key)

            await pilot.press("f1")
            await pilot.pause()
            help_box = app.screen.query_one("VerticalScroll")
            assert app.screen.region.contains_region(help_box.region), help_box.region
            assert max(len(line.rstrip()) for line in screen_lines(app)) <= width

    run(flow())


@pytest.mark.parametrize("size", SIZES)
def test_13_inspect_reflows_and_its_tree_is_not_cut(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, start_mode="inspect")
    width, _height = size

    async def flow() -> None:
        async with app.run_test(size=size) as pilot:
            screen = app.screen
            screen.set_input(FAKE_ENVELOPE)
            await pilot.press("ctrl+r")
            await settle(pilot)
            tree = screen.query_one("#tree")
            assert fully_visible(tree) and fully_visible(screen.query_one("#inspect"))
            assert tree.region.right <= width
            shown = "\n".join(shown_in(app, tree))
            assert 'key_id: "key-0123456789abcdef01234567"' in shown, shown  # a whole label
            if width < 100:
                assert tree.region.width >= width - 4  # below the report, full width

    run(flow())


def test_13_credentials_keeps_its_fix_column_at_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="credentials")

    async def flow() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            header = shown_in(app, app.screen.query_one("#report"))[0]
            assert header.split() == ["Status", "File", "Role", "Message", "Fix"]

    run(flow())


# --- 18 -------------------------------------------------------------------------------------------------------


def test_18_inspect_input_keeps_every_character_when_results_appear_and_clears(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            area = screen.query_one("#input")
            await pilot.click("#input")
            app.post_message(events.Paste(FAKE))
            await pilot.pause()
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.report is not None
            shown = "".join(line.rstrip() for line in shown_in(app, area))
            assert shown == FAKE, shown  # nothing lost at the wraps ("fakesignatuure")

            await pilot.press("ctrl+l")
            await settle(pilot)
            assert area.text == "" and screen.input_text() == "" and screen.report is None
            assert screen.query_one("#findings").row_count == 0 and area.has_focus
            assert "^l Clear" in screen_lines(app)[-1]  # in the footer
            await pilot.press("f1")
            await pilot.pause()
            assert any("ctrl+l" in line and "Clear" in line for line in screen_lines(app))

    run(flow())


def test_18_diff_sides_keep_every_character_and_clear_one_at_a_time(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="diff")
    other = FAKE.replace("fakesignature", "othersignature")

    async def flow() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            for side, text in (("#a", FAKE), ("#b", other)):
                await pilot.click(side)
                app.post_message(events.Paste(text))
                await pilot.pause()
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.rows is not None
            for side, text in (("#a", FAKE), ("#b", other)):
                area = screen.query_one(side)
                area.scroll_home(animate=False)
                await pilot.pause()
                shown = "".join(line.rstrip() for line in shown_in(app, area))
                assert text.startswith(shown) and len(shown) > 40, shown

            await pilot.click("#a")
            await pilot.press("ctrl+l")
            await settle(pilot)
            assert screen.query_one("#a").text == "" and screen.query_one("#b").text == other
            assert screen.rows is None and screen.query_one("#table").row_count == 0

    run(flow())
