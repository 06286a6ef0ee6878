"""The Doctor screen (F10): a manifest directory checked as the guest would, failures first, the failing check's
guest message and fix in full at 80x24, enter opening a value in Inspect, bad input shown with its fix."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region

from sealtui.core.errors import InvalidInputError, UsageError
from sealtui.screens.doctor import DoctorScreen, DoctorTree
from sealtui.screens.inspect import InspectScreen
from sealtui.service.doctor import provision_text, value_plan
from sealtui.widgets.frame import ErrorLine
from tests.ui.conftest import make_app, rendered, run, settle, wait_for
from tests.ui.test_snapshots import _app, _quiet

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "doctor"
SIGNATURE_CASE = FIXTURES / "13-signature-mode"
"""A Deployment whose DB_PASSWORD is unsigned while the guest (kata 3.28) verifies signatures: 13 fails."""
PROVIDER_CASE = FIXTURES / "23-provider-files"
"""Three values; the last in the file (a Secret volume file) fails 23: no [[credentials]] puts a client-key file
in the guest."""
SMALL = (80, 24)


def detail_text(screen: DoctorScreen) -> str:
    """Everything the detail pane holds (scrolled or not), one space between words."""
    widget = screen.query_one("#detail")
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join(s.text for s in lines).split())


def words(text: str) -> str:
    return " ".join(text.split())


def nospace(text: str) -> str:
    """`text` without any whitespace: what survives wrapping, whatever the width."""
    return "".join(text.split())


async def check(pilot: Any, path: Path | str, *, kata: str = "3.28", **fields: str) -> DoctorScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DoctorScreen)
    screen.query_one("#path").value = str(path)
    screen.query_one("#kata").value = kata
    for name, value in fields.items():
        screen.query_one(f"#{name.replace('_', '-')}").value = value
    await pilot.press("ctrl+r")
    await settle(pilot)
    return screen


def test_the_failing_value_comes_first_with_its_check_guest_message_and_fix_at_80x24(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="seal")

    async def flow() -> None:
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press("f10")
            await wait_for(pilot, lambda: isinstance(app.screen, DoctorScreen), "the Doctor screen")
            screen = await check(pilot, PROVIDER_CASE, trustee=str(PROVIDER_CASE / "trustee"))
            assert not app.errors and screen.run is not None
            tree = screen.query_one(DoctorTree)
            assert tree.has_focus
            entry = screen.selected()
            assert entry is not None and entry.value is not None
            value = entry.value
            assert (value.source, value.name, value.status) == ("volume", "/etc/app/keys/api-key", "fails")
            # Failures first: in the file the two env values come first, in the tree the failing volume file.
            assert [v.name for v in screen.run.result.values] == ["DB_PASSWORD", "TOKEN", "/etc/app/keys/api-key"]
            container = tree.root.children[0].children[0]
            assert [str(n.label) for n in container.children] == [
                "✖ volume /etc/app/keys/api-key 23", "✓ env DB_PASSWORD", "✓ env TOKEN"]
            failing = [c for c in value.checks if c.status == "fails"]
            assert [c.id for c in failing] == ["23-provider-files"]
            shown = detail_text(screen)
            assert shown.startswith("volume /etc/app/keys/api-key FAILS ✖ FAILS 23-provider-files")
            # What doctor saw, the guest's own message and the fix, every character, in the 45-column pane of an
            # 80x24 terminal (long paths wrap inside their column).
            c = failing[0]
            assert nospace(f"saw{c.detail}guest{c.guest_message}fix{c.fix}") in nospace(shown)
            assert "3 values, 3 files: 1 fail, 0 cannot tell" in rendered(screen.query_one("#summary"))
            # Moving the cursor shows the node under it: the workload, with the initdata digest found.
            await pilot.press("home")
            workload = app.screen.selected()
            assert workload is not None and workload.workload is not None and workload.value is None
            assert workload.workload.initdata is not None
            digest = workload.workload.initdata.digest or ""
            assert len(digest) == 96 and f"digest{digest}" in nospace(detail_text(screen))

    run(flow())


def test_enter_on_a_value_opens_it_in_inspect_and_a_click_only_shows_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="doctor")

    async def flow() -> None:
        async with app.run_test(size=SMALL) as pilot:
            screen = await check(pilot, SIGNATURE_CASE)
            # A click on another value moves the cursor and shows it, and stays on this screen.
            tree = screen.query_one(DoctorTree)
            token = tree.root.children[0].children[0].children[1]
            await pilot.click(DoctorTree, offset=(8, token.line))
            await pilot.pause()
            assert app.current_mode == "doctor"
            assert screen.selected() is not None and screen.selected().value.name == "TOKEN"
            assert detail_text(screen).startswith("env TOKEN CANNOT TELL")
            await pilot.press("up")
            value = screen.selected().value
            assert value.name == "DB_PASSWORD"
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen), "the Inspect screen")
            inspect = app.screen
            await settle(pilot)
            assert inspect.query_one("#input").text == value.text
            assert inspect.report is not None and inspect.report.form == "fake-jws"
            assert "app.yaml:7" in rendered(inspect.query_one("#loaded"))
            await pilot.press("f10")
            await wait_for(pilot, lambda: app.screen is screen, "back on the Doctor screen, as it was")
            assert screen.selected().value is value

    run(flow())


def test_bad_yaml_shows_its_file_and_line_and_the_app_keeps_running(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # short relative paths: each fits on a line of the pane
    manifests = tmp_path / "k8s"
    shutil.copytree(SIGNATURE_CASE, manifests, ignore=shutil.ignore_patterns("trustee"))
    (manifests / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n")
    app = make_app(tmp_path, start_mode="doctor")

    async def flow() -> None:
        async with app.run_test(size=SMALL) as pilot:
            screen = await check(pilot, "k8s")
            # The file that could not be read comes first and is shown: file:line:column, the problem, the fix.
            entry = screen.selected()
            assert entry is not None and len(entry.problems) == 1
            problem = entry.problems[0]
            assert problem.message.startswith("k8s/broken.yaml:5:7: not valid YAML")
            shown = detail_text(screen)
            assert f"problem {words(problem.message)} fix {words(problem.fix or '')}" in shown
            assert "1 file could not be read" in rendered(screen.query_one("#summary"))
            assert screen.run is not None and len(screen.run.result.values) == 3  # the good file was still read
            # A path that does not exist: the error and its fix on the error line; the app goes on.
            screen = await check(pilot, tmp_path / "missing")
            assert isinstance(app.errors[-1], InvalidInputError)
            error_line = rendered(screen.query_one(ErrorLine))
            assert "missing: no such file or directory" in error_line and "fix: check the path" in error_line
            screen = await check(pilot, SIGNATURE_CASE, jwk="a.json", kid_map="b.yaml")
            assert isinstance(app.errors[-1], UsageError)
            assert "give a public JWK or a kid map, not both" in rendered(screen.query_one(ErrorLine))
            screen = await check(pilot, f"'{SIGNATURE_CASE}", jwk="", kid_map="")
            assert "cannot be split" in rendered(screen.query_one(ErrorLine))
            screen = await check(pilot, SIGNATURE_CASE)
            assert app.is_running and len(app.errors) == 3 and not screen.run.result.problems
            assert not screen.query_one(ErrorLine).has_class("-shown")  # a success clears the error
            assert screen.selected().value.name == "DB_PASSWORD"

    run(flow())


def test_a_trustee_directory_settles_the_checks_and_ctrl_y_copies_what_to_provision(tmp_path: Path) -> None:
    healthy = FIXTURES / "healthy"
    app = make_app(tmp_path, start_mode="doctor")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await check(pilot, healthy, trustee=str(healthy / "trustee"))
            assert not app.errors and screen.run is not None
            assert "0 fail, 0 cannot tell" in rendered(screen.query_one("#summary"))
            tree = screen.query_one(DoctorTree)
            assert str(tree.root.children[0].label) == "✓ Deployment/app"
            await pilot.press("down", "down")
            value = screen.selected().value
            assert value is not None and value.name == "DB_PASSWORD"
            assert "present default/app/db-password ← ./db-password" in detail_text(screen)
            await pilot.press("ctrl+y")
            copied = app.clipboard
            assert copied == provision_text(value_plan(screen.run, value))
            assert f"set-resource --path {value.kid.removeprefix('kbs:///')} " in copied
            assert "set-resource --path default/app/db-password --resource-file ./db-password" in copied
            # On the last node: what to provision for every value.
            await pilot.press("end", "ctrl+y")
            assert app.clipboard == provision_text(screen.run.plan)
            await pilot.press("home", "ctrl+y")
            assert app.clipboard == screen.run.result.workloads[0].initdata.digest

    run(flow())


def test_text_from_the_files_is_never_markup(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: '[b]x[/]'\nspec:\n  runtimeClassName: kata-qemu-coco-dev\n"
        "  containers:\n  - name: '[/]'\n    image: x\n    env:\n    - name: 'A[/]B'\n"
        "      value: sealed.fakejwsheader.e30.fakesignature\n")
    app = make_app(tmp_path, start_mode="doctor")

    async def flow() -> None:
        async with app.run_test(size=SMALL) as pilot:
            screen = await check(pilot, tmp_path / "pod.yaml")
            assert app.is_running and not app.errors
            labels = [str(n.label) for n in screen.query_one(DoctorTree).root.children[0].children[0].children]
            assert any("A[/]B" in label for label in labels)
            assert "Pod/[b]x[/] › container [/]" in detail_text(screen)

    run(flow())


@pytest.mark.parametrize("size", [SMALL, (120, 40)], ids=["80x24", "120x40"])
def test_snapshot(snap_compare, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the paths shown are relative to here

    async def fill(pilot: Any) -> None:
        await check(pilot, SIGNATURE_CASE.relative_to(ROOT))
        await _quiet(pilot)

    assert snap_compare(_app(start_mode="doctor"), terminal_size=size, run_before=fill)
