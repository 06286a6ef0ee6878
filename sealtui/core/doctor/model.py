"""What `doctor` finds: workloads → containers → values → checks, each check `ok`, `fails` or `cannot-tell`.

Plain dataclasses with `to_dict()` (the JSON of `sealtui doctor --json`). A front end presents them as they are:
`failures_first()` orders checks, `Value.text` is the sealed string to open in Inspect, `Value.status` and
`Workload.status` roll the checks up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sealtui.core.doctor.catalog import CHECK_ORDER, CHECKS

Status = Literal["ok", "fails", "cannot-tell"]

_RANK = {"fails": 0, "cannot-tell": 1, "ok": 2}


@dataclass
class Check:
    """The result of one checklist item for one workload or value."""

    id: str
    """Stable id: the checklist number and a slug, e.g. `03-initdata-annotation`."""
    status: Status
    detail: str
    """What doctor saw, in one or two sentences."""
    guest_message: str | None = None
    """When it fails: what the guest itself would log (or `silent`)."""
    fix: str | None = None
    """When it fails: what to do."""
    would_tell: str | None = None
    """When it cannot tell: what would settle it."""
    likely: bool = False
    """True when the outcome rests on an inference from the code rather than a stated or tested fact."""
    applies: bool = True
    """False when the check does not apply here (then it is `ok`); a front end may hide it."""
    blocked_by: str | None = None
    """When an earlier failing check makes this one undecidable: that check's id."""

    @property
    def title(self) -> str:
        return CHECKS[self.id].title

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies, and doctor --json writes tens of thousands of these.
        return {"id": self.id, "title": self.title, "status": self.status, "detail": self.detail,
                "guest_message": self.guest_message, "fix": self.fix, "would_tell": self.would_tell,
                "likely": self.likely, "applies": self.applies, "blocked_by": self.blocked_by}


def make_check(check_id: str, status: Status, detail: str, *, guest: str | None = None, fix: str | None = None,
               would_tell: str | None = None, likely: bool = False, blocked_by: str | None = None) -> Check:
    """A check result; a failure gets the checklist's guest message and fix unless more precise ones are given."""
    spec = CHECKS[check_id]  # KeyError: an id that is not in the catalog
    if status == "fails":
        guest = guest or spec.guest
        fix = fix or spec.fix
    return Check(check_id, status, detail, guest, fix, would_tell, likely, True, blocked_by)


def not_applicable(check_id: str, why: str) -> Check:
    return Check(check_id, "ok", f"does not apply: {why}", applies=False)


def blocked(check_id: str, by: str, what: str = "") -> Check:
    detail = f"not decidable while {by} fails" + (f": {what}" if what else "")
    return Check(check_id, "cannot-tell", detail, would_tell=f"fix {by} first", blocked_by=by)


def failures_first(checks: list[Check]) -> list[Check]:
    """Checks ordered fails → cannot-tell → ok, each group in the order the guest meets them."""
    return sorted(checks, key=lambda c: (_RANK[c.status], CHECK_ORDER.get(c.id, 99)))


def worst(statuses: list[Status]) -> Status:
    return min(statuses, key=_RANK.__getitem__, default="ok")


@dataclass
class ProvisionItem:
    """One thing to put somewhere so that a value unseals: a KBS resource, or a file in the guest."""

    what: str
    """e.g. `public JWK of kid kbs:///default/signing/pub`."""
    resource: str
    """The KBS resource path `repo/type/tag`."""
    source: str
    """The local file whose content goes there (a placeholder when sealtui cannot know it)."""
    guest_path: str | None = None
    """For a credential file: where CDH must find it in the guest ([[credentials]] path)."""
    present: bool | None = None
    """With --trustee: whether the resource exists there."""
    operator_problem: str | None = None
    """Why trustee-operator cannot serve this path (repo not `default`, Secret name not DNS-1123), if so."""

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "resource": self.resource, "source": self.source, "guest_path": self.guest_path,
                "present": self.present, "operator_problem": self.operator_problem}


