"""Hostile YAML: an alias bomb, a self-referring alias or deep nesting is an error naming the file, never a hang,
a memory blow-up or a traceback; every YAML read (scan, the kid map, resign, doctor) goes through
`sealtui.core.yamlload`, on the C loader and on the pure-Python one.

The commands run as real processes, each with a timeout and an address-space cap, so that the unfixed behaviour
(minutes and gigabytes) fails fast instead of hanging the suite; no test asserts a wall-clock time.
"""

from __future__ import annotations

import itertools
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sealtui.core import yamlload
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import JwkSigner, generate_jwk
from sealtui.core.scan import load_kid_map, scan_text
from sealtui.core.vault import seal_vault

ROOT = Path(__file__).resolve().parents[2]


def billion_laughs(levels: int = 8, width: int = 9) -> str:
    """The classic alias bomb: each level (a, b, c, ...) an anchored list of `width` aliases of the level below."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    lines = [f"a: &a [{','.join(['lol'] * width)}]"]
    lines += [f"{n}: &{n} [{','.join([f'*{p}'] * width)}]" for p, n in itertools.pairwise(names)]
    return "\n".join(lines) + "\n"


BOMB = billion_laughs()
"""289 bytes that expand to 9**8 (43 million) values."""

MERGE_BOMB = "a0: &a0 {k: sealed.x}\n" + "".join(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]}}\n"
                                                   for i in range(1, 12))
"""Merge keys (`<<`) copy the merged pairs when the document is constructed: 4**11 pairs."""


def _memory_cap() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sealtui", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, stdin=subprocess.DEVNULL, timeout=60, preexec_fn=_memory_cap)


def test_the_bomb_is_about_300_bytes_and_really_explodes():
    assert 250 <= len(BOMB.encode()) <= 300
    nodes = yaml.compose(BOMB, Loader=yaml.CSafeLoader)  # composing is cheap: aliases are shared nodes
    top = nodes.value[-1][1]
    assert len(top.value) == 9 and top.value[0] is top.value[1]


@pytest.mark.parametrize("command", ["scan", "doctor"])
def test_an_alias_bomb_fails_at_once_with_the_file_named(tmp_path, command):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    r = run(command, bomb)
    assert r.returncode == 3, r.stderr[-2000:]
    assert f"{bomb}: its YAML aliases (*name) expand to more than 10,000 further nodes" in r.stderr
    assert "alias bomb" in r.stderr and "Traceback" not in r.stderr
    assert "fix: write the repeated parts out" in r.stderr  # a file scan skips still says what to do


def test_a_merge_key_bomb_fails_doctor(tmp_path):
    bomb = tmp_path / "merge.yaml"
    bomb.write_text(MERGE_BOMB)
    r = run("doctor", bomb)
    assert r.returncode == 3, r.stderr[-2000:]
    assert "alias bomb" in r.stderr and "Traceback" not in r.stderr


def test_an_alias_bomb_fails_resign_and_the_kid_map(tmp_path):
    signer_files = generate_jwk("k")
    private = tmp_path / "k.json"
    private.write_text(json.dumps(signer_files.private_dict()))
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    r = run("resign", "--manifest", bomb, "--signing-jwk", private)
    assert r.returncode == 3 and "alias bomb" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
    (tmp_path / "m.yaml").write_text("kind: ConfigMap\n")
    r = run("scan", tmp_path / "m.yaml", "--kid-map", bomb)
    assert r.returncode == 3 and "alias bomb" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]


def test_diff_of_an_alias_bomb_fails(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("kind: Secret\n" + BOMB)
    r = run("diff", bomb, bomb)
    assert r.returncode == 3 and "alias bomb" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]


@pytest.fixture(params=["C", "pure-Python"])
def loader(request, monkeypatch):
    """Both of PyYAML's loaders: the C one (libyaml) when installed, and the pure-Python one."""
    if request.param == "C":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("PyYAML without libyaml")
    else:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    monkeypatch.setattr(yamlload, "_LOADER", None)  # the loader class is built once: build it again
    yield request.param
    yamlload._LOADER = None


def test_both_loaders_refuse_the_bomb(loader):
    for read in (yamlload.load_documents, yamlload.compose_documents, lambda text, f: list(scan_text(text, f))):
        with pytest.raises(InvalidInputError, match=r"^bomb\.yaml: its YAML aliases .* an alias bomb, refused"):
            read(BOMB, "bomb.yaml")


@pytest.mark.parametrize("text", ["a: &a [1, *a]\n", "a: &a {b: *a}\n", "- &x\n  - [*x]\n"])
def test_an_alias_inside_its_own_anchor_is_refused(loader, text):
    """PyYAML builds a cycle from these; anything walking it would never end (or overflow the stack)."""
    for read in (yamlload.load_documents, lambda t, f: list(scan_text(t, f))):
        with pytest.raises(InvalidInputError, match=r"^c\.yaml:\d+: a YAML alias refers to the anchor that contains"):
            read(text, "c.yaml")


