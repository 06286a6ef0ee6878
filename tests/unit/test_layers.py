"""The layering rules of DESIGN §2, checked in fresh interpreters (like Harlequin's sys.modules test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("textual", "aiohttp", "requests", "sdk", "openapi", "openapi_util", "openapi_credential", "Tea",
             "OpenSSL", "rich")


def loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return {m.split(".")[0] for m in json.loads(out.stdout)}


@pytest.mark.parametrize("code", [
    "import sealtui",
    "import sealtui.core.lint, sealtui.core.codec, sealtui.core.envelope, sealtui.core.manifest, "
    "sealtui.core.credentials, sealtui.core.keyref, sealtui.core.verify, sealtui.core.vault",
    "import sealtui; sealtui.inspect('sealed.fakejwsheader.e30.fakesignature')",
    "from sealtui.cli import build_parser; build_parser()",
])
def test_core_and_cli_import_no_ui_sdk_or_network(code):
    assert not (loaded_after(code) & set(FORBIDDEN))


def test_the_import_linter_contracts_hold():
    """The layers of DESIGN §2, the core's purity and no cycles, as the contracts in pyproject.toml say them
    (indirect imports and imports inside functions included)."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_import_sealtui_main_with_arguments_loads_no_ui():
    """`sealtui inspect …` goes through `sealtui.__main__`, which loads the TUI only with no arguments."""
    loaded = loaded_after("import sealtui.__main__ as m, contextlib, io\n"
                          "with contextlib.redirect_stdout(io.StringIO()):\n"
                          "    m.main(['inspect', 'sealed.fakejwsheader.e30.fakesignature'])")
    assert not loaded & set(FORBIDDEN)
