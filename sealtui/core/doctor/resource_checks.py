"""Checks of what a value needs from Trustee and in the guest (checklist 21, 22, 23-provider-files).

Paths must be ones KBS (and, when used, trustee-operator) can serve; the resource policy must release them to
this TEE; the provider's client-key files must be put where CDH reads them, by `[[credentials]]`.
"""

from __future__ import annotations

from sealtui.core.doctor.guestconfig import KMS_CREDENTIALS_DIR
from sealtui.core.doctor.model import Check, blocked, make_check, not_applicable
from sealtui.core.doctor.trustee import kbs_path_problem, operator_path_problem
from sealtui.core.doctor.value_checks import Examined

ALIYUN_DIR = KMS_CREDENTIALS_DIR + "/aliyun"
"""Where CDH's aliyun client reads its files (GC kms/src/plugins/aliyun/client/*/mod.rs)."""


def needed_paths(ex: Examined) -> list[tuple[str, str]]:
    """(what, repo/type/tag) of every KBS resource this value needs at unseal."""
    out = []
    if ex.kid_path:
        out.append(("the signing key (kid)", ex.kid_path))
    if ex.vault_path:
        out.append(("the vault secret", ex.vault_path))
    return out


def provider_files(ex: Examined) -> list[str] | None:
    """The guest paths the provider reads for this value; None when sealtui cannot say."""
    if ex.provider != "aliyun":
        return []
    settings = ex.payload.get("provider_settings")
    settings = settings if isinstance(settings, dict) else {}
    client_type = settings.get("client_type")
    if client_type == "client_key":
        ck, inst = settings.get("client_key_id"), settings.get("kms_instance_id")
        if not isinstance(ck, str) or not isinstance(inst, str):
            return None
        # In the order CDH reads them, so the first missing one is the one it reports.
        return [f"{ALIYUN_DIR}/PrivateKmsCA_{inst}.pem", f"{ALIYUN_DIR}/password_{ck}.json",
                f"{ALIYUN_DIR}/clientKey_{ck}.json"]
    if client_type == "ecs_ram_role":
        return [f"{ALIYUN_DIR}/ecsRamRole.json"]
    return None


def resource_checks(ex: Examined) -> list[Check]:
    if ex.stops:
        return [blocked(i, "14-clean-value") for i in ("21-trustee-path", "22-resource-policy",
                                                       "23-provider-files")]
    return [_trustee_path(ex), _policy(ex), _provider_files(ex)]


def _trustee_path(ex: Examined) -> Check:
    cid = "21-trustee-path"
    paths = needed_paths(ex)
    if not paths:
        return not_applicable(cid, "the value needs no KBS resource")
    for what, path in paths:
        problem = kbs_path_problem(path)
        if problem:
            return make_check(cid, "fails", f"{what} at {path}: {problem}",
                              guest=f"KBS: `Request path {path} is invalid` (404)")
    operator = [(what, path, operator_path_problem(path)) for what, path in paths]
    operator = [o for o in operator if o[2]]
    listing = ", ".join(p for _, p in paths)
    if not operator:
        return make_check(cid, "ok", f"{listing}: KBS and trustee-operator can serve it")
    what, path, problem = operator[0]
    if ex.trustee is not None and ex.trustee.mode == "operator":
        return make_check(cid, "fails", f"{what} at {path}: {problem}; likely no Secret can serve it",
                          likely=True, guest="resource not found (401): the operator cannot create that path")
    if ex.trustee is not None:
        return make_check(cid, "ok", f"{listing}: KBS can serve it (not trustee-operator: {problem})")
    return make_check(cid, "cannot-tell", f"{listing}: KBS can serve it, but trustee-operator cannot ({problem})",
                      would_tell="--trustee DIR: whether this Trustee is run by trustee-operator")


def _policy(ex: Examined) -> Check:
    cid = "22-resource-policy"
    paths = needed_paths(ex)
    if not paths:
        return not_applicable(cid, "the value needs no KBS resource")
    coco_dev = ex.setup.coco_dev
    dev_note = " (on kata-qemu-coco-dev Trustee's default policy denies the sample evidence)" if coco_dev else ""
    if ex.trustee is None or ex.trustee.policy is None:
        where = "--trustee DIR" if ex.trustee is None else f"a policy.rego in {ex.trustee.source}"
        return make_check(cid, "cannot-tell", f"the resource policy is not in these files{dev_note}",
                          would_tell=f"{where}: the KBS resource policy")
    kind, source = ex.trustee.policy_kind, ex.trustee.policy_source
    tee = "kata-qemu-coco-dev (sample evidence)" if coco_dev else "a TEE"
    if kind == "allow-all":
        return make_check(cid, "ok", f"{source} releases every resource (allow_all)")
    if kind == "deny-all":
        return make_check(cid, "fails", f"{source} releases nothing (no allow rule)")
    if kind == "denies-sample":
        if coco_dev:
            return make_check(cid, "fails", f"{source} is Trustee's default policy, which denies {tee}")
        return make_check(cid, "ok", f"{source} is Trustee's default policy: it releases resources to a real TEE")
    if kind == "affirming":
        if coco_dev:
            return make_check(cid, "fails", f"{source} needs an `affirming` EAR; likely {tee} never gets one",
                              likely=True)
        return make_check(cid, "cannot-tell", f"{source} releases resources only with an `affirming` EAR",
                          would_tell="the reference values in RVPS: the TEE's measurements must match them")
    return make_check(cid, "cannot-tell", f"{source} is a custom policy",
                      would_tell="read the policy: it must allow plugin 'resource' for " + ", ".join(
                          p for _, p in paths))


def _provider_files(ex: Examined) -> Check:
    cid = "23-provider-files"
    files = provider_files(ex)
    if files == []:
        return not_applicable(cid, f"provider {ex.provider or '?'} needs no client-key file")
    if files is None:
        return make_check(cid, "cannot-tell", "aliyun with this client_type: sealtui does not know which files CDH "
                          "reads", would_tell="the provider_settings (client_key needs client_key_id and "
                          "kms_instance_id)")
    if ex.setup.cdh is None and ex.setup.cdh_blocker:
        return blocked(cid, ex.setup.cdh_blocker)
    missing = [f for f in files if f not in ex.setup.credentials]
    if missing:
        names = ", ".join(f.rsplit("/", 1)[1] for f in missing)
        return make_check(cid, "fails", f"nothing puts {names} in {ALIYUN_DIR}/ ([[credentials]] or "
                          "cdh.kbs_resources)",
                          guest=_aliyun_message(missing[0]))
    return make_check(cid, "ok", "[[credentials]] put " + ", ".join(f.rsplit("/", 1)[1] for f in files)
                      + f" in {ALIYUN_DIR}/")


def _aliyun_message(path: str) -> str:
    name = path.rsplit("/", 1)[1]
    if name.startswith("PrivateKmsCA_"):
        return "`read kms instance pem cert failed: …`"
    if name.startswith("password_"):
        return "`read password of the credential failed: …`"
    if name.startswith("clientKey_"):
        return "`read client key of the credential failed: …`"
    return "`read ecs_ram_role with `fs::read_to_string()` failed: …`"
