"""`sealtui.service.doctor`: what the CLI and the Doctor screen share (options as given, order, provision text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealtui.core.errors import InvalidInputError, UsageError
from sealtui.service.doctor import check_manifests, failures_first, parse_paths, provision_text, value_plan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "doctor"


def test_one_value_s_plan_holds_its_own_resources_with_the_run_s_kbs() -> None:
    run = check_manifests([FIXTURES / "13-signature-mode" / "app.yaml"], kata_version="3.28")
    token = next(v for v in run.result.values if v.name == "TOKEN")
    plan = value_plan(run, token)
    assert [i.resource for i in plan.items] == ["default/signing/pub", "default/app/token"]
    assert plan.kbs_url == run.plan.kbs_url == "http://kbs.example:8080"
    assert len(run.plan.items) > len(plan.items)  # the run's plan is untouched
    text = provision_text(plan)
    assert "set-resource --path default/signing/pub --resource-file ./default_signing_pub-public.json" in text
    assert "set-resource --path default/app/token --resource-file ./token" in text
    assert "db-password" not in text


def test_failures_first_keeps_file_order_within_a_status() -> None:
    run = check_manifests([FIXTURES / "23-provider-files"], kata_version="3.28",
                          trustee=FIXTURES / "23-provider-files" / "trustee")
    values = run.result.workloads[0].containers[0].values
    assert [v.name for v in values] == ["DB_PASSWORD", "TOKEN", "/etc/app/keys/api-key"]
    assert [v.name for v in failures_first(values)] == ["/etc/app/keys/api-key", "DB_PASSWORD", "TOKEN"]


def test_bad_options_are_refused_with_their_fix(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no manifest path"):
        check_manifests(["", " "])
    with pytest.raises(UsageError, match="not both"):
        check_manifests([FIXTURES / "healthy"], jwk="a.json", kid_map="b.yaml")
    with pytest.raises(InvalidInputError, match="no such file"):
        check_manifests([tmp_path / "missing"])
    assert parse_paths("a 'b c' d\\ e") == ["a", "b c", "d e"]
    with pytest.raises(InvalidInputError, match="cannot be split") as e:
        parse_paths("'a")
    assert e.value.fix
