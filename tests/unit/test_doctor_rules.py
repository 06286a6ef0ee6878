"""The doctor's rules one at a time: versions, modes, value sources, volume rules, Trustee layouts, policies."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sealtui.core.doctor import DoctorOptions, diagnose_text, run_doctor
from sealtui.core.doctor.guestconfig import parse_kernel_params
from sealtui.core.doctor.trustee import classify_policy, load_trustee, operator_path_problem
from sealtui.core.doctor.usage_checks import references
from sealtui.core.doctor.versions import parse_kata_version
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import JwkSigner, generate_jwk, load_jwk
from tests.fixtures.doctor import make_fixtures as mf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "doctor"
KEY = load_jwk(FIXTURES / "signing-private.json")


def build(tmp_path: Path, change=None, kata: str | None = "3.28", trustee: bool = True, **opts):
    spec = mf.healthy(KEY)
    if change:
        change(spec)
    mf.write(spec, tmp_path / "case")
    options = DoctorOptions(kata_version=kata, trustee=tmp_path / "case" / "trustee" if trustee else None, **opts)
    return run_doctor([tmp_path / "case" / "app.yaml"], options)


def statuses(run, check_id: str) -> list[str]:
    return [c.status for c in run.result.checks() if c.id == check_id]


def fails(run) -> set[str]:
    return {c.id for c in run.result.checks() if c.status == "fails"}


# --- kata versions and signature modes ------------------------------------------------------------------------

def test_kata_version_landmarks():
    assert parse_kata_version("3.27").verifies_signatures is False
    assert parse_kata_version("v3.28.0").verifies_signatures is True
    assert parse_kata_version("3.6").unseals_env is False and parse_kata_version("3.7").unseals_env
    assert parse_kata_version("3.12.1").needs_sealed_dir and not parse_kata_version("3.13").needs_sealed_dir
    assert "v0.18.0" in parse_kata_version("3.28").guest_components
    assumed = parse_kata_version(None)
    assert assumed.assumed and assumed.verifies_signatures
    with pytest.raises(InvalidInputError):
        parse_kata_version("latest")


def test_unsigned_values_pass_on_a_guest_older_than_signing(tmp_path):
    run = build(tmp_path, mf.CASES["13-signature-mode"], kata="3.27")
    assert not fails(run)


def test_unsigned_values_pass_with_skip_verification(tmp_path):
    def change(s):
        mf.CASES["13-signature-mode"](s)
        s.initdata["cdh.toml"] = mf.cdh_toml().replace("skip_sealed_secret_verification = false",
                                                       "skip_sealed_secret_verification = true")
    run = build(tmp_path, change)
    assert not fails(run)
    assert all(s == "ok" for s in statuses(run, "15-jws-header"))  # not read at all when skipped


def test_a_trailing_newline_is_harmless_when_verification_is_skipped(tmp_path):
    def change(s):
        mf.CASES["14-clean-value"](s)
        s.initdata["cdh.toml"] = mf.cdh_toml().replace("= false", "= true")
    assert not fails(build(tmp_path, change))


def test_no_kata_version_assumes_the_newest_and_says_so(tmp_path):
    run = build(tmp_path, mf.CASES["13-signature-mode"], kata=None)
    assert fails(run) == {"13-signature-mode"}
    assert "assumed" in run.result.kata_version and run.result.assumptions


def test_env_values_before_kata_3_7_stay_sealed(tmp_path):
    run = build(tmp_path, kata="3.6")
    by_source = {v.source: {c.id for c in v.checks if c.status == "fails"} for v in run.result.values}
    assert "13-signature-mode" in by_source["env"]
    assert "26-volume-scanned" in by_source["volume"]  # and no volumes before 3.10


def test_kata_3_11_unseals_only_under_sealed(tmp_path):
    run = build(tmp_path, kata="3.11")
    assert fails(run) == {"26-volume-scanned"}

    def under_sealed(s):
        s.container["volumeMounts"][0]["mountPath"] = "/sealed/keys"
    assert not fails(build(tmp_path / "2", under_sealed, kata="3.11"))


# --- signatures -----------------------------------------------------------------------------------------------

def test_a_signature_from_another_key_fails_17_and_marks_the_value(tmp_path):
    other = generate_jwk(mf.KID)

    def change(s):
        s.trustee["default/signing/pub"] = json.dumps(other.public_dict()).encode()
    run = build(tmp_path, change)
    assert fails(run) == {"17-kid-jwk"}
    assert run.result.signature_fails


def test_a_private_or_non_p256_jwk_at_the_kid(tmp_path):
    def change(s):
        s.trustee["default/signing/pub"] = b'{"kty": "RSA", "n": "x", "e": "AQAB"}'
    run = build(tmp_path, change)
    detail = next(c for c in run.result.checks() if c.id == "17-kid-jwk")
    assert detail.status == "fails" and "P256" in (detail.guest_message or "")

    def private(s):
        s.trustee["default/signing/pub"] = json.dumps(KEY.private_dict()).encode()
    run = build(tmp_path / "p", private)
    assert not fails(run)
    assert "private JWK" in next(c.detail for c in run.result.checks() if c.id == "17-kid-jwk")

    def not_json(s):
        s.trustee["default/signing/pub"] = b"-----BEGIN PUBLIC KEY-----"
    run = build(tmp_path / "2", not_json)
    assert next(c.guest_message for c in run.result.checks() if c.id == "17-kid-jwk") == "`JSON Parsing Error`"


def test_jwk_and_kid_map_check_signatures_without_a_trustee(tmp_path):
    run = build(tmp_path, trustee=False, jwk=KEY)
    assert all(v.signature_verified for v in run.result.values)
    assert set(statuses(run, "17-kid-jwk")) == {"cannot-tell"}  # verified, but provisioned?
    other = generate_jwk("x")
    run = build(tmp_path / "2", trustee=False, kid_map={mf.KID: other})
    assert run.result.signature_fails and "17-kid-jwk" in fails(run)


# --- where values come from -----------------------------------------------------------------------------------

POD = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  runtimeClassName: kata-qemu-tdx
  containers:
  - name: c
    envFrom:
    - prefix: APP_
      secretRef: {name: s}
    - configMapRef: {name: cm}
    volumeMounts:
    - {name: proj, mountPath: /etc/proj}
  volumes:
  - name: proj
    projected:
      sources:
      - secret:
          name: s
          items: [{key: a, path: nested/a}]
      - configMap: {name: cm}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {a: SEALED}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {b: SEALED}
"""


