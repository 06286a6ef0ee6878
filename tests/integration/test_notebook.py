"""examples/sealtui.ipynb, executed in a real Jupyter kernel (issue 11, item 23): inspect, a manifest, scan and diff
each render as HTML with what they should show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "sealtui.ipynb"


def _html(cell: Any) -> str:
    """The text/html output of a code cell (its result), failing when there is none."""
    htmls = [o["data"]["text/html"] for o in cell.outputs if o.get("output_type") == "execute_result"
             and "text/html" in o.get("data", {})]
    assert htmls, f"no HTML output for:\n{cell.source}\noutputs: {cell.outputs}"
    return "".join(htmls)


def test_item23_the_example_notebook_renders_html_in_a_real_kernel(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored without outputs
    # The kernel's connection file and IPython's profile go here, not into the home of whoever runs the tests.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    code = {c.source.splitlines()[-1]: c for c in nb.cells if c.cell_type == "code"}

    report = _html(code["sealtui.inspect(db, jwk=files.public_path)"])
    assert "signed-jws" in report and "<table>" in report and "accepted" in report

    manifest = _html(code["manifest"])
    assert "Secret app in namespace prod" in manifest and "db-password" in manifest and "api-key" in manifest
    assert "kbs:///default/signing/demo" in manifest and "sealed." in manifest

    scan = _html(code["sealtui.scan(k8s, jwk=files.public_path)"])
    assert "3 sealed value(s) in 2 file(s); 1 rejected by cdh" in scan
    assert "verified" in scan and "fake-jws" in scan and "legacy.yaml" in scan

    values = _html(code["sealtui.diff(db, api)"])
    assert "kbs:///default/app/db-password" in values and "kbs:///default/app/api-key" in values

    manifests = _html(code["sealtui.diff(manifest.to_yaml(), renamed.to_yaml())"])
    assert "changed" in manifests and "Secret/app:stringData.db-password" in manifests
