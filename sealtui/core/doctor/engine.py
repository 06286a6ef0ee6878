"""Run every check over a set of manifests: each workload's pod checks, then each of its values' checks.

Secrets and ConfigMaps are resolved across all the files given. A sealed value in a Secret that no workload in the
files uses is still checked (as far as a value can be without its pod) and provisioned, under the Secret itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sealtui.core.doctor.catalog import ADVICE
from sealtui.core.doctor.k8s import ContainerValues, FoundValue, Inventory, collect, container_values, looks_sealed
from sealtui.core.doctor.model import Check, Container, DoctorResult, InputProblem, Value, Workload, make_check
from sealtui.core.doctor.pod_checks import GuestSetup, pod_checks
from sealtui.core.doctor.provision import ProvisionPlan, value_provision
from sealtui.core.doctor.resource_checks import resource_checks
from sealtui.core.doctor.trustee import Trustee, load_trustee
from sealtui.core.doctor.usage_checks import one_bad_file, usage_checks
from sealtui.core.doctor.value_checks import Examined, examine, value_checks
from sealtui.core.doctor.versions import KataRelease, parse_kata_version
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import Jwk
from sealtui.core.yamlload import Document, iter_manifest_files, load_documents, load_file


@dataclass
class DoctorOptions:
    kata_version: str | None = None
    """The kata release the pods run on (decides env/volume support and signature verification)."""
    trustee: str | os.PathLike[str] | Trustee | None = None
    jwk: Jwk | None = None
    kid_map: Mapping[str, Jwk] | None = None
    credentials_dir: str = "credentials"
    """Where the provider's client-key files are on this machine, to name them in the provision commands."""


@dataclass
class DoctorRun:
    """The result and the provisioning plan of one run."""

    result: DoctorResult
    plan: ProvisionPlan = field(default_factory=ProvisionPlan)


def run_doctor(paths: Iterable[str | os.PathLike[str]], options: DoctorOptions | None = None) -> DoctorRun:
    """Check every manifest file under `paths`; a file that does not parse is reported, not raised."""
    documents: list[Document] = []
    problems: list[InputProblem] = []
    files = 0
    for path in iter_manifest_files(paths):
        files += 1
        try:
            documents += load_file(path)
        except InvalidInputError as e:
            problems.append(InputProblem(str(path), e.message, e.fix))
    run = diagnose(documents, options)
    run.result.files, run.result.problems = files, problems + run.result.problems
    return run


def diagnose_text(text: str, options: DoctorOptions | None = None, file: str = "<text>") -> DoctorRun:
    return diagnose(load_documents(text, file), options)


def diagnose(documents: list[Document], options: DoctorOptions | None = None) -> DoctorRun:
    opts = options or DoctorOptions()
    kata = parse_kata_version(opts.kata_version)
    trustee = opts.trustee if isinstance(opts.trustee, Trustee) or opts.trustee is None else load_trustee(opts.trustee)
    inv = collect(documents)
    result = DoctorResult(kata_version=kata.text, advice=list(ADVICE))
    run = DoctorRun(result)
    if trustee is not None:
        run.plan.namespace = trustee.namespace
        run.plan.kbsconfig = trustee.kbsconfig or run.plan.kbsconfig
        result.assumptions += [f"--trustee {trustee.source}: {n}" for n in trustee.notes]
    if kata.assumed:
        result.assumptions.append(f"assumed {kata.text.split(' (')[0]}, the newest release doctor knows (it verifies "
                                  "signatures); pass --kata-version for yours")
    used: set[tuple[str, str, str | None, str]] = set()
    for tpl in inv.templates:
        checks, setup, info = pod_checks(tpl, inv, kata, trustee)
        workload = Workload(tpl.kind, tpl.name, tpl.namespace, tpl.file, tpl.line, setup.runtime_class, checks,
                            initdata=info)
        mounts: dict[tuple[str, str, str], list[tuple[FoundValue, list[Check]]]] = {}
        for cv in container_values(tpl, inv):
            container = Container(cv.name, notes=cv.notes)
            for found in cv.values:
                value = _value(found, cv, setup, trustee, opts, run.plan)
                container.values.append(value)
                if found.data_object is not None:
                    o = found.data_object
                    used.add((o.kind, o.name, o.namespace, found.key or ""))
                if found.source == "volume":
                    mounts.setdefault((cv.name, found.volume or "", found.mount_path or ""), []).append(
                        (found, value.checks))
            workload.containers.append(container)
        one_bad_file(mounts)
        if workload.values:
            if run.plan.kbs_url is None and setup.kbs_url:
                run.plan.kbs_url, run.plan.kbs_ca = setup.kbs_url, bool(setup.cdh and setup.cdh.kbs_cert)
            result.workloads.append(workload)
    result.workloads += _unused(inv, used, kata, trustee, opts, run.plan)
    return run


def _value(found: FoundValue, cv: ContainerValues | None, setup: GuestSetup, trustee: Trustee | None,
           opts: DoctorOptions, plan: ProvisionPlan) -> Value:
    ex = examine(found, setup, trustee, opts.jwk, opts.kid_map)
    checks = value_checks(ex) + resource_checks(ex)
    if cv is not None:
        checks += usage_checks(ex, cv)
    else:
        checks = [c if c.id != "23-provider-files" or c.status == "ok" else
                  make_check(c.id, "cannot-tell", "no workload in these files uses this Secret",
                             would_tell="the pod that uses it: its cdh.toml [[credentials]]") for c in checks]
    items = [] if ex.stops else value_provision(ex, trustee, opts.credentials_dir)
    plan.add(items)
    return _to_value(ex, checks, items)


def _to_value(ex: Examined, checks: list[Check], items: list) -> Value:
    f, r = ex.found, ex.report
    return Value(f.container, f.source, f.name, f.origin, f.text, f.file, f.line, checks, items, form=r.form,
                 kind=r.kind, kid=r.signature.kid, signature_verified=r.signature.verified, summary=r.summary)


def _unused(inv: Inventory, used: set[tuple[str, str, str | None, str]], kata: KataRelease,
            trustee: Trustee | None, opts: DoctorOptions, plan: ProvisionPlan) -> list[Workload]:
    out = []
    setup = GuestSetup(kata)
    for objects in inv.objects.values():
        for o in objects:
            keys = [k for k in sorted(set(o.items) | set(o.raw))
                    if (o.kind, o.name, o.namespace, k) not in used and looks_sealed(o.items.get(k, o.raw.get(k, "")))]
            if not keys:
                continue
            w = Workload(o.kind, o.name, o.namespace, o.file, o.line,
                         notes=["no workload in these files uses these values: the pod checks were not run"])
            container = Container("(no workload)")
            for k in keys:
                raw = o.items.get(k, o.raw.get(k, "").encode())
                found = FoundValue("(no workload)", "secret", k, raw, f"{o.kind}/{o.name} key {k} "
                                   f"({o.field_of.get(k, 'data')})", o.file, o.line_of(k), o, k)
                container.values.append(_value(found, None, setup, trustee, opts, plan))
            w.containers.append(container)
            out.append(w)
    return out
