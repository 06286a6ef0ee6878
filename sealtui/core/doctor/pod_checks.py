"""Checks of the pod as a whole, in the order the guest meets them: runtime class, kernel params, the initdata
annotation, cdh.toml, aa.toml, credentials, peer-pod start order (checklist 1–12, 23, 30).

The result is the checks and a `GuestSetup`: what the guest will run with (CDH config, signature mode, KBS URL),
which the value checks then use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sealtui.core.doctor import guestconfig as gc
from sealtui.core.doctor.initdata import (
    ANNOTATION,
    KERNEL_PARAMS,
    KNOWN_KEYS,
    Initdata,
    InitdataError,
    decode_annotation,
    parse_initdata,
)
from sealtui.core.doctor.k8s import Inventory, PodTemplate
from sealtui.core.doctor.model import Check, InitdataInfo, blocked, make_check, not_applicable
from sealtui.core.doctor.trustee import Trustee, resource_path
from sealtui.core.doctor.versions import KataRelease

_COCO = re.compile(r"^kata-(?P<shim>qemu-coco-dev|qemu-tdx|qemu-snp|qemu-se|qemu-nvidia-gpu-tdx|qemu-nvidia-gpu-snp"
                   r"|remote)(?P<rs>-runtime-rs)?(-[a-z0-9][a-z0-9-]*)?$")
"""kata-deploy's CoCo RuntimeClasses, `kata-<shim>[-runtime-rs][-<multiInstallSuffix>]` (guest-facts.md §5.5)."""


@dataclass
class GuestSetup:
    """What the guest of one pod runs with, as far as the files tell."""

    kata: KataRelease
    runtime_class: str | None = None
    shim: str | None = None
    runtime_rs: bool = False
    cdh: gc.CdhConfig | None = None
    """The CDH config (from cdh.toml or the kernel params); None when unknown or broken."""
    cdh_blocker: str | None = None
    """When `cdh` is None: the failing check that hides it."""
    credentials: dict[str, str] = field(default_factory=dict)
    """guest path → resource URI, from [[credentials]] and cdh.kbs_resources."""
    policy_rego: str | None = None
    has_initdata: bool = False

    @property
    def peer_pod(self) -> bool:
        return self.shim == "remote"

    @property
    def coco_dev(self) -> bool:
        return self.shim == "qemu-coco-dev"

    @property
    def skip_verification(self) -> bool:
        return bool(self.cdh and self.cdh.skip_verification)

    @property
    def kbs_url(self) -> str | None:
        return self.cdh.kbc_url if self.cdh and self.cdh.kbc_url else None


def pod_checks(tpl: PodTemplate, inv: Inventory, kata: KataRelease,
               trustee: Trustee | None) -> tuple[list[Check], GuestSetup, InitdataInfo | None]:
    setup = GuestSetup(kata)
    checks = [_runtime_class(tpl, inv, setup)]
    kernel = gc.parse_kernel_params(str(tpl.pod_annotations.get(KERNEL_PARAMS) or ""))
    checks.append(_cdh_enabled(kernel))
    init_checks, initdata, info = _initdata(tpl, setup, kernel)
    checks += init_checks
    checks += _cdh_config(setup, initdata, kernel, failed={c.id for c in checks if c.status == "fails"})
    checks.append(_credentials(setup, trustee))
    if setup.peer_pod:
        checks.append(make_check("30-peer-pod-cdh-order", "cannot-tell",
                                 "a peer pod: whether kata-agent waits for CDH's socket depends on the podvm image",
                                 would_tell="the podvm image version: it needs kata-agent.path on "
                                 "/run/confidential-containers/cdh.sock (cloud-api-adaptor PR #2143, #2994)"))
    else:
        checks.append(not_applicable("30-peer-pod-cdh-order", "not a peer pod (kata-remote)"))
    return checks, setup, info


