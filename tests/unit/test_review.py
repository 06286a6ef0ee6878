"""Scan, diff and re-sign: reviewer workflows that need no KMS."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
import yaml

from sealtui.core.codec import encode_sealed
from sealtui.core.diff import diff_manifests, diff_values
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import JwkSigner, load_jwk
from sealtui.core.lint import inspect
from sealtui.core.models import payload_from_dict
from sealtui.core.resign import resign, resign_manifest
from sealtui.core.scan import scan, scan_text

from .conftest import GC, gc_json

VAULT = gc_json("vault-2.json")
VAULT_JSON = json.dumps(VAULT)


def b64url(s: str) -> str:
    return base64.urlsafe_b64encode(s.encode()).rstrip(b"=").decode()


LEGACY = {
    "fake-jws": f"sealed.fakejwsheader.{b64url(VAULT_JSON)}.fakesignature",
    "fake-jws-padded": "sealed.fakejwsheader."
                       + next(b for b in (base64.b64encode((VAULT_JSON + " " * n).encode()).decode() for n in range(3))
                              if "=" in b) + ".fakesignature",
    "legacy-base64": f"sealed.{base64.b64encode(VAULT_JSON.encode()).decode()}",
    "bare-json": VAULT_JSON,
}


@pytest.fixture(scope="module")
def signer():
    return JwkSigner(load_jwk(GC / "test-key.json"))


@pytest.fixture(scope="module")
def signed(signer):
    return encode_sealed(payload_from_dict(VAULT), signer)


def manifest(signed: str) -> str:
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  token: {base64.b64encode(signed.encode()).decode()}
  plain: aGVsbG8=
stringData:
  legacy: "{LEGACY['fake-jws']}\\n"
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: app
              env:
                - name: TOKEN
                  value: {signed}
                - name: OTHER
                  value: not-sealed
"""