def sealed_vault(name: str = mf.TOKEN_URI) -> str:
    return mf.sign(mf.vault(name), JwkSigner(KEY))


def test_envfrom_configmaps_and_projected_volumes_are_found():
    run = diagnose_text(POD.replace("SEALED", sealed_vault()), DoctorOptions(kata_version="3.28"))
    names = sorted((v.source, v.name) for v in run.result.values)
    assert names == [("envFrom", "APP_a"), ("envFrom", "b"), ("volume", "/etc/proj/b"),
                     ("volume", "/etc/proj/nested/a")]
    nested = next(v for v in run.result.values if v.name.endswith("nested/a"))
    assert {c.id for c in nested.checks if c.status == "fails"} == {"26-volume-scanned"}  # not in the top level


def test_list_kinds_cronjobs_and_lines():
    cron = f"""apiVersion: v1
kind: List
items:
- apiVersion: batch/v1
  kind: CronJob
  metadata: {{name: nightly}}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            runtimeClassName: kata-remote
            containers:
            - name: job
              env:
              - name: T
                value: {sealed_vault()}
"""
    run = diagnose_text(cron, DoctorOptions(kata_version="3.28"), file="cron.yaml")
    (w,) = run.result.workloads
    assert (w.kind, w.name) == ("CronJob", "nightly")
    (v,) = w.values
    assert (v.file, v.line) == ("cron.yaml", 17)
    # a peer pod: its initdata may come from peer-pods-cm, and CDH's start order depends on the podvm image
    pod = {c.id: c.status for c in w.checks}
    assert pod["03-initdata-annotation"] == "cannot-tell" and pod["30-peer-pod-cdh-order"] == "cannot-tell"


def test_secrets_no_workload_uses_are_still_checked():
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: lonely}}\nstringData:\n  k: {sealed_vault('db')}\n"
    run = diagnose_text(secret, DoctorOptions(kata_version="3.28"))
    (v,) = run.result.values
    assert v.source == "secret" and "20-vault-name" in {c.id for c in v.checks if c.status == "fails"}