def _runtime_class(tpl: PodTemplate, inv: Inventory, setup: GuestSetup) -> Check:
    cid = "01-runtime-class"
    name = tpl.spec.get("runtimeClassName")
    setup.runtime_class = str(name) if name else None
    if not name:
        return make_check(cid, "fails", "spec.runtimeClassName is not set: the pod runs on the node's default "
                          "runtime (runc), where no kata agent or CDH unseals anything")
    handler = inv.runtime_classes.get(str(name))
    for candidate in (str(name), handler or ""):
        m = _COCO.match(candidate)
        if m:
            setup.shim, setup.runtime_rs = m["shim"], bool(m["rs"])
            via = f" (RuntimeClass handler {handler})" if candidate != str(name) else ""
            return make_check(cid, "ok", f"runtimeClassName {name}{via} is a CoCo runtime class")
    if str(name).startswith("kata") or (handler or "").startswith("kata"):
        return make_check(cid, "fails", f"runtimeClassName {name} is a kata runtime class without CoCo: likely its "
                          "guest image has no CDH", likely=True)
    return make_check(cid, "cannot-tell", f"runtimeClassName {name} is not a kata-deploy name and its RuntimeClass "
                      "is not in these files", would_tell="the RuntimeClass object: its handler must be a CoCo kata "
                      "shim such as kata-qemu-tdx")


def _cdh_enabled(kernel: gc.KernelParams) -> Check:
    cid = "02-cdh-enabled"
    if kernel.procs in ("none", "attestation-agent"):
        return make_check(cid, "fails", f"the kernel params set agent.guest_components_procs={kernel.procs}: the "
                          "kata agent does not start CDH")
    if kernel.procs:
        return make_check(cid, "ok", f"agent.guest_components_procs={kernel.procs} starts CDH")
    return make_check(cid, "ok", "the pod's kernel params do not disable CDH")


def _initdata(tpl: PodTemplate, setup: GuestSetup,
              kernel: gc.KernelParams) -> tuple[list[Check], Initdata | None, InitdataInfo | None]:
    ids = ("04-initdata-encoding", "05-initdata-header", "06-initdata-keys", "07-initdata-config-kept",
           "08-initdata-digest")
    value = tpl.pod_annotations.get(ANNOTATION)
    if value is None:
        first = _missing_annotation(tpl, setup, kernel)
        if first.status == "fails":
            return [first, *(blocked(i, first.id) for i in ids)], None, None
        why = "no initdata annotation" + ("; agent.aa_kbc_params configures CDH" if kernel.kbc else "")
        if first.status == "cannot-tell":
            return [first, *(make_check(i, "cannot-tell", "the initdata may come from peer-pods-cm",
                                        would_tell=first.would_tell) for i in ids)], None, None
        return [first, *(not_applicable(i, why) for i in ids)], None, None
    setup.has_initdata = True
    out = [make_check("03-initdata-annotation", "ok", f"{ANNOTATION} is on the pod ({tpl.annotations_path})")]
    try:
        toml_bytes, wrapped = decode_annotation(str(value))
    except InitdataError as e:
        out.append(make_check(ids[0], "fails", e.message, fix=e.fix if e.fix else None))
        return out + [blocked(i, ids[0]) for i in ids[1:]], None, None
    if wrapped and (setup.runtime_rs or setup.shim is None):
        out.append(make_check(ids[0], "fails", "the base64 has line breaks: likely runtime-rs's STANDARD decoder "
                              "refuses them (the Go runtime skips them)", likely=True,
                              fix="encode it on one line: `gzip -c initdata.toml | base64 -w0`"))
    else:
        note = " (its line breaks are skipped by the Go runtime)" if wrapped else ""
        out.append(make_check(ids[0], "ok", f"standard base64 of gzip of {len(toml_bytes)} bytes of TOML{note}"))
    try:
        initdata = parse_initdata(toml_bytes)
    except InitdataError as e:
        out.append(make_check(ids[1], "fails", e.message, fix=e.fix))
        return out + [blocked(i, ids[1]) for i in ids[2:]], None, None
    info = InitdataInfo(initdata.algorithm, initdata.digest, len(toml_bytes), sorted(initdata.data))
    out.append(make_check(ids[1], "ok", f"version {initdata.version}, algorithm {initdata.algorithm}, "
                          f"[data] keys {', '.join(sorted(initdata.data)) or '(none)'}"))
    out += _keys(initdata, kernel)
    out.append(_digest(initdata, setup))
    setup.policy_rego = initdata.data.get("policy.rego")
    return out, initdata, info


