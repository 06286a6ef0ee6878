"""The layering rules of DESIGN §2, checked in fresh interpreters (like Harlequin's sys.modules test)."""

from __future__ import annotations

import ast
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


def test_core_sources_import_nothing_forbidden():
    # Static check as well, so a lazy import inside a function cannot sneak in.
    bad = []
    for path in (ROOT / "sealtui" / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for n in names:
                top = n.split(".")[0]
                if top in FORBIDDEN or top in ("socket", "ssl", "http", "urllib") or n.startswith(
                        ("sealtui.providers", "sealtui.screens", "sealtui.cli", "sealtui.sandbox", "sealtui.app")):
                    bad.append(f"{path.name}: {n}")
    assert not bad


def test_nothing_imports_screens_or_cli():
    bad = []
    for path in (ROOT / "sealtui").rglob("*.py"):
        rel = path.relative_to(ROOT / "sealtui").parts
        if rel[0] in ("screens", "widgets", "cli") or rel[0] in ("app.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    ("sealtui.screens", "sealtui.cli", "sealtui.widgets", "sealtui.app")):
                bad.append(f"{'/'.join(rel)}: {node.module}")
    assert not bad
