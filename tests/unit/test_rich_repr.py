"""Notebook views (issue 11, item 23): a manifest, scan results and diff results render as HTML and Markdown, and
every string that came from outside is escaped in both."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

import sealtui
from sealtui.core.jws import JwkSigner, generate_jwk

HOSTILE = "<img src=x onerror=alert(1)>|*_`[x](javascript:alert(1))"
"""Text that would run script or break a table if it reached HTML or Markdown unescaped."""


@pytest.fixture(scope="module")
def sealed() -> tuple[str, str]:
    signer = JwkSigner(generate_jwk(HOSTILE))
    return (sealtui.seal_vault("kbs:///default/key/1", signer), sealtui.seal_vault("kbs:///default/key/2", signer))


def _unsafe(html: str) -> list[str]:
    """Tags that came from the hostile text (escaped, it shows as `&lt;img`)."""
    return re.findall(r"<img|<script", html)


def _markdown_safe(md: str) -> None:
    for line in md.splitlines():
        if line.startswith("    "):
            continue  # an indented code block: shown as it is
        assert "<img" not in line and "](javascript:" not in line, line
        if line.startswith("|"):
            assert HOSTILE not in line  # a raw | would split the cell


def test_item23_a_manifest_renders_in_a_notebook(sealed):
    m = sealtui.manifest("app", {"token": sealed[0]}, namespace="prod")
    html = m._repr_html_()
    assert "app" in html and "prod" in html and "token" in html and sealed[0] in html
    assert "<table" in html or "<pre" in html
    assert "token" in m._repr_markdown_()


def test_item23_a_manifest_escapes_what_it_shows():
    from sealtui.core.manifest import SecretManifest

    m = SecretManifest("app", None, {"k": "sealed." + HOSTILE})  # built by hand: unchecked
    assert _unsafe(m._repr_html_()) == []
    _markdown_safe(m._repr_markdown_())


def test_item23_scan_results_render_in_a_notebook(sealed, tmp_path: Path):
    (tmp_path / "a.yaml").write_text(f"kind: Secret\nmetadata:\n  name: {json.dumps(HOSTILE)}\n"
                                     f"stringData:\n  k: {sealed[0]}\n  bad: 'sealed.{HOSTILE}'\n")
    (tmp_path / f"b{HOSTILE.replace('/', '_')}.yaml").write_text("kind: [\n")
    result = sealtui.scan([tmp_path])
    assert len(result.values) == 2 and len(result.errors) == 1
    html = result._repr_html_()
    assert "<table" in html and "needs-key" in html and "rejected" in html and "a.yaml" in html
    assert _unsafe(html) == []
    md = result._repr_markdown_()
    assert "needs-key" in md and "rejected" in md
    _markdown_safe(md)


def test_item23_diff_results_render_in_a_notebook(sealed):
    values = sealtui.diff(*sealed)
    assert not values.same
    html = values._repr_html_()
    assert "<table" in html and "kbs:///default/key/1" in html and "kbs:///default/key/2" in html
    assert _unsafe(html) == []
    _markdown_safe(values._repr_markdown_())

    def manifest(value: str, kind: str = "data") -> str:
        body = base64.b64encode(value.encode()).decode() if kind == "data" else value
        return f"kind: Secret\nmetadata:\n  name: {json.dumps(HOSTILE)}\n{kind}:\n  k: {body}\n"

    manifests = sealtui.diff(manifest(sealed[0]), manifest(sealed[1]))
    html = manifests._repr_html_()
    assert "changed" in html and "resource_uri" in html and _unsafe(html) == []
    _markdown_safe(manifests._repr_markdown_())


def test_item23_the_inspection_report_escapes_its_markdown(sealed):
    report = sealtui.inspect("sealed.fakejwsheader." + base64.urlsafe_b64encode(json.dumps(
        {"version": HOSTILE, "type": "vault"}).encode()).decode().rstrip("=") + ".fakesignature")
    assert _unsafe(report._repr_html_()) == []
    _markdown_safe(report._repr_markdown_())