def _missing_annotation(tpl: PodTemplate, setup: GuestSetup, kernel: gc.KernelParams) -> Check:
    cid = "03-initdata-annotation"
    renamed = [k for k in tpl.pod_annotations if str(k).endswith("cc_init_data")]
    if renamed:
        return make_check(cid, "fails", f"the pod has {renamed[0]}, which the runtime does not read; the name is "
                          f"{ANNOTATION}", fix=f"rename the annotation to {ANNOTATION}")
    if ANNOTATION in tpl.workload_annotations:
        return make_check(cid, "fails", f"{ANNOTATION} is on the {tpl.kind}'s own metadata; likely Kubernetes does "
                          f"not copy it to the pods", likely=True,
                          fix=f"move it to {tpl.annotations_path}")
    if kernel.kbc:
        return make_check(cid, "ok", "no initdata annotation; CDH and AA take "
                          f"agent.aa_kbc_params={kernel.kbc[0]}::{kernel.kbc[1]} from the kernel params")
    if setup.peer_pod:
        return make_check(cid, "cannot-tell", "no initdata annotation on this peer pod",
                          would_tell="the cluster-wide default: key INITDATA of ConfigMap peer-pods-cm")
    return make_check(cid, "fails", f"the pod has no {ANNOTATION} annotation and no agent.aa_kbc_params: CDH "
                      "falls back to offline_fs_kbc and finds no KBS resource")


def _keys(initdata: Initdata, kernel: gc.KernelParams) -> list[Check]:
    keys = set(initdata.data)
    unknown = sorted(keys - set(KNOWN_KEYS))
    missing = [k for k in ("cdh.toml", "aa.toml") if k not in keys]
    if unknown and missing:
        return [make_check("06-initdata-keys", "fails", f"[data] key {unknown[0]!r} is likely ignored by the kata "
                           f"agent (it reads only aa.toml, cdh.toml, policy.rego), and there is no {missing[0]!r}",
                           likely=True, fix=f"name it {missing[0]!r} (keys are exactly "
                           "\"aa.toml\", \"cdh.toml\", \"policy.rego\")"),
                blocked("07-initdata-config-kept", "06-initdata-keys")]
    out = [make_check("06-initdata-keys", "ok", "every [data] key is one the kata agent reads" if not unknown else
                      f"[data] keys {', '.join(unknown)} are ignored by the kata agent (harmless)")]
    if not missing:
        out.append(make_check("07-initdata-config-kept", "ok", "the initdata carries cdh.toml and aa.toml"))
    elif kernel.kbc:
        out.append(make_check("07-initdata-config-kept", "ok", f"no {' or '.join(missing)} in the initdata; "
                              "agent.aa_kbc_params in the kernel params configures the KBS"))
    elif keys == {"policy.rego"}:
        out.append(make_check("07-initdata-config-kept", "fails", "the initdata holds only policy.rego: genpolicy "
                              "was run without --initdata-path, so CDH has no cdh.toml"))
    else:
        out.append(make_check("07-initdata-config-kept", "fails", f"the initdata has no {' and no '.join(missing)}"))
    return out


def _digest(initdata: Initdata, setup: GuestSetup) -> Check:
    cid = "08-initdata-digest"
    if setup.coco_dev:
        return make_check(cid, "ok", f"{initdata.algorithm} {initdata.digest}; kata-qemu-coco-dev has no TEE to "
                          "measure it (AA: `Platform does not support initdata checking. Jumping.`)")
    return make_check(cid, "cannot-tell", f"the deployed initdata's {initdata.algorithm} digest is {initdata.digest}",
                      would_tell="the reference value registered with Trustee (RVPS) or the resource policy's "
                      "init_data claims: they must equal this digest")


