"""Nothing an input can do makes inspect raise, recurse without bound or take more than linear time: a document
100,000 levels deep (payload, header, bare), a 50 MB string, NULs and lone surrogates, through `sealtui.inspect`,
`sealtui inspect` and `sealtui inspect --json`. (The TUI's Inspect screen: tests/ui/test_inspect_robustness.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

import pytest

import sealtui
from tests.unit.sealed_builders import VAULT, b64u, check_report, fake, js

DEEP = 100_000
HEADER = b64u(js({"alg": "ES256", "kid": "k"}))
SIG = b64u(bytes(31) + b"\x01" + bytes(31) + b"\x01")


@cache
def nasty() -> dict[str, str]:
    return {
        "deep-payload": f"sealed.{HEADER}.{b64u('[' * DEEP + ']' * DEEP)}.{SIG}",
        "deep-payload-object": fake('{"a":' * DEEP + "1" + "}" * DEEP),
        "deep-header": f"sealed.{b64u('[' * DEEP)}.{b64u(js(VAULT))}.{SIG}",
        "deep-bare-json": '{"a":' * DEEP,
        "50MB-payload": fake(VAULT | {"name": "x" * 37_000_000}),
        "50MB-noise": "sealed." + "A.=+/\n" * 8_500_000,
        "NULs": "sealed.\x00\x00.\x00.\x00" + fake('{"\\u0000":"\\u0000","version":"0.1.0\\u0000"}'),
        "NUL-members": fake('{"version":"0.1.0","type":"vault","name":"kbs:///a/b/c\\u0000","provider":"kbs",'
                            '"provider_settings":{"\\u0000":1},"annotations":{}}'),
        "lone-surrogates": "sealed.\ud800.\udfff.x\udcff",
        "lone-surrogate-escapes": fake('{"version":"\\ud800","\\udfff":1}'),
    }


@pytest.mark.parametrize("name", list(nasty()))
def test_inspect_answers(name):
    report = sealtui.inspect(nasty()[name])
    check_report(report)
    assert report.verdicts["cdh"] == "rejected"


def test_deep_documents_are_refused_for_the_depth_and_not_shown():
    report = sealtui.inspect(nasty()["deep-payload-object"])
    assert report.payload is None
    assert "payload-too-deep" in {f.code for f in report.errors()}


def _cli(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sealtui", "inspect", *args, "-"], input=stdin,
                          capture_output=True, timeout=300)


CLI_CASES = ["deep-payload", "deep-header", "deep-bare-json", "50MB-payload", "NULs", "lone-surrogate-escapes"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_inspect_answers(name):
    r = _cli(stdin=nasty()[name].encode("utf-8"))
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr[-2000:]
    assert b"verdicts:" in r.stdout


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_inspect_json_answers(name):
    r = _cli("--json", stdin=nasty()[name].encode("utf-8"))
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr[-2000:]
    assert json.loads(r.stdout)["verdicts"]["cdh"] == "rejected"


@pytest.mark.parametrize("raw", [b"sealed.\xed\xa0\x80.x.y", b"sealed.\xff\xfe.x.y", b"\x00" * 10])
def test_cli_inspect_takes_bytes_that_are_not_utf8(raw):
    for args in ((), ("--json",)):
        r = _cli(*args, stdin=raw)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
        r.stdout.decode("utf-8")  # the report itself is UTF-8
    report = json.loads(_cli("--json", stdin=raw).stdout)
    if raw.startswith(b"sealed."):
        assert report["decisions"]["cdh"]["error"] == "parse SealedSecret failed: Secret string must be UTF-8"
