"""`doctor` as both front ends run it: the options as the user gives them (paths of keys and a Trustee directory),
the workloads failures first, and what to provision where as text (all of it, or one value's).

    >>> run = check_manifests(["k8s/"], kata_version="3.28", trustee="trustee/")   # doctest: +SKIP
    >>> print(provision_text(value_plan(run, run.result.values[0])))                # doctest: +SKIP
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from sealtui.core.errors import InvalidInputError, UsageError

if TYPE_CHECKING:
    from sealtui.core.doctor import DoctorRun, ProvisionPlan, Status, Value

__all__ = ["check_manifests", "failures_first", "parse_paths", "provision_text", "value_plan"]


def check_manifests(paths: Iterable[str | os.PathLike[str]], *, kata_version: str | None = None,
                    trustee: str | os.PathLike[str] | None = None, jwk: str | os.PathLike[str] | None = None,
                    kid_map: str | os.PathLike[str] | None = None,
                    credentials_dir: str = "credentials") -> DoctorRun:
    """Run doctor over the manifests under `paths` (files and directories). A file that does not parse is
    reported in `result.problems`; a path that does not exist, a bad kata version, Trustee directory, JWK or kid
    map raise a `SealtuiError` with its fix."""
    from sealtui.core.doctor import DoctorOptions, run_doctor
    from sealtui.core.jws import load_jwk
    from sealtui.core.scan import load_kid_map

    targets = [Path(p).expanduser() for p in paths if str(p).strip()]
    if not targets:
        raise InvalidInputError("no manifest path given", fix="give a manifest file or a directory of them")
    if jwk and kid_map:
        raise UsageError("give a public JWK or a kid map, not both",
                         fix="one key for every value, or a map from each kid to its key")
    options = DoctorOptions(kata_version=kata_version or None,
                            trustee=Path(trustee).expanduser() if trustee else None,
                            jwk=load_jwk(Path(jwk).expanduser()) if jwk else None,
                            kid_map=load_kid_map(Path(kid_map).expanduser()) if kid_map else None,
                            credentials_dir=credentials_dir)
    return run_doctor(targets, options)


def parse_paths(text: str) -> list[str]:
    """The paths in one line of text, split as a shell would (quote a path that holds spaces)."""
    try:
        return shlex.split(text)
    except ValueError as e:
        raise InvalidInputError(f"the paths {text!r} cannot be split: {e}",
                                fix="close the quote, or quote each path that holds a space") from None


class _HasStatus(Protocol):
    @property
    def status(self) -> Status: ...


_S = TypeVar("_S", bound=_HasStatus)

_ORDER: dict[str, int] = {"fails": 0, "cannot-tell": 1, "ok": 2}


def failures_first(items: Iterable[_S]) -> list[_S]:
    """Workloads, containers or values ordered fails → cannot-tell → ok, in file order within each (checks have
    `sealtui.core.doctor.failures_first`, which also orders them as the guest meets them)."""
    return sorted(items, key=lambda item: _ORDER[item.status])


def value_plan(run: DoctorRun, value: Value) -> ProvisionPlan:
    """What to provision for this one value, with the run's KBS URL, CA and trustee-operator names."""
    return replace(run.plan, items=list(value.provision))


def provision_text(plan: ProvisionPlan, indent: str = "") -> str:
    """What to provision where, as shell lines and TOML: `kbs-client` in both admin flag styles, trustee-operator,
    the KbsConfig list, and the `[[credentials]]` entries for a provider's client-key files."""
    lines = ["# KBS, trustee >= v0.21 (kbs-client --admin-token-file):", *plan.kbs_client("token"),
             "# KBS, trustee <= v0.20 (kbs-client --auth-private-key):", *plan.kbs_client("key"),
             f"# trustee-operator (namespace {plan.namespace}):", *plan.operator(),
             "# ... so that the KbsConfig lists:", *plan.kbsconfig_snippet().rstrip("\n").splitlines()]
    creds = plan.credentials_toml()
    if creds:
        lines += ["# cdh.toml, to put the client-key files in the guest:", *creds.rstrip("\n").splitlines()]
    return "".join(f"{indent}{line}\n" for line in lines)