def _cdh_config(setup: GuestSetup, initdata: Initdata | None, kernel: gc.KernelParams,
                failed: set[str]) -> list[Check]:
    ids = ("09-cdh-toml-parses", "10-kbc", "11-cdh-socket", "12-aa-kbs")
    text = initdata.data.get("cdh.toml") if initdata else None
    if text is None:
        if kernel.kbc_error:
            return [not_applicable(ids[0], "no cdh.toml"), make_check(ids[1], "fails", kernel.kbc_error),
                    not_applicable(ids[2], "no cdh.toml"), blocked(ids[3], ids[1])]
        if kernel.kbc and not _failed_before(failed, ids[0]):
            setup.cdh = gc.CdhConfig(kernel.kbc[0], kernel.kbc[1])
            setup.credentials.update({p: u for u, p in kernel.kbs_resources})
            return [not_applicable(ids[0], "no cdh.toml: CDH reads agent.aa_kbc_params"),
                    _kbc(setup.cdh, "agent.aa_kbc_params"), not_applicable(ids[2], "no cdh.toml: default socket"),
                    _aa_kbs(setup.cdh, gc.AaConfig(kernel.kbc[1], None) if kernel.kbc[0] == "cc_kbc" else None,
                            "agent.aa_kbc_params")]
        blocker = _failed_before(failed, ids[0])
        setup.cdh_blocker = blocker
        if blocker is None:  # a peer pod whose initdata may come from peer-pods-cm
            return [make_check(i, "cannot-tell", "no cdh.toml in these files",
                               would_tell="the initdata from peer-pods-cm") for i in ids]
        return [blocked(i, blocker) for i in ids]
    try:
        cdh = gc.parse_cdh_toml(text)
    except InitdataError as e:
        setup.cdh_blocker = ids[0]
        return [make_check(ids[0], "fails", e.message, fix=e.fix)] + [blocked(i, ids[0]) for i in ids[1:]]
    setup.cdh = cdh
    setup.credentials.update({p: u for u, p in cdh.credentials + kernel.kbs_resources})
    notes = f" ({'; '.join(cdh.notes)})" if cdh.notes else ""
    out = [make_check(ids[0], "ok", f"cdh.toml parses: [kbc] name {cdh.kbc_name}, "
                      f"skip_sealed_secret_verification = {str(cdh.skip_verification).lower()}{notes}"),
           _kbc(cdh, "cdh.toml [kbc]")]
    if cdh.socket is None or cdh.socket == gc.CDH_SOCKET:
        out.append(make_check(ids[2], "ok", "cdh.toml keeps the default socket"))
    else:
        out.append(make_check(ids[2], "fails", f"cdh.toml sets socket = {cdh.socket!r}; the kata agent only talks to "
                              f"{gc.CDH_SOCKET}", likely=True))
    aa_text = initdata.data.get("aa.toml") if initdata else None
    if aa_text is None:
        aa = gc.AaConfig(kernel.kbc[1], None) if kernel.kbc and kernel.kbc[0] == "cc_kbc" else None
        out.append(_aa_kbs(cdh, aa, "agent.aa_kbc_params") if aa else
                   blocked(ids[3], "07-initdata-config-kept", "no aa.toml"))
        return out
    try:
        aa = gc.parse_aa_toml(aa_text)
    except InitdataError as e:
        out.append(make_check(ids[3], "fails", e.message + "; likely AA cannot start", likely=True, fix=e.fix))
        return out
    out.append(_aa_kbs(cdh, aa, "aa.toml"))
    return out


def _failed_before(failed: set[str], check_id: str) -> str | None:
    earlier = sorted(i for i in failed if "03" <= i < check_id)  # the initdata checks hide the CDH config
    return earlier[-1] if earlier else None