def test_scan_finds_every_kind_of_place(signed, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.yaml").write_text(manifest(signed))
    (tmp_path / "ignored.txt").write_text(signed)
    (tmp_path / "broken.yaml").write_text("kind: [unclosed")
    result = scan([tmp_path])
    found = {(v.resource, v.path): v for v in result.values}
    assert set(found) == {("Secret/creds", "data.token"), ("Secret/creds", "stringData.legacy"),
                          ("Deployment/web", "items[0].spec.template.spec.containers[0].env[0].value")}
    assert found[("Secret/creds", "data.token")].encoding == "base64"
    assert found[("Secret/creds", "data.token")].line == 6
    assert found[("Secret/creds", "stringData.legacy")].report.verdicts["cdh"] == "rejected"
    assert result.files == 2 and len(result.errors) == 1 and "broken.yaml" in result.errors[0].file


def test_scan_verifies_with_kid_map(signed, tmp_path):
    (tmp_path / "m.yaml").write_text(manifest(signed))
    (tmp_path / "kids.yaml").write_text(f"test-key: {GC / 'test-key.json'}\n")
    r = subprocess.run([sys.executable, "-m", "sealtui", "scan", str(tmp_path / "m.yaml"), "--kid-map",
                        str(tmp_path / "kids.yaml"), "--json"], capture_output=True, text=True)
    data = json.loads(r.stdout)
    verified = [v["signature"]["verified"] for v in data["values"] if v["form"] == "signed-jws"]
    assert verified == [True, True]
    assert r.returncode == 3 and data["rejected"] == 1  # the legacy value gates the exit code


def test_scan_exit_zero_when_clean(signed, tmp_path):
    (tmp_path / "ok.json").write_text(json.dumps({"kind": "Secret", "metadata": {"name": "x"},
                                                  "stringData": {"a": signed}}))
    r = subprocess.run([sys.executable, "-m", "sealtui", "scan", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 sealed value(s) in 1 file(s); 0 rejected by cdh" in r.stdout


@pytest.mark.parametrize("form", sorted(LEGACY))
def test_resign_turns_legacy_forms_canonical(form, signer):
    text = LEGACY[form] + ("\n" if form == "fake-jws" else "")
    result = resign(text, signer)
    report = inspect(result.sealed, load_jwk(GC / "test-key.json"))
    assert report.form == "signed-jws" and set(report.verdicts.values()) == {"accepted"}
    assert report.payload["name"] == VAULT["name"]
    assert result.from_form == form


def test_resign_refuses_invalid_payloads(signer):
    bad = dict(VAULT, version="9.9")
    with pytest.raises(InvalidInputError, match=r"payload itself is invalid.*9\.9"):
        resign(f"sealed.fakejwsheader.{b64url(json.dumps(bad))}.fakesignature", signer)
    with pytest.raises(InvalidInputError, match="does not decode"):
        resign("sealed.fakejwsheader.!!.fakesignature", signer)


def test_resign_adds_what_cdh_requires(signer):
    old = {"version": "0.1.0", "type": "vault", "name": "secret-1", "provider": "aliyun",
           "provider_settings": {"client_key_id": "KAAP.1", "kms_instance_id": "kst-1"}}
    result = resign(json.dumps(old), signer)
    assert inspect(result.sealed).verdicts["cdh-skip-verification"] == "accepted"
    assert any("client_type" in c for c in result.changes) and any("annotations" in c for c in result.changes)


def test_resign_manifest_rewrites_only_sealed_scalars(signed, signer):
    text = manifest(signed)
    new_text, done = resign_manifest(text, signer)
    assert len(done) == 1  # only the legacy value; the others are already signed by this kid
    assert "aGVsbG8=" in new_text and "not-sealed" in new_text
    values = {v.path: v for v in scan_text(new_text)}
    assert values["stringData.legacy"].report.form == "signed-jws"
    assert list(yaml.safe_load_all(new_text))[1]["items"][0]["metadata"]["name"] == "web"


def test_diff_values_never_shows_plaintext(signed):
    rows = {r.field: r for r in diff_values(signed, LEGACY["fake-jws"])}
    assert not rows["form"].same and rows["resource_uri"].same
    assert rows["kid"].a == "test-key" and rows["kid"].b is None


def test_diff_manifests(signed, signer):
    a = manifest(signed)
    b, _ = resign_manifest(a, signer)
    entries = {e.key: e.status for e in diff_manifests(a, b)}
    assert entries["Secret/creds:stringData.legacy"] == "changed"
    assert entries["Secret/creds:data.token"] == "same"


def _scan_dir(tmp_path, signed, files: int):
    d = tmp_path / f"scan-{files}"
    d.mkdir()
    for i in range(files):
        (d / f"m{i:04d}.yaml").write_text(manifest(signed) if i % 7 else manifest(signed[:-4] + "AAAA"))
    (d / "broken.yaml").write_text("a: [\n")
    return d


def test_the_streamed_scan_report_is_the_kept_one(tmp_path, signed):
    """`write_scan_json` writes what `scan_result_json` of the whole result says, byte for byte, and counts what the
    exit code depends on; a Scan keeps none of the values it has reported."""
    import io

    from sealtui.core.scan import Scan, scan_result_json, write_scan_json

    d = _scan_dir(tmp_path, signed, 15)
    key = load_jwk(GC / "test-key.json")
    for jwk, consumer in ((None, "cdh"), (key, "cdh"), (key, "cdh-skip-verification")):
        kept = scan([d], jwk)
        out = io.StringIO()
        running = Scan([d], jwk)
        counts = write_scan_json(running, out, consumer)
        assert out.getvalue() == scan_result_json(kept, consumer)
        assert counts.values == len(kept.values) > 0
        assert counts.rejected == len(kept.rejected(consumer))
        assert counts.bad_signatures == sum(v.report.signature.verified is False for v in kept.values)
        assert [e.file for e in running.errors] == [str(d / "broken.yaml")]
        assert not [v for v in vars(running).values() if isinstance(v, list) and len(v) >= counts.values]
    empty = tmp_path / "empty"
    empty.mkdir()
    out = io.StringIO()
    write_scan_json(Scan([empty]), out)
    assert out.getvalue() == scan_result_json(scan([empty]))


def test_a_streamed_scan_does_not_grow_with_the_number_of_files(tmp_path, signed, monkeypatch):
    """While `write_scan_json` runs, the reports of values already written are gone: at most one file's worth is
    alive at any time, however many files there are."""
    import gc
    import io
    import weakref

    from sealtui.core import scan as scan_module

    refs: list[weakref.ref[object]] = []
    most = 0
    values = scan_module.Scan.values

    def tracked(self):
        nonlocal most
        for v in values(self):
            gc.collect()
            most = max(most, sum(r() is not None for r in refs))
            refs.append(weakref.ref(v.report))
            yield v

    monkeypatch.setattr(scan_module.Scan, "values", tracked)
    scan_module.write_scan_json(scan_module.Scan([_scan_dir(tmp_path, signed, 40)]), io.StringIO())
    assert 0 < most <= 3, most  # the values of one file (3 here) at most
