"""Paste → inspect, with no credentials at all: form, verdicts, findings, the lazy JSON tree, verification."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from textual import events

from sealtui.screens.inspect import InspectScreen
from sealtui.widgets.json_tree import JsonTree
from tests.ui.conftest import make_app, rendered, run, settle

FAKE = "sealed.fakejwsheader." + base64.urlsafe_b64encode(json.dumps({
    "version": "0.1.0", "type": "vault", "name": "kbs:///default/key/1", "provider": "kbs",
    "provider_settings": {}, "annotations": {}}).encode()).decode().rstrip("=") + ".fakesignature"


def _signed(private: Path, annotations: dict | None = None) -> str:
    from sealtui.core.jws import JwkSigner, load_jwk
    from sealtui.core.vault import seal_vault

    return seal_vault("kbs:///default/key/1", JwkSigner(load_jwk(private)), annotations=annotations)


def _labels(node) -> list[str]:
    return [str(child.label) for child in node.children]


def test_paste_and_inspect_without_credentials(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, InspectScreen)
            await pilot.click("#input")
            app.post_message(events.Paste(FAKE))  # what the terminal sends on paste (bracketed)
            await pilot.pause()
            assert screen.query_one("#input").text == FAKE
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert app.session.credentials is None and not app.errors
            r = screen.report
            assert r is not None and r.form == "fake-jws"
            assert r.verdicts["cdh"] == "rejected" and r.verdicts["cdh-skip-verification"] == "accepted"
            assert screen.query_one("#findings").row_count == len(r.findings) > 0
            table = screen.query_one("#findings")
            fixes = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
            resign = [f for f in r.findings if f.fix and f.fix.action == "resign"]
            assert resign and any("(ctrl+n re-signs it here)" in f for f in fixes)  # the fix as the UI's key
            assert not any("--" in f or "sealtui " in f for f in fixes)  # never the CLI's words
            assert "fake-jws" in rendered(screen.query_one("#form"))
            tree = screen.query_one("#tree", JsonTree)
            assert [label.split(":")[0] for label in _labels(tree.root)] == ["payload"]
            payload = tree.root.children[0]
            assert "name: \"kbs:///default/key/1\"" in _labels(payload)

    run(flow())


def test_verify_against_a_public_jwk_and_a_tampered_signature(tmp_path: Path, signing_key) -> None:
    private, public = signing_key
    good = _signed(private)
    head, _, sig = good.rpartition(".")
    tampered = f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            screen.set_input(good)
            screen.query_one("#jwk").value = str(public)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.report.signature.verified is True
            assert screen.report.verdicts["cdh"] == "accepted"
            assert "verified" in rendered(screen.query_one("#form"))

            screen.set_input(tampered)
            await pilot.press("ctrl+r")
            await settle(pilot)
            r = screen.report
            assert r.signature.verified is False and r.verdicts["cdh"] == "rejected"
            assert "signature-invalid" in [f.code for f in r.findings]
            assert "DOES NOT VERIFY" in rendered(screen.query_one("#form"))

    run(flow())


def test_malformed_and_markup_like_input_is_shown_as_text(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            for text in ("sealed.a.b", "[bold red]x[/] a[/]b", "sealed.[/].e30.[link=x]"):
                screen.set_input(text)
                await pilot.press("ctrl+r")
                await settle(pilot)
                assert screen.report is not None and screen.report.verdicts["cdh"] == "rejected"
            assert screen.report.form in ("unrecognised", "signed-jws")
            payload = json.dumps({"version": "0.1.0", "type": "vault", "name": "[/]x[bold]",
                                  "provider": "kbs", "provider_settings": {}, "annotations": {"[/]": "[/b]"}})
            screen.set_input(payload)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.report.form == "bare-json"
            app.show_error(ValueError("[/] not markup [bold]"))
            await pilot.pause()
            assert app.is_running and "[/]x[bold]" in " ".join(_labels(screen.query_one(JsonTree).root.children[0]))

    run(flow())


def test_a_multi_megabyte_payload_loads_lazily_in_pages(tmp_path: Path, signing_key) -> None:
    private, _public = signing_key
    items = [{"name": f"item-{i}", "value": "x" * 60} for i in range(60_000)]
    big = _signed(private, {"items": items})
    assert len(big) > 5_000_000
    path = tmp_path / "big.sealed"
    path.write_text(big)
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await pilot.press("ctrl+o")
            await pilot.pause()
            app.screen.query_one("#path").value = str(path)
            await pilot.press("enter")
            await settle(pilot)
            assert screen.report is not None and screen.report.form == "signed-jws"
            assert screen.query_one("#input").text == ""  # 5 MB are not put in the text area
            assert f"{len(big):,} characters" in rendered(screen.query_one("#loaded"))
            tree = screen.query_one(JsonTree)
            payload = tree.root.children[1]
            annotations = next(c for c in payload.children if str(c.label).startswith("annotations"))
            annotations.expand()
            await pilot.pause()
            item_list = annotations.children[0]
            assert "60,000 items" in str(item_list.label)
            assert len(item_list.children) == 0  # nothing built until it is opened
            item_list.expand()
            await pilot.pause()
            assert len(item_list.children) == JsonTree.PAGE_SIZE + 1
            more = item_list.children[-1]
            assert "59,800 more" in str(more.label)
            tree.select_node(more)  # what enter on it does
            await pilot.pause()
            assert len(item_list.children) == 2 * JsonTree.PAGE_SIZE + 1
            assert "59,600 more" in str(item_list.children[-1].label)

    run(flow())