def test_nesting_is_bounded(loader):
    ok = "- " * yamlload.MAX_DEPTH + "sealed.x\n"
    assert [v.path for v in scan_text(ok, "ok.yaml")] == ["[0]" * yamlload.MAX_DEPTH]
    assert yamlload.load_documents(ok, "ok.yaml")
    for deep in ("- " * (yamlload.MAX_DEPTH + 1) + "x\n", "[" * 5000 + "]" * 5000 + "\n"):
        for read in (yamlload.load_documents, yamlload.compose_documents):
            with pytest.raises(InvalidInputError, match=r"^deep\.yaml(:\d+)*: (nested deeper than 200 levels|"
                                                        r"not valid YAML)"):
                read(deep, "deep.yaml")


def test_depth_reached_through_an_alias_counts():
    half = yamlload.MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}x{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    with pytest.raises(InvalidInputError, match="nested deeper than 200 levels"):
        yamlload.load_documents(text, "f.yaml")


def test_deep_json_is_refused_by_the_json_fallback():
    """A `.json` file that YAML 1.1 refuses (a tab) is read as JSON: that path is bounded too."""
    text = "{\t\"a\": " + "[" * 3000 + "]" * 3000 + "}"
    with pytest.raises(InvalidInputError, match=r"^d\.json: nested deeper than 200 levels"):
        yamlload.load_documents(text, "d.json")


def test_a_value_python_cannot_build_is_an_error_not_a_traceback():
    """SafeLoader turns `2024-13-01` into a date (ValueError) and 5000 digits into an int (ValueError)."""
    for text in ("a: 2024-13-01\n", "a: " + "1" * 5000 + "\n"):
        with pytest.raises(InvalidInputError, match=r"^v\.yaml:1: a value in this document cannot be read"):
            yamlload.load_documents(text, "v.yaml")


# --- what keeps working -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sealed() -> str:
    return seal_vault("kbs:///default/key/1", JwkSigner(generate_jwk("kid-1")))


def test_ordinary_anchors_still_read_with_their_lines(loader, sealed):
    """An env block shared through an anchor: both containers' values are found, at the anchored lines."""
    text = (f"kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    env: &env\n"
            f"    - name: X\n      value: {sealed}\n  - name: b\n    env: *env\n")
    values = list(scan_text(text, "pod.yaml"))
    assert [(v.path, v.line) for v in values] == [("spec.containers[0].env[0].value", 9),
                                                  ("spec.containers[1].env[0].value", 9)]
    assert values[0].span == values[1].span and text[slice(*values[0].span)] == sealed
    (doc,) = yamlload.load_documents(text, "pod.yaml")
    assert doc.data["spec"]["containers"][1]["env"][0]["value"] == sealed


def test_a_large_file_that_leans_on_anchors_is_read(loader):
    """The bound grows with the file: 2,000 objects each reusing a 12-node block is 24,000 added nodes, more
    than `MAX_ALIAS_NODES` but less than `ALIAS_RATIO` times what is written out."""
    labels = "labels: &labels {" + ", ".join(f"k{i}: v{i}" for i in range(6)) + "}\n"
    items = "".join(f"- {{kind: ConfigMap, metadata: {{name: c{i}, labels: *labels}}}}\n" for i in range(2000))
    (doc,) = yamlload.load_documents("kind: List\n" + labels + "items:\n" + items, "many.yaml")
    assert len(doc.data["items"]) == 2000 and doc.data["items"][-1]["metadata"]["labels"]["k5"] == "v5"


def test_scan_reports_a_bomb_among_good_files_and_goes_on(tmp_path, sealed):
    (tmp_path / "a-bomb.yaml").write_text(BOMB)
    (tmp_path / "b-ok.yaml").write_text(f"kind: Secret\nmetadata:\n  name: s\nstringData:\n  k: {sealed}\n")
    r = run("scan", tmp_path, "--json")
    assert r.returncode == 3, r.stderr[-2000:]
    result = json.loads(r.stdout)
    assert result["files"] == 2 and [(v["file"], v["line"]) for v in result["values"]] == [
        (str(tmp_path / "b-ok.yaml"), 5)]
    assert [e["file"] for e in result["errors"]] == [str(tmp_path / "a-bomb.yaml")]
    assert "alias bomb" in result["errors"][0]["message"]


def test_kid_map_reads_yaml_through_the_loader(tmp_path):
    key = generate_jwk("kid-1")
    (tmp_path / "pub.json").write_text(json.dumps(key.public_dict()))
    (tmp_path / "map.yaml").write_text("kid-1: pub.json\nkid-2: &same pub.json\nkid-3: *same\n")
    assert sorted(load_kid_map(tmp_path / "map.yaml")) == ["kid-1", "kid-2", "kid-3"]
    (tmp_path / "bad.yaml").write_text("kid-1: [unclosed\n")
    with pytest.raises(InvalidInputError, match=r"bad\.yaml:2:1: not valid YAML"):
        load_kid_map(tmp_path / "bad.yaml")
