"""What to provision where, per value: the public JWK at the kid's path, the vault secret at its resource path, and
the provider's client-key files in the guest (with the `[[credentials]]` entries that put them there).

Rendered as `kbs-client` commands in both admin flag styles (trustee ≤ v0.20 `--auth-private-key`, ≥ v0.21
`--admin-token-file`; guest-facts.md §6.1) and for trustee-operator (repo `default`, one Secret per resource type
listed in the KbsConfig's `kbsSecretResources`; §6.2).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from sealtui.core.doctor.model import ProvisionItem
from sealtui.core.doctor.resource_checks import provider_files
from sealtui.core.doctor.trustee import OPERATOR_NAMESPACE, Trustee, kbs_path_problem, operator_path_problem
from sealtui.core.doctor.trustee import resource_path as path_of
from sealtui.core.doctor.value_checks import Examined
from sealtui.core.errors import InvalidInputError
from sealtui.core.jws import key_file_stem

ALIYUN_REPO_TYPE = "default/aliyun-kms"
"""Where doctor proposes to keep aliyun client-key files in KBS: the files' own names are valid resource tags and
Secret keys, so `kubectl create secret generic aliyun-kms --from-file=…` serves them as they are."""


def value_provision(ex: Examined, trustee: Trustee | None, credentials_dir: str) -> list[ProvisionItem]:
    items = []
    if ex.kid_path:
        kid = ex.report.signature.kid or ""
        source = ex.key.source if ex.key is not None and ex.key_origin == "given" else ""
        if not source or source in ("JWK", "generated"):
            try:
                source = f"./{key_file_stem(kid)}-public.json"
            except InvalidInputError:
                source = "./public.json"
        items.append(_item(f"public JWK of kid {kid}", ex.kid_path, source, None, trustee))
    if ex.vault_path:
        tag = ex.vault_path.rsplit("/", 1)[1]
        items.append(_item(f"the secret of vault name {ex.payload.get('name')}", ex.vault_path,
                           f"./{tag}", None, trustee))
    for guest_path in provider_files(ex) or []:
        name = guest_path.rsplit("/", 1)[1]
        uri = ex.setup.credentials.get(guest_path)
        path = (path_of(uri) if uri else None) or f"{ALIYUN_REPO_TYPE}/{name}"
        items.append(_item(f"{ex.provider} client-key file {name}", path,
                           f"{credentials_dir.rstrip('/')}/{name}", guest_path, trustee))
    return items


def _item(what: str, path: str, source: str, guest_path: str | None, trustee: Trustee | None) -> ProvisionItem:
    problem = kbs_path_problem(path) or operator_path_problem(path)
    return ProvisionItem(what, path, source, guest_path, trustee.get(path) is not None if trustee else None, problem)


@dataclass
class ProvisionPlan:
    """Every resource the values need, once each, and how to put them in place."""

    items: list[ProvisionItem] = field(default_factory=list)
    kbs_url: str | None = None
    kbs_ca: bool = False
    namespace: str = OPERATOR_NAMESPACE
    kbsconfig: str = "<kbsconfig>"

    def add(self, items: list[ProvisionItem]) -> None:
        known = {i.resource for i in self.items}
        for item in items:
            if item.resource not in known:
                self.items.append(item)
                known.add(item.resource)

    @property
    def url(self) -> str:
        return self.kbs_url or "$KBS_URL"

    def kbs_client(self, style: str) -> list[str]:
        """`kbs-client … set-resource` lines; style `token` (trustee >= v0.21) or `key` (<= v0.20)."""
        auth = "--admin-token-file admin-token" if style == "token" else "--auth-private-key kbs-private.pem"
        cert = " --cert-file kbs-ca.pem" if self.kbs_ca else ""
        url = shlex.quote(self.kbs_url) if self.kbs_url else '"$KBS_URL"'  # the placeholder must expand
        return [f"kbs-client --url {url}{cert} config {auth} set-resource --path {i.resource} "
                f"--resource-file {shlex.quote(i.source)}" for i in self.items]

    def operator(self) -> list[str]:
        """kubectl lines for trustee-operator (resources it cannot serve are left out, with a comment)."""
        by_secret: dict[str, list[ProvisionItem]] = {}
        lines = []
        for i in self.items:
            if i.operator_problem:
                lines.append(f"# {i.resource}: {i.operator_problem}")
                continue
            by_secret.setdefault(i.resource.split("/")[1], []).append(i)
        ns = shlex.quote(self.namespace)
        for secret, items in by_secret.items():
            files = " ".join(f"--from-file={shlex.quote(i.resource.split('/')[2] + '=' + i.source)}" for i in items)
            lines.append(f"kubectl create secret generic {secret} -n {ns} {files}")
        for secret in by_secret:
            patch = f'[{{"op":"add","path":"/spec/kbsSecretResources/-","value":"{secret}"}}]'
            lines.append(f"kubectl patch kbsconfig {shlex.quote(self.kbsconfig)} -n {ns} --type=json "
                         f"-p={shlex.quote(patch)}")
        return lines

    def kbsconfig_snippet(self) -> str:
        names = sorted({i.resource.split("/")[1] for i in self.items if not i.operator_problem})
        return "spec:\n  kbsSecretResources:\n" + "".join(f"  - {n}\n" for n in names)

    def credentials_toml(self) -> str:
        """The cdh.toml `[[credentials]]` entries that put client-key files in the guest."""
        return "".join(f'[[credentials]]\nresource_uri = "kbs:///{i.resource}"\npath = "{i.guest_path}"\n'
                       for i in self.items if i.guest_path)

    def to_dict(self) -> dict[str, Any]:
        return {"kbs_url": self.url, "items": [i.to_dict() for i in self.items],
                "kbs_client_v0_21": self.kbs_client("token"), "kbs_client_v0_20": self.kbs_client("key"),
                "trustee_operator": self.operator(), "kbsconfig": self.kbsconfig_snippet(),
                "credentials_toml": self.credentials_toml()}