def _kbc(cdh: gc.CdhConfig, where: str) -> Check:
    cid = "10-kbc"
    if cdh.kbc_name == "offline_fs_kbc":
        return make_check(cid, "fails", f"{where} names offline_fs_kbc: CDH reads resources from a file in the "
                          "guest image, not from a KBS", guest="`offline-fs-kbc: resource not found …`")
    if cdh.kbc_name != "cc_kbc":
        return make_check(cid, "fails", f"{where} names KBC {cdh.kbc_name!r}",
                          guest=f"`unknown kbc name {cdh.kbc_name}, only support cc_kbc(feature kbs) and "
                          "offline_fs_kbc.`")
    problem = gc.url_problem(cdh.kbc_url)
    if problem:
        return make_check(cid, "fails", f"{where} names cc_kbc, but {problem}: likely every KBS request fails",
                          likely=True)
    return make_check(cid, "ok", f"cc_kbc fetching from {cdh.kbc_url}")


def _aa_kbs(cdh: gc.CdhConfig, aa: gc.AaConfig | None, where: str) -> Check:
    cid = "12-aa-kbs"
    if aa is None or aa.kbs_url is None:
        return make_check(cid, "fails", f"{where} has no [token_configs.kbs]: AA cannot get a KBS token for CDH",
                          guest="`kbs token config not configured in config file`")
    if aa.kbs_url.rstrip("/") != cdh.kbc_url.rstrip("/"):
        return make_check(cid, "fails", f"AA attests to {aa.kbs_url} but CDH fetches from {cdh.kbc_url}",
                          guest="`Authenticating with KBS failed …`; `request unauthorized`")
    if not cdh.kbc_url.startswith("https://"):
        return make_check(cid, "ok", f"AA and CDH both use {cdh.kbc_url}")
    if aa.cert is None and cdh.kbs_cert is None:
        return make_check(cid, "cannot-tell", f"AA and CDH both use {cdh.kbc_url}, with no CA PEM in either",
                          would_tell="whether the KBS certificate chains to a CA the guest trusts; for a private CA "
                          "put its PEM in aa.toml cert and cdh.toml kbs_cert")
    if aa.cert is None or cdh.kbs_cert is None or not gc.same_pem(aa.cert, cdh.kbs_cert):
        which = "aa.toml has no cert" if aa.cert is None else "cdh.toml has no kbs_cert" \
            if cdh.kbs_cert is None else "aa.toml cert and cdh.toml kbs_cert differ"
        return make_check(cid, "fails", f"{cdh.kbc_url} is https but {which}: likely AA or CDH cannot verify the "
                          "KBS certificate", likely=True, guest="TLS: `http request failed: get failed: …`")
    return make_check(cid, "ok", f"AA and CDH both use {cdh.kbc_url} with the same CA")


def _credentials(setup: GuestSetup, trustee: Trustee | None) -> Check:
    cid = "23-credentials"
    if setup.cdh is None:
        return blocked(cid, setup.cdh_blocker) if setup.cdh_blocker else \
            not_applicable(cid, "no CDH config in these files")
    if not setup.credentials:
        return not_applicable(cid, "no [[credentials]] or cdh.kbs_resources")
    for path, uri in setup.credentials.items():
        problem = gc.credential_path_problem(path)
        if problem:
            return make_check(cid, "fails", f"credential path {problem}",
                              guest=f"CDH fails to start: `init Hub failed: illegal path to put credential : {path}`")
        if resource_path(uri) is None:
            return make_check(cid, "fails", f"credential resource_uri {uri!r} is not kbs:///<repo>/<type>/<tag>",
                              guest="CDH fails to start: `init Hub failed: kbs client get resource failed: …`")
    if trustee is None:
        return make_check(cid, "cannot-tell", f"{len(setup.credentials)} credential path(s) are legal",
                          would_tell="--trustee DIR: whether each resource exists")
    missing = [u for u in setup.credentials.values() if trustee.get(resource_path(u) or "") is None]
    if missing:
        return make_check(cid, "fails", f"{trustee.missing_hint(resource_path(missing[0]) or '')} ({missing[0]})",
                          guest="CDH fails to start: `init Hub failed: kbs client get resource failed: …`")
    return make_check(cid, "ok", f"{len(setup.credentials)} credential(s): legal paths, resources in {trustee.source}")
