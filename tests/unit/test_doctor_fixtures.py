"""Each fixture under tests/fixtures/doctor breaks exactly one check of the checklist; `healthy` breaks none.

The fixtures are written by tests/fixtures/doctor/make_fixtures.py (a healthy Deployment with its Secrets, its
initdata and a KBS resource store, then one change per case). The guest messages and fixes are checked against
the checklist of guest-facts.md §9, whose backticked messages are copied into GUEST below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sealtui.core.doctor import CHECKS, DoctorOptions, run_doctor

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "doctor"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name[:2].isdigit())

ALSO_FAILS = {"27-volume-one-bad-file": {"13-signature-mode"}}
"""A bad file blocks its neighbours (27) only because it fails a check of its own."""

GUEST = {
    "01-runtime-class": ["attestation binaries requested for launch not available",
                         "/usr/local/bin/confidential-data-hub not found"],
    "02-cdh-enabled": ["silent"],
    "03-initdata-annotation": ["offline-fs-kbc: resource not found default/…"],
    "04-initdata-encoding": ["initdata create gzip reader error: …", "uncompressing initdata with gzip error: …"],
    "05-initdata-header": ["unsupported version: X, expected: 0.1.0", "unsupported algorithm: …",
                           "parse initdata failed", "parsing initdata annotation failed"],
    "06-initdata-keys": ["silent"],
    "07-initdata-config-kept": ["offline_fs_kbc"],
    "08-initdata-digest": ["The initdata supplied by the parameter is inconsistent with that of the current platform.",
                           "Host Data Mismatch", "MRCONFIGID is different from that in TDX Quote",
                           "request unauthorized"],
    "09-cdh-toml-parses": ["failed to read config file /run/confidential-containers/initdata/cdh.toml",
                           "invalid config"],
    "10-kbc": ["offline-fs-kbc: resource not found …",
               "only support cc_kbc(feature kbs) and offline_fs_kbc."],
    "11-cdh-socket": ["/run/confidential-containers/cdh.sock"],
    "12-aa-kbs": ["kbs token config not configured in config file", "Authenticating with KBS failed …",
                  "request unauthorized", "http request failed: get failed: …"],
    "13-signature-mode": ["parse SealedSecret failed: Failed to parse JWS", "malformed input sealed secret"],
    "14-clean-value": ["Failed to parse JWS"],
    "15-jws-header": ["Could not find kid", "Could not get algorithm",
                      "Signing key error: JWS algorithm must be ES256"],
    "16-kid-uri": ["KID is invalid. Must be a KBS URI or a credential path.", "IO Operation Failed: …",
                   "Invalid KID Key Path"],
    "17-kid-jwk": ["Failed to get key from KMS: Kbs client error: get resource failed: UnAuthorized",
                   "JSON Parsing Error", "Signing key error: Key must be P256", "Signature Error: …"],
    "18-payload": ["malformed input sealed secret format (json deserialization failed)",
                   "version not supported, only 0.1.0 supported"],
    "19-provider": ["Unsupported provider: aws"],
    "20-vault-name": ["Kbs client error: illegal kbs resource uri: …", "kms interface when get secret from provider",
                      "request unauthorized"],
    "21-trustee-path": ["Request path … is invalid", "resource not found (401)"],
    "22-resource-policy": ["request unauthorized", "Access denied by policy"],
    "23-credentials": ["init Hub failed: illegal path to put credential : …",
                       "init Hub failed: kbs client get resource failed: …"],
    "24-env-splicing": ["silent"],
    "25-env-utf8": ["Failed to unseal secret: invalid utf-8 sequence …"],
    "26-volume-scanned": ["Failed to unseal file: \"<src>\", Error: Not a directory …"],
    "27-volume-one-bad-file": ["Failed to unseal file: …"],
    "28-genpolicy": ["Couldn't get the value of env var: X", "Couldn't get values from secret ref: Y",
                     "CreateContainerRequest is blocked by policy: …"],
    "30-peer-pod-cdh-order": ["Failed to probe CDH socket file …"],
}
"""The guest's own messages from each row of guest-facts.md §9 (the `23-provider-files` row is from GC's aliyun
client, cited in the catalog)."""


def doctor(case: str):
    d = FIXTURES / case
    return run_doctor([d / "app.yaml"], DoctorOptions(kata_version="3.28", trustee=d / "trustee"))


def failing(run) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in run.result.checks():
        if c.status == "fails":
            out.setdefault(c.id, []).append(c)
    return out


def test_there_are_fixtures_for_at_least_20_checks():
    numbers = {c[:2] for c in CASES}
    assert len(numbers) >= 20, numbers


def test_the_healthy_deployment_is_ok_everywhere():
    run = doctor("healthy")
    statuses = {(c.id, c.status) for c in run.result.checks()}
    assert all(s == "ok" for _, s in statuses), sorted(x for x in statuses if x[1] != "ok")
    assert len(run.result.values) == 3  # secretKeyRef env, literal env, volume file
    assert not run.result.problems and not run.result.would_stay_sealed
    assert run.result.workloads[0].initdata is not None


@pytest.mark.parametrize("case", CASES)
def test_each_fixture_fails_exactly_its_check(case):
    run = doctor(case)
    fails = failing(run)
    assert set(fails) == {case} | ALSO_FAILS.get(case, set()), {k: [c.detail for c in v] for k, v in fails.items()}
    assert run.result.would_stay_sealed


@pytest.mark.parametrize("case", CASES)
def test_a_failure_says_what_the_guest_says_and_the_fix(case):
    for check in failing(doctor(case))[case]:
        spec = CHECKS[case]
        assert check.fix, case
        messages = GUEST.get(case)
        if messages:
            # The catalog's text carries every message of the checklist row, and the check says one of them
            # (or a more precise form of one: the same words with the value filled in).
            assert all(m.rstrip(" …").split(": X")[0] in spec.guest for m in messages), (case, spec.guest)
            words = [m.rstrip(" …").split(" X")[0].split(": X")[0].split("`")[0][:24] for m in messages]
            assert any(w and w in (check.guest_message or "") for w in words), (case, check.guest_message)
        assert check.detail and check.title


def test_every_checklist_row_but_advice_has_a_check():
    numbers = {s.number for s in CHECKS.values()}
    assert numbers == set(range(1, 32)) - {29, 31}


def test_the_bad_file_case_blames_the_neighbour_not_itself():
    run = doctor("27-volume-one-bad-file")
    values = {v.name: v for v in run.result.values}
    bad, good = values["/etc/app/keys/old-key"], values["/etc/app/keys/api-key"]
    assert {c.id for c in bad.checks if c.status == "fails"} == {"13-signature-mode"}
    assert {c.id for c in good.checks if c.status == "fails"} == {"27-volume-one-bad-file"}


def test_without_a_trustee_the_resource_checks_cannot_tell():
    d = FIXTURES / "healthy"
    run = run_doctor([d / "app.yaml"], DoctorOptions(kata_version="3.28"))
    cannot = {c.id for c in run.result.checks() if c.status == "cannot-tell"}
    assert cannot == {"17-kid-jwk", "20-vault-name", "22-resource-policy", "23-credentials", "25-env-utf8"}
    assert not run.result.would_stay_sealed
    for c in run.result.checks():
        if c.status == "cannot-tell":
            assert c.would_tell