@dataclass
class Value:
    """One value that reaches the kata agent: an env value or a file of a mounted volume."""

    container: str
    source: Literal["env", "envFrom", "volume", "secret"]
    """`secret`: a value of a Secret (or ConfigMap) that no workload in the files uses."""
    name: str
    """The env variable's name, the file's path inside the container, or the Secret's key."""
    origin: str
    """Where it comes from, e.g. `env[0].value` or `Secret/app key password (data)`."""
    text: str
    """The value exactly as it reaches the agent (what to open in Inspect)."""
    file: str
    line: int | None
    checks: list[Check] = field(default_factory=list)
    provision: list[ProvisionItem] = field(default_factory=list)
    form: str = ""
    kind: str | None = None
    kid: str | None = None
    signature_verified: bool | None = None
    summary: str = ""

    @property
    def status(self) -> Status:
        return worst([c.status for c in self.checks])

    def to_dict(self) -> dict[str, Any]:
        return {"container": self.container, "source": self.source, "name": self.name, "origin": self.origin,
                "file": self.file, "line": self.line, "status": self.status, "form": self.form, "kind": self.kind,
                "kid": self.kid, "signature_verified": self.signature_verified, "summary": self.summary,
                "text": self.text, "checks": [c.to_dict() for c in failures_first(self.checks)],
                "provision": [p.to_dict() for p in self.provision]}


@dataclass
class Container:
    name: str
    values: list[Value] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that are not checks (e.g. a Secret that is not in these files)."""

    @property
    def status(self) -> Status:
        return worst([v.status for v in self.values])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "notes": list(self.notes),
                "values": [v.to_dict() for v in sorted(self.values, key=lambda v: _RANK[v.status])]}


@dataclass
class InitdataInfo:
    """The initdata doctor decoded from a workload's annotation."""

    algorithm: str | None
    digest: str | None
    """Hex digest over the exact decompressed TOML bytes (what the TEE measures), when the algorithm is valid."""
    toml_bytes: int
    keys: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Workload:
    kind: str
    name: str
    namespace: str | None
    file: str
    line: int | None
    runtime_class: str | None = None
    checks: list[Check] = field(default_factory=list)
    """Checks of the pod as a whole (runtime class, initdata, cdh.toml, aa.toml, credentials)."""
    containers: list[Container] = field(default_factory=list)
    initdata: InitdataInfo | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}" + (f" (namespace {self.namespace})" if self.namespace else "")

    @property
    def values(self) -> list[Value]:
        return [v for c in self.containers for v in c.values]

    @property
    def status(self) -> Status:
        return worst([c.status for c in self.checks] + [v.status for v in self.values])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "namespace": self.namespace, "file": self.file,
                "line": self.line, "runtime_class": self.runtime_class, "status": self.status,
                "initdata": self.initdata.to_dict() if self.initdata else None, "notes": list(self.notes),
                "checks": [c.to_dict() for c in failures_first(self.checks)],
                "containers": [c.to_dict() for c in self.containers]}


@dataclass
class InputProblem:
    """A file doctor could not read or parse."""

    file: str
    message: str
    fix: str | None = None


@dataclass
class DoctorResult:
    workloads: list[Workload] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    files: int = 0
    kata_version: str = ""
    """The kata release the checks assumed, and whether it was given or assumed."""
    assumptions: list[str] = field(default_factory=list)
    advice: list[tuple[str, str]] = field(default_factory=list)

    def checks(self) -> list[Check]:
        return [c for w in self.workloads for c in w.checks + [c for v in w.values for c in v.checks]]

    @property
    def values(self) -> list[Value]:
        return [v for w in self.workloads for v in w.values]

    @property
    def would_stay_sealed(self) -> bool:
        """Any check fails: some value reaches the container still sealed (or the pod does not start)."""
        return any(c.status == "fails" for c in self.checks())

    @property
    def signature_fails(self) -> bool:
        return any(v.signature_verified is False for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        counts = {s: 0 for s in _RANK}
        for c in self.checks():
            counts[c.status] += 1
        return {"files": self.files, "kata_version": self.kata_version, "assumptions": list(self.assumptions),
                "would_stay_sealed": self.would_stay_sealed, "signature_fails": self.signature_fails,
                "counts": counts,
                "problems": [asdict(p) for p in self.problems],
                "workloads": [w.to_dict() for w in sorted(self.workloads, key=lambda w: _RANK[w.status])],
                "advice": [{"id": i, "text": t} for i, t in self.advice]}