def test_a_warning_line_or_quotes_are_passed_through_silently():
    for bad in (f"Warning: Secrets must be provisioned to provider separately.\n{sealed_vault()}",
                f'"{sealed_vault()}"', f" {sealed_vault()}", "SEALED." + sealed_vault()[7:]):
        secret = ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: "
                  + base64.b64encode(bad.encode()).decode() + "\n")
        run = diagnose_text(secret, DoctorOptions(kata_version="3.28"))
        (v,) = run.result.values
        failing = {c.id: c for c in v.checks if c.status == "fails"}
        assert set(failing) == {"14-clean-value"}, bad
        assert "silent" in (failing["14-clean-value"].guest_message or "")


def test_data_that_is_not_base64_is_named():
    secret = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  k: {sealed_vault()}\n"
    run = diagnose_text(secret)
    (v,) = run.result.values
    (c,) = [c for c in v.checks if c.status == "fails"]
    assert c.id == "14-clean-value" and "not base64" in c.detail


def test_genpolicy_reads_data_not_stringdata(tmp_path):
    def change(s):
        s.initdata["policy.rego"] = "package agent_policy\n"
        s.secrets["app-secrets"]["stringData"] = {"db-password": mf.sign(mf.vault(mf.DB_URI), s.signer)}
        del s.secrets["app-secrets"]["data"]
    run = build(tmp_path, change)
    (c,) = [c for c in run.result.checks() if c.status == "fails"]
    assert c.id == "28-genpolicy" and "Couldn't get the value of env var: DB_PASSWORD" in (c.guest_message or "")


def test_splicing_in_args_and_escaped_references(tmp_path):
    assert references("a $(X) $$(Y) $(Z") == ["X"]

    def change(s):
        s.container["args"] = ["--password=$(DB_PASSWORD)"]
    run = build(tmp_path, change)
    assert fails(run) == {"24-env-splicing"}


def test_runtime_rs_skips_by_volume_name(tmp_path):
    def change(s):
        s.deployment["spec"]["template"]["spec"]["runtimeClassName"] = "kata-qemu-coco-dev-runtime-rs"
        s.container["volumeMounts"][0]["name"] = "etc-hosts"
        s.deployment["spec"]["template"]["spec"]["volumes"][0]["name"] = "etc-hosts"
    assert fails(build(tmp_path, change)) == {"26-volume-scanned"}

    def go_runtime(s):
        s.container["volumeMounts"][0]["mountPath"] = "/etc/known-hosts"
    assert fails(build(tmp_path / "2", go_runtime)) == {"26-volume-scanned"}


