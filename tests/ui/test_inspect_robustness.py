"""The Inspect screen survives what an input can do: documents 100,000 levels deep, a 50 MB string, NULs and lone
surrogates are inspected, their verdicts shown with the deciding step, and the JSON tree opened, with no error."""

from __future__ import annotations

from pathlib import Path

from sealtui.screens.inspect import InspectScreen
from sealtui.widgets.json_tree import JsonTree
from tests.ui.conftest import make_app, run, settle
from tests.unit.sealed_builders import VAULT, b64u, fake, js

DEEP = 100_000
SIG = b64u(bytes(31) + b"\x01" + bytes(31) + b"\x01")
HEADER = b64u(js({"alg": "ES256", "kid": "k"}))

INPUTS = {
    "deep payload": f"sealed.{HEADER}.{b64u('[' * DEEP + ']' * DEEP)}.{SIG}",
    "deep header": "sealed." + b64u('{"a":' + "[" * DEEP) + f".{b64u(js(VAULT))}.{SIG}",
    "50 MB": fake(VAULT | {"name": "x" * 37_000_000, "x\u0000" * 3: "\u0000" * 500}),
    "NULs": "sealed.\x00\x00.\x00.\x00\x00",
    "NUL members": fake('{"version":"0.1.0","type":"vault","name":"kbs:///a/b/c\\u0000","provider":"kbs",'
                        '"provider_settings":{"\\u0000\\u001b[31m":"\\u0000"},"annotations":{}}'),
    "lone surrogates": "sealed.\ud800.x\udfff.\udcff",
    "lone surrogate escapes": fake('{"version":"0.1.0","type":"vault","name":"\\ud800","provider":"kbs",'
                                   '"provider_settings":{"\\udfff":1},"annotations":{}}'),
}


def _open_everything(tree: JsonTree) -> list[str]:
    """Expand every node built so far; return every label."""
    labels, stack = [], list(tree.root.children)
    while stack:
        node = stack.pop()
        node.expand()
        labels.append(str(node.label))
        stack.extend(node.children)
    return labels


def test_the_inspect_screen_survives_hostile_input(tmp_path: Path) -> None:
    app = make_app(tmp_path, start_mode="inspect")

    async def flow() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, InspectScreen)
            for name, text in INPUTS.items():
                screen.set_input(text, source=name)
                await pilot.press("ctrl+r")
                await settle(pilot)
                r = screen.report
                assert r is not None and r.input_length == len(text), name
                assert not app.errors, (name, app.errors)
                assert r.verdicts["cdh"] == "rejected", name
                verdicts = screen.query_one("#verdicts")
                assert verdicts.row_count == 4
                assert str(verdicts.get_row_at(0)[2]).startswith(r.decisions["cdh"].step)  # the deciding step
                tree = screen.query_one(JsonTree)
                for _ in range(3):  # open the levels one after the other, as a user would
                    labels = _open_everything(tree)
                    await pilot.pause()
                assert app.is_running and not app.errors, (name, app.errors)
                for label in labels:
                    label.encode("utf-8")  # nothing the terminal cannot encode
                    assert "\x00" not in label and "\x1b" not in label and len(label) < 400, (name, label)

    run(flow())
