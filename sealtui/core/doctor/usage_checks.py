"""Checks of how the container uses the value (checklist 24–28): kubelet's `$(VAR)` splicing, plaintext that must
be UTF-8 for env, the kata agent's volume rules, one bad file blocking a mount, and genpolicy's view of env.
"""

from __future__ import annotations

import json
import posixpath

from sealtui.core.doctor.k8s import ContainerValues, FoundValue
from sealtui.core.doctor.model import Check, blocked, make_check, not_applicable
from sealtui.core.doctor.value_checks import Examined

SKIPPED_SUFFIXES = ("hosts", "hostname", "resolv.conf", "termination-log", "serviceaccount")
"""Mount sources the kata agent never scans (kata agent rpc.rs `is_sealed_secret_path`)."""
OWN_CHECKS = ("13-signature-mode", "14-clean-value", "15-jws-header", "16-kid-uri", "17-kid-jwk", "18-payload",
              "19-provider", "20-vault-name", "23-provider-files")
"""Checks about one file itself: when one fails for a forwarded file, the agent aborts the whole mount."""


def references(text: str) -> list[str]:
    """The `$(NAME)` references kubelet expands in `text` (`$$` escapes a `$`)."""
    out, i = [], 0
    while i < len(text) - 1:
        if text[i] == "$" and text[i + 1] == "$":
            i += 2
        elif text[i] == "$" and text[i + 1] == "(":
            end = text.find(")", i + 2)
            if end < 0:
                break
            out.append(text[i + 2:end])
            i = end + 1
        else:
            i += 1
    return out


def usage_checks(ex: Examined, cv: ContainerValues) -> list[Check]:
    env = ex.found.source != "volume"
    checks = [_splicing(ex.found, cv) if env else not_applicable("24-env-splicing", "a file, not an env value"),
              _utf8(ex) if env else not_applicable("25-env-utf8", "a file: any bytes are fine"),
              _volume(ex) if not env else not_applicable("26-volume-scanned", "an env value"),
              not_applicable("27-volume-one-bad-file", "an env value") if env else
              make_check("27-volume-one-bad-file", "ok", "no other file of this mount fails"),
              _genpolicy(ex) if env else not_applicable("28-genpolicy", "the agent policy does not pin file contents")]
    return checks


def _splicing(v: FoundValue, cv: ContainerValues) -> Check:
    cid = "24-env-splicing"
    names = cv.env_names
    first = names.index(v.name) if v.name in names else len(names)
    for later in names[first + 1:]:
        literal = cv.env_literals.get(later)
        if literal is not None and v.name in references(literal):
            return make_check(cid, "fails", f"env {later} = {literal!r} splices $({v.name}): likely kubelet puts the "
                              f"sealed text inside it, so {later} never starts with `sealed.`", likely=True)
    for arg in cv.command:
        if v.name in references(arg):
            return make_check(cid, "fails", f"command/args {arg!r} splices $({v.name}): kubelet puts the sealed text "
                              "into the arguments, which the kata agent never unseals", likely=True)
    return make_check(cid, "ok", f"no $({v.name}) in other env values, command or args")


def _utf8(ex: Examined) -> Check:
    cid = "25-env-utf8"
    if ex.stops:
        return blocked(cid, "14-clean-value")
    if ex.vault_path and ex.trustee is not None:
        content = ex.trustee.get(ex.vault_path)
        if content is None:
            return blocked(cid, "20-vault-name")
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as e:
            return make_check(cid, "fails", f"the secret at {ex.vault_path} is not UTF-8 (byte {e.start}) and this is "
                              "an env value", guest="agent: `Failed to unseal secret: invalid utf-8 sequence …`")
        return make_check(cid, "ok", f"the secret at {ex.vault_path} is UTF-8 text")
    what = "the vault secret" if ex.vault_path else "the plaintext"
    return make_check(cid, "cannot-tell", f"{what} is not in these files",
                      would_tell="--trustee DIR holding the vault secret" if ex.vault_path else
                      "the plaintext: binary secrets must be delivered as files")


