"""What the Doctor screen shows for the node under the cursor: a value with its checks and what to provision, a
workload with its initdata and pod checks, a container, a file that could not be read, or the whole run.

Pure functions of `sealtui.core.doctor`'s results to Rich renderables. Every string from the files or the checks
goes into `Text` (never markup), and long text wraps inside its column with nothing cut (`overflow="fold"`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from sealtui.core.doctor import Check, Container, DoctorRun, InputProblem, Status, Value, Workload

__all__ = ["MARK", "container_detail", "doctor_wording", "label", "problem_detail", "run_detail", "value_detail",
           "workload_detail"]

MARK: dict[str, tuple[str, str, str]] = {
    "fails": ("✖", "FAILS", "bold red"),
    "cannot-tell": ("?", "CANNOT TELL", "bold yellow"),
    "ok": ("✓", "ok", "bold green"),
}
"""A status → its mark in the tree, its word in the detail, and their style."""

_DOCTOR_FLAGS = (("--trustee DIR", "the Trustee directory"), ("give --trustee a directory",
                  "give the Trustee field a directory"), ("--trustee ", "Trustee "),
                 ("--jwk / --kid-map", "a public JWK or a kid map"), ("e.g. --kata-version ", "e.g. "),
                 ("pass --kata-version", "fill in the Kata field"), ("--kata-version", "the Kata field"))
"""The doctor options that the checks' texts name, as the screen's fields are called. (Not the app-wide
`tui_wording`: the fixes also name other tools' options, such as `secret seal --signing-kid`, kept as they are.)"""


def doctor_wording(text: str) -> str:
    """`text` with the `sealtui doctor` options it names put as the Doctor screen calls them."""
    for flag, words in _DOCTOR_FLAGS:
        text = text.replace(flag, words)
    return text


def label(status: Status, text: str, extra: str = "") -> Text:
    """A tree label: the status mark, the name, and (dim) what fails."""
    mark, _, style = MARK[status]
    out = Text(f"{mark} ", style=style)
    out.append(text)
    if extra:
        out.append(f" {extra}", style="dim")
    return out


def _status(status: Status) -> Text:
    _, word, style = MARK[status]
    return Text(word, style=style)


def _fields(rows: Iterable[tuple[str | Text, str | Text | None]]) -> Table:
    """Label / value lines; the value wraps under itself (a hanging indent), nothing cut."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(ratio=1, overflow="fold")
    for name, value in rows:
        if value is None or value == "":
            continue
        grid.add_row(name, value if isinstance(value, Text) else Text(value, overflow="fold"))
    return grid


def _title(text: str, status: Status | None = None) -> Text:
    out = Text(text, style="bold", overflow="fold")
    if status is not None:
        out.append("  ")
        out.append_text(_status(status))
    return out


def _section(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def checks_view(checks: list[Check]) -> list[RenderableType]:
    """Each check that fails or cannot tell, failures first, with what doctor saw, the guest's own message and the
    fix (or what would tell); then the numbers of those that pass."""
    from sealtui.core.doctor import failures_first

    out: list[RenderableType] = []
    oks = []
    for c in failures_first(checks):
        if c.status == "ok":
            oks.append(c.id.split("-", 1)[0])
            continue
        mark, word, style = MARK[c.status]
        head = Text(f"{mark} {word} ", style=style)
        head.append(c.id, style="bold")
        if c.likely:
            head.append(" (likely)", style="dim")
        out.append(head)
        rows: list[tuple[str, str | None]] = [("saw", doctor_wording(c.detail))]
        if c.status == "fails":
            rows += [("guest", c.guest_message), ("fix", doctor_wording(c.fix or ""))]
        else:
            rows.append(("tells", doctor_wording(c.would_tell or "")))
        out.append(Padding(Group(Text(c.title, style="dim", overflow="fold"), _fields(rows)), (0, 0, 0, 2)))
    if oks:
        line = Text("✓ ok ", style="bold green")
        line.append(" ".join(oks), style="green")
        out.append(line)
    return out


def value_detail(run: DoctorRun, workload: Workload, value: Value, jwk_given: bool) -> Group:
    """A value: where it comes from, its checks, and what to provision for it."""
    from sealtui.service.doctor import provision_text, value_plan

    signature = {True: Text("verified", style="bold green"), False: Text("BAD SIGNATURE", style="bold red"),
                 None: Text("not checked" + ("" if jwk_given else " (give a public JWK or a kid map)"),
                            style="dim")}[value.signature_verified]
    form = ", ".join(x for x in (value.form, value.kind or "") if x)
    parts: list[RenderableType] = [_title(f"{value.source} {value.name}", value.status)]
    pod_fails = [c.id for c in workload.checks if c.status == "fails"]
    if pod_fails:
        parts.append(Text(f"the pod fails too ({', '.join(pod_fails)}): see {workload.label}", style="bold red",
                          overflow="fold"))
    parts += checks_view(value.checks)
    parts.append(_section("The value"))
    parts.append(_fields([("in", f"{workload.label} › container {value.container}"), ("from", value.origin),
                          ("file", _where(value.file, value.line)), ("form", form), ("kid", value.kid),
                          ("signature", signature if value.kid or value.form == "signed-jws" else None)]))
    parts.append(Text("enter opens it in Inspect", style="dim"))
    parts.append(_section("What to provision where (ctrl+y copies)"))
    if not value.provision:
        parts.append(Text("nothing: this value needs no KBS resource (or a failing check stops it first)",
                          style="dim"))
    else:
        for p in value.provision:
            state = {True: ("present", "green"), False: ("MISSING", "bold red"), None: ("provision", "")}[p.present]
            line = Text(f"{p.resource} ← {p.source}", style="bold", overflow="fold")
            line.append(f"  ({p.what})", style="dim")
            if p.guest_path:
                line.append(f"\nin the guest at {p.guest_path}")
            if p.operator_problem:
                line.append(f"\ntrustee-operator cannot serve it: {p.operator_problem}", style="yellow")
            parts.append(_fields([(Text(state[0], style=state[1]), line)]))
        parts.append(Text(""))
        parts.append(commands(provision_text(value_plan(run, value))))
    return Group(*parts)


def commands(text: str) -> Table:
    """Shell lines and TOML, each command marked `$` and wrapping under itself (nothing cut, and a wrapped line
    never looks like the next command); comments dim."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for line in text.splitlines():
        if line.startswith("#"):
            grid.add_row(Text("#", style="dim"), Text(line[1:].lstrip(), style="dim", overflow="fold"))
        elif line.startswith(("kbs-client ", "kubectl ")):
            grid.add_row(Text("$", style="bold"), Text(line, style="cyan", overflow="fold"))
        else:
            grid.add_row("", Text(line, style="cyan", overflow="fold"))
    return grid


def workload_detail(workload: Workload) -> Group:
    """A workload: its file, runtime class, the initdata found (digest over the exact TOML bytes), its pod
    checks."""
    parts: list[RenderableType] = [_title(workload.label, workload.status)]
    i = workload.initdata
    rows: list[tuple[str | Text, str | Text | None]] = [
        ("file", _where(workload.file, workload.line)),
        ("runtime", workload.runtime_class or Text("none", style="dim"))]
    if i is None:
        rows.append(("initdata", Text("none found", style="dim")))
    else:
        rows += [("initdata", f"{i.algorithm or '?'} over {i.toml_bytes} bytes of TOML (keys: "
                              f"{', '.join(i.keys) or 'none'})"),
                 ("digest", i.digest or Text("none: the algorithm is not valid", style="yellow"))]
    parts.append(_fields(rows))
    if i is not None and i.digest:
        parts.append(Text("ctrl+y copies the digest", style="dim"))
    parts += [Text(f"note: {n}", overflow="fold") for n in workload.notes]
    if workload.checks:
        parts.append(_section("Pod checks"))
        parts += checks_view(workload.checks)
    parts.append(_section("Values"))
    parts.append(_values(workload.values, lambda v: f"container {v.container}"))
    return Group(*parts)


def container_detail(workload: Workload, container: Container) -> Group:
    parts: list[RenderableType] = [_title(f"container {container.name}", container.status),
                                   _fields([("in", workload.label)])]
    parts += [Text(f"note: {n}", overflow="fold") for n in container.notes]
    parts.append(_section("Values"))
    parts.append(_values(container.values, lambda v: v.origin))
    return Group(*parts)


def problem_detail(problems: Iterable[InputProblem]) -> Group:
    """Files that could not be read: each with its problem (the file:line of bad YAML) and the fix."""
    parts: list[RenderableType] = [_title("Could not be read", "fails")]
    for p in problems:
        file = None if p.message.startswith(p.file) else p.file  # the message names it (with the line) already
        parts += [Text(""), _fields([("file", file), ("problem", doctor_wording(p.message)),
                                     ("fix", doctor_wording(p.fix or ""))])]
    return Group(*parts)


def run_detail(run: DoctorRun) -> Group:
    """The whole run: the kata release assumed, the assumptions, what to provision for every value, and how to
    look in the guest."""
    from sealtui.service.doctor import provision_text

    result = run.result
    parts: list[RenderableType] = [_title("Every value"), Text(doctor_wording(result.kata_version), overflow="fold")]
    parts += [Text(f"note: {doctor_wording(a)}", overflow="fold") for a in result.assumptions]
    parts.append(_section("What to provision where (ctrl+y copies)"))
    if run.plan.items:
        parts.append(commands(provision_text(run.plan)))
    else:
        parts.append(Text("nothing to provision", style="dim"))
    parts.append(_section("How to look in the guest"))
    parts.append(_fields([(i.split("-", 1)[0], t) for i, t in result.advice]))
    return Group(*parts)


def _values(values: Iterable[Value], where: Callable[[Value], str]) -> Table:
    """One line per value: its mark, then its name and (dim) where it is, wrapping under the name."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for v in values:
        mark, _, style = MARK[v.status]
        text = Text(f"{v.source} {v.name}", overflow="fold")
        text.append(f"  {where(v)}", style="dim")
        grid.add_row(Text(mark, style=style), text)
    return grid


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file