def test_kernel_params_instead_of_initdata(tmp_path):
    def change(s):
        s.initdata = {}
        s.annotation = None
        s.deployment["spec"]["template"]["metadata"]["annotations"][mf.KERNEL_PARAMS] = (
            f"agent.aa_kbc_params=cc_kbc::{mf.KBS} "
            + "cdh.kbs_resources=" + ",".join(f"kbs:///default/aliyun-kms/{n}::{mf.ALIYUN_DIR}/{n}" for n in (
                f"clientKey_{mf.CK}.json", f"password_{mf.CK}.json", f"PrivateKmsCA_{mf.INST}.pem")))
    spec = mf.healthy(KEY)
    change(spec)
    mf.write(spec, tmp_path / "k")
    # write() always sets the annotation; drop it to use the kernel params alone
    text = (tmp_path / "k" / "app.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if mf.ANNOTATION not in line)
    run = diagnose_text(text, DoctorOptions(kata_version="3.28", trustee=tmp_path / "k" / "trustee"))
    assert not fails(run)
    kp = parse_kernel_params("agent.aa_kbc_params=cc_kbc::http://k:8080 agent.guest_components_procs=none")
    assert kp.kbc == ("cc_kbc", "http://k:8080") and kp.procs == "none"
    assert parse_kernel_params("agent.aa_kbc_params=cc_kbc").kbc_error


def test_renamed_annotation_and_wrapped_base64(tmp_path):
    spec = mf.healthy(KEY)
    mf.write(spec, tmp_path / "a")
    text = (tmp_path / "a" / "app.yaml").read_text()
    renamed = text.replace(mf.ANNOTATION, "io.katacontainers.config.runtime.cc_init_data")
    run = diagnose_text(renamed, DoctorOptions(kata_version="3.28", trustee=tmp_path / "a" / "trustee"))
    assert fails(run) == {"03-initdata-annotation"}
    value = mf.encode_annotation(mf.build_initdata(spec.initdata).encode())
    wrapped = "|\n          " + "\n          ".join(value[i:i + 60] for i in range(0, len(value), 60))
    text = text.replace(value, wrapped)
    go = diagnose_text(text, DoctorOptions(kata_version="3.28", trustee=tmp_path / "a" / "trustee"))
    assert not fails(go)  # the Go runtime skips line breaks
    rs = diagnose_text(text.replace("kata-qemu-coco-dev", "kata-qemu-coco-dev-runtime-rs"),
                       DoctorOptions(kata_version="3.28", trustee=tmp_path / "a" / "trustee"))
    assert fails(rs) == {"04-initdata-encoding"}


# --- Trustee layouts and policies -----------------------------------------------------------------------------

SAMPLES = {
    "allow-all": mf.ALLOW_ALL,
    "denies-sample": mf.DEFAULT_POLICY,
    "deny-all": "# comment\npackage policy\n\ndefault allow = false\n",
    "affirming": "package policy\nimport rego.v1\n\ndefault allow = false\n\nallow if {\n    not any_not_affirming\n"
                 "}\n\nany_not_affirming if {\n    some _, submod in input.submods\n"
                 '    submod["ear.status"] != "affirming"\n}\n',
    "custom": 'package policy\ndefault allow = false\nallow if { input.x == "y" }\n',
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_resource_policies_are_recognised(kind):
    assert classify_policy(SAMPLES[kind]) == kind


def test_trustee_flat_store_and_operator_layouts(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "default\\x2Fapp\\x2Fdb").write_bytes(b"x")
    (flat / "policy.rego").write_text(mf.ALLOW_ALL)
    t = load_trustee(flat)
    assert t.mode == "local" and t.get("default/app/db") == b"x" and t.policy_kind == "allow-all"

    op = tmp_path / "op"
    op.mkdir()
    (op / "kbs.yaml").write_text("""
apiVersion: confidentialcontainers.org/v1alpha1
kind: KbsConfig
metadata: {name: kc, namespace: trustee-operator-system}
spec:
  kbsSecretResources: [app, missing]
---
apiVersion: v1
kind: Secret
metadata: {name: app, namespace: trustee-operator-system}
stringData: {db: x, .hidden: y}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: trustee-operator-system}
stringData: {k: z}
""")
    t = load_trustee(op)
    assert t.mode == "operator" and t.kbsconfig == "kc"
    assert t.get("default/app/db") == b"x" and t.get("default/app/.hidden") is None
    assert "does not list it" in t.missing_hint("default/other/k")
    assert any("missing" in n for n in t.notes)


def test_operator_path_rules():
    assert operator_path_problem("default/app/db") is None
    assert "'default'" in (operator_path_problem("myrepo/app/db") or "")
    assert "'_'" in (operator_path_problem("default/app_x/db") or "")
    assert operator_path_problem("default/app/.db")


# --- the verdict decides --------------------------------------------------------------------------------------

VALID = sealed_vault()


def _pod_with(value: str) -> list:
    from sealtui.core.yamlload import Document

    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "annotations": {mf.KERNEL_PARAMS: f"agent.aa_kbc_params=cc_kbc::{mf.KBS}"}},
           "spec": {"runtimeClassName": "kata-qemu-tdx",
                    "containers": [{"name": "c", "env": [{"name": "V", "value": value}]}]}}
    return [Document("p.yaml", 0, pod)]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.sampled_from(["delete", "insert", "replace"]),
       st.sampled_from([*"A.=+/_- \n{}\"'", "é", "\x00"]))
def test_a_rejected_verdict_always_fails_a_value_check(position, edit, char):
    """Mutations of a valid value: whenever the kata agent or CDH (verification on) refuses it, some value check
    fails; whenever both take it, none of the value checks that only restate the verdict does."""
    from sealtui.core.doctor import diagnose
    from sealtui.core.lint import inspect

    value = {"delete": VALID[:position] + VALID[position + 1:], "insert": VALID[:position] + char + VALID[position:],
             "replace": VALID[:position] + char + VALID[position + 1:]}[edit]
    run = diagnose(_pod_with(value), DoctorOptions(kata_version="3.28"))
    values = run.result.values
    report = inspect(value)
    assume(values)  # doctor looks only at values with a line that starts with `sealed.` (any case)
    failing = {c.id for c in values[0].checks if c.status == "fails" and c.id < "21"}
    refused = report.verdicts["kata-agent"] == "rejected" or report.verdicts["cdh"] == "rejected"
    if refused:
        assert failing, (value, report.summary)
    else:
        assert failing <= {"16-kid-uri", "19-provider"}, (value, failing)