def _volume(ex: Examined) -> Check:
    cid = "26-volume-scanned"
    v, setup, kata = ex.found, ex.setup, ex.setup.kata
    if not kata.unseals_volumes:
        return make_check(cid, "fails", f"{kata.short} does not unseal volume files (from kata 3.10.0)",
                          guest="silent: the files stay sealed")
    if v.sub_path:
        return make_check(cid, "fails", f"mounted with subPath {v.sub_path!r}: the mount is a single file, likely "
                          "the agent's read_dir fails", likely=True,
                          guest=f"`Failed to unseal file: \"<src>\", Error: Not a directory …` for {v.mount_path}")
    if kata.needs_sealed_dir and not (v.mount_path or "").startswith("/sealed"):
        return make_check(cid, "fails", f"{kata.short} unseals only mounts under /sealed; this one is at "
                          f"{v.mount_path}", guest="silent: the files stay sealed")
    if "/" in (v.volume_file or ""):
        return make_check(cid, "fails", f"the file is {v.volume_file!r}, in a subdirectory of the mount: the agent "
                          "reads only the mount's top level", guest="silent: the file stays sealed",
                          fix="give the key a path without '/' (items[].path)")
    name = v.volume if setup.runtime_rs else posixpath.basename((v.mount_path or "").rstrip("/"))
    source = f"volume name {name!r} (runtime-rs)" if setup.runtime_rs else f"mountPath basename {name!r}"
    if name and name.endswith(SKIPPED_SUFFIXES):
        return make_check(cid, "fails", f"the {source} ends like a mount the agent skips "
                          f"({', '.join(SKIPPED_SUFFIXES)}): likely never scanned", likely=True,
                          guest="silent: the files stay sealed")
    return make_check(cid, "ok", f"a Secret directory mounted at {v.mount_path}; the agent scans it")


def _genpolicy(ex: Examined) -> Check:
    cid = "28-genpolicy"
    v, policy = ex.found, ex.setup.policy_rego
    if policy is None:
        return not_applicable(cid, "no policy.rego in the initdata")
    obj = v.data_object
    if obj is not None and obj.kind == "Secret" and obj.field_of.get(v.key or "") == "stringData":
        guest = f"genpolicy: `Couldn't get the value of env var: {v.name}`" if v.source == "env" else \
            f"genpolicy: `Couldn't get values from secret ref: {obj.name}`"
        return make_check(cid, "fails", f"Secret {obj.name} has {v.key} under stringData; genpolicy reads only data",
                          guest=guest, fix=f"move {v.key} to data (base64), regenerate the policy and the initdata")
    if "policy_data" not in policy:
        return make_check(cid, "cannot-tell", "the initdata's policy.rego is not genpolicy's output",
                          would_tell="read the policy: CreateContainerRequest must allow this env value")
    needle = json.dumps(f"{v.name}={v.text}", ensure_ascii=False)
    if needle not in policy:
        return make_check(cid, "fails", f"the policy in the initdata does not allow {v.name} with this value: likely "
                          "it was generated before the value was (re-)sealed", likely=True)
    return make_check(cid, "ok", f"the policy in the initdata allows {v.name} with this value")


def one_bad_file(mounts: dict[tuple[str, str, str], list[tuple[FoundValue, list[Check]]]]) -> None:
    """Check 27: within one mount, a forwarded file whose own checks fail aborts the others (in place)."""
    for files in mounts.values():
        bad = [(v, c) for v, c in files if v.raw.startswith(b"sealed.")
               and any(x.status == "fails" and x.id in OWN_CHECKS for x in c)]
        for v, checks in files:
            others = [b for b, _ in bad if b is not v]
            if not others:
                continue
            i = next(i for i, c in enumerate(checks) if c.id == "27-volume-one-bad-file")
            checks[i] = make_check("27-volume-one-bad-file", "fails", f"{others[0].name} in the same mount fails "
                                   "first, likely (the agent's read_dir order decides); this file then stays sealed",
                                   likely=True, guest=f"`Failed to unseal file: …` for {others[0].name}; the later "
                                   "keys stay sealed")
