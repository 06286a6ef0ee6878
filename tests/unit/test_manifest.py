"""Kubernetes Secret manifests: YAML, kubectl command, pod snippet."""

from __future__ import annotations

import base64
import shlex

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sealtui.core.errors import InvalidInputError
from sealtui.core.manifest import build_manifest, parse_pairs

LONG = "sealed." + "a" * 300 + ".b.c"


def test_string_data_yaml_round_trips_without_folding():
    m = build_manifest("db-creds", {"password": LONG + "\n", "user": "sealed.x.y.z"}, "prod")
    text = m.to_yaml()
    doc = yaml.safe_load(text)
    assert doc == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-creds", "namespace": "prod"},
                   "type": "Opaque", "stringData": {"password": LONG, "user": "sealed.x.y.z"}}
    assert LONG in text.splitlines()[-2] or any(LONG in line for line in text.splitlines())


def test_data_form_is_base64_without_newline():
    doc = yaml.safe_load(build_manifest("s", {"k": LONG}, form="data").to_yaml())
    assert base64.b64decode(doc["data"]["k"]).decode() == LONG


def test_kubectl_command_quotes_values():
    cmd = build_manifest("s", {"k": LONG}, "ns").kubectl_command()
    assert shlex.split(cmd) == ["kubectl", "create", "secret", "generic", "s", "--namespace", "ns",
                                f"--from-literal=k={LONG}"]


def test_pod_snippet_references_every_key():
    snippet = yaml.safe_load(build_manifest("s", {"db.pass": LONG, "b": LONG}).pod_snippet())
    env = snippet["containers"][0]["env"]
    assert [e["name"] for e in env] == ["DB_PASS", "B"]
    assert env[0]["valueFrom"]["secretKeyRef"] == {"name": "s", "key": "db.pass"}
    assert snippet["volumes"][0]["secret"]["secretName"] == "s"


@pytest.mark.parametrize("name, ns, values", [
    ("Bad_Name", None, {"k": LONG}), ("ok", "Bad NS", {"k": LONG}), ("ok", None, {"bad key": LONG}),
    ("ok", None, {"k": "plain text"}), ("ok", None, {}),
])
def test_invalid_input_is_refused(name, ns, values):
    with pytest.raises(InvalidInputError):
        build_manifest(name, values, ns)


def test_parse_pairs_never_echoes_the_line():
    with pytest.raises(InvalidInputError) as e:
        parse_pairs(["hunter2-plaintext"])
    assert "hunter2" not in str(e.value)
    assert parse_pairs(["# c", "", "a=b=c"]) == {"a": "b=c"}


_KEYS = st.text(alphabet="abcXYZ019-._", min_size=1, max_size=20)
_VALUES = st.text(alphabet="ABCxyz019._-+/=", max_size=80).map(lambda s: "sealed." + s)
_ODD = st.text(max_size=20).map(lambda s: "sealed." + s.strip() + "x")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES | _ODD, min_size=1, max_size=6), st.sampled_from(["stringData", "data"]),
       st.sampled_from([None, "ns", "1", "yes"]), st.sampled_from(["x", "null", "1.5", "a-b.c"]))
def test_the_yaml_is_what_pyyaml_itself_writes(values, form, namespace, name):
    """`to_yaml` may use libyaml's C emitter: its output must be PyYAML's own, byte for byte, whatever the values."""
    manifest = build_manifest(name, values, namespace, form)
    expected = yaml.safe_dump(manifest.to_dict(), sort_keys=False, width=2**31 - 1, default_flow_style=False)
    assert manifest.to_yaml() == expected


def test_strings_libyaml_writes_otherwise_go_through_pyyaml():
    """A manifest made directly (not through `build_manifest`) may hold what the two emitters quote differently."""
    from sealtui.core.manifest import SecretManifest

    for values in ({"": "sealed.x"}, {"a\rb": "sealed.\u2028"}):
        manifest = SecretManifest("x", None, values)
        expected = yaml.safe_dump(manifest.to_dict(), sort_keys=False, width=2**31 - 1, default_flow_style=False)
        assert manifest.to_yaml() == expected
