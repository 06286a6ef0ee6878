"""Kubernetes Secret manifests: YAML, kubectl command, pod snippet."""

from __future__ import annotations

import base64
import shlex

import pytest
import yaml

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
