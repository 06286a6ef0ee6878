"""The doctor is core: no UI, SDK or network imports (tests/unit/test_layers.py checks only core's top level)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("textual", "aiohttp", "requests", "sdk", "openapi", "openapi_util", "openapi_credential", "Tea",
             "OpenSSL", "rich", "socket", "ssl", "http", "urllib")


def test_doctor_sources_import_nothing_forbidden():
    bad = []
    for path in [*(ROOT / "sealtui" / "core" / "doctor").glob("*.py"), ROOT / "sealtui" / "core" / "yamlload.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for n in names:
                if n.split(".")[0] in FORBIDDEN or n.startswith(("sealtui.providers", "sealtui.screens", "sealtui.cli",
                                                                  "sealtui.sandbox", "sealtui.app", "sealtui.service")):
                    bad.append(f"{path.name}: {n}")
    assert not bad


def test_doctor_modules_stay_small():
    for path in (ROOT / "sealtui" / "core" / "doctor").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path.name


def test_running_doctor_loads_no_ui_or_sdk():
    probe = ("import sys, json\nfrom sealtui.cli import main\n"
             "main(['doctor', 'tests/fixtures/doctor/healthy/app.yaml', '--json'])\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert not loaded & {"textual", "sdk", "openapi", "Tea", "OpenSSL", "aiohttp", "rich"}
