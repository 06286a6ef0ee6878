"""Doctor: before deploying, every reason a pod would still see `sealed.…`, and what to provision where.

Runs `sealtui doctor` (`service.doctor.check_manifests`) over a manifest directory or files and shows workloads →
containers → values as a tree, failures first, each with a mark; the pane beside it shows the node under the
cursor: a value's checks (the guest's own message and the fix), the initdata found, and what to provision where.
Enter on a value opens it in Inspect. No credentials are needed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from sealtui.screens import doctor_detail as detail
from sealtui.screens.base import PaletteCommand, ScreenMessage, SealtuiScreen
from sealtui.widgets.frame import ErrorLine

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sealtui.core.doctor import Container, DoctorRun, InputProblem, Value, Workload

__all__ = ["DoctorScreen", "DoctorTree", "Entry"]


@dataclass(frozen=True)
class Entry:
    """What a tree node stands for: files that could not be read, a workload, a container, a value, or (none of
    them) the whole run."""

    problems: tuple[InputProblem, ...] = ()
    """The files that could not be read (one for a file's node, all of them for their group's)."""
    workload: Workload | None = None
    container: Container | None = None
    value: Value | None = None


class DoctorTree(Tree[Entry]):
    """The workloads → containers → values tree. Enter on a value asks to open it in Inspect; a click only moves
    the cursor (so that reading the details with the mouse never leaves the screen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Inspect", show=False, id="doctor.tree-open",
                tooltip="Open the value in Inspect (on any other node: expand or collapse it)"),
    ]

    @dataclass
    class Open(Message):
        """Enter was pressed on a value."""

        tree: DoctorTree
        value: Value

        @property
        def control(self) -> DoctorTree:
            return self.tree

    def action_open(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None and node.data.value is not None:
            self.post_message(self.Open(self, node.data.value))
        else:
            self.action_select_cursor()  # as a plain tree does: expand or collapse


class DoctorScreen(SealtuiScreen):
    """Check manifests for every reason a value would stay sealed."""

    MODE = "doctor"
    CSS_PATH = "doctor.tcss"
    AUTO_FOCUS = "#path"
    HELP_TEXT = ("Give a manifest directory or files (YAML/JSON; quote a path that holds spaces) and check them as "
                 "the guest would: for every value that reaches the kata agent (env, envFrom, Secret volume files), "
                 "each check is ok, fails (with the guest's own message and the fix) or cannot tell (with what "
                 "would tell), failures first. The kata version decides env/volume support and signature "
                 "verification; a Trustee directory (a KbsConfig and its Secrets, or a KBS resource store) settles "
                 "whether each resource exists; a public JWK or a kid map verifies signatures. The pane on the right "
                 "shows the node under the cursor: a value's checks and what to provision where (ctrl+y copies it), "
                 "a workload's initdata digest. Enter on a value opens it in Inspect.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "check", "Check", id="doctor.run", tooltip="Check the manifests with the options given"),
        Binding("ctrl+o", "browse", "Browse", id="doctor.browse", tooltip="Choose the directory or file to check"),
        Binding("ctrl+t", "focus_tree", "Results", id="doctor.tree", tooltip="Move to the results tree"),
        Binding("ctrl+l", "open", "Inspect", id="doctor.open",
                tooltip="Open the selected value in the Inspect screen (also: enter on a value)"),
        Binding("ctrl+y", "copy", "Copy", id="doctor.copy", priority=True,
                tooltip="Copy what to provision where for the selected value (for every value on the last node), "
                "or a workload's initdata digest"),
    ]

    @dataclass
    class Checked(ScreenMessage):
        """The check finished."""

        run: DoctorRun

    def __init__(self) -> None:
        super().__init__()
        self.run: DoctorRun | None = None
        """The last check's result (tests read it)."""
        self._jwk_given = False

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            with Horizontal(classes="form-row"):
                yield Label("Manifests")
                yield Input(id="path", placeholder="a directory or files of Kubernetes YAML/JSON", compact=True)
                yield Button("Check ^r", id="check", variant="primary", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Kata")
                yield Input(id="kata", placeholder="newest", compact=True)
                yield Label("Trustee", classes="inline")
                yield Input(id="trustee", placeholder="optional: KbsConfig + Secrets, or a KBS resource store",
                            compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Public JWK")
                yield Input(id="jwk", placeholder="optional: verify signatures", compact=True)
                yield Label("or kid map", classes="inline")
                yield Input(id="kid-map", placeholder="optional: kid → JWK file", compact=True)
            yield Static(Text("Give a manifest directory and press ctrl+r.", style="dim"), id="summary")
            with Horizontal(id="results"):
                yield DoctorTree(Text("results"), id="tree")
                with VerticalScroll(id="detail-pane"):
                    yield Static(id="detail")

    def on_body_ready(self) -> None:
        tree = self.query_one(DoctorTree)
        tree.show_root = False
        tree.guide_depth = 2
        super().on_body_ready()

    def palette_commands(self) -> list[PaletteCommand]:
        return [("doctor: check", "Check the manifests with the options given", self.action_check),
                ("doctor: open the value in Inspect", "Inspect the selected value", self.action_open),
                ("copy: what to provision where", "For the selected value, or every value on the last node",
                 self.action_copy)]

    # --- actions ------------------------------------------------------------------------------------------

    @on(Input.Submitted)
    @on(Button.Pressed, "#check")
    def action_check(self) -> None:
        """Check the manifests given, with the options given."""
        self.clear_error()
        fields = [self.query_one(f"#{name}", Input).value.strip() for name in ("path", "kata", "trustee", "jwk",
                                                                            "kid-map")]
        self._jwk_given = bool(fields[3] or fields[4])
        self._check(*fields)

    def action_browse(self) -> None:
        from sealtui.screens.dialogs import PathDialog, PathRequest

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#path", Input).value = shlex.quote(str(path))
                self.action_check()

        self.app.push_screen(PathDialog(PathRequest("Directory or file to check", Path.cwd(), want_dir=True)),
                             chosen)

    def action_focus_tree(self) -> None:
        self.query_one(DoctorTree).focus()

    def action_open(self) -> None:
        """Open the value under the cursor in the Inspect screen."""
        entry = self.selected()
        if entry is None or entry.value is None:
            self.notify("no value selected: check, then move to a value", severity="warning", markup=False)
            return
        self._open(entry.value)

    @on(DoctorTree.Open)
    def _open_requested(self, message: DoctorTree.Open) -> None:
        self._open(message.value)

    def _open(self, value: Value) -> None:
        jwk = self.query_one("#jwk", Input).value.strip() or None
        where = f"{value.file}:{value.line}" if value.line else value.file
        self.run_worker(self.sealtui.open_in_inspect(value.text, source=where, jwk=jwk), exclusive=True,
                        group="open", exit_on_error=False)

    def action_copy(self) -> None:
        """Copy what to provision for the selected value (every value on the last node), or a workload's
        initdata digest."""
        from sealtui.service.doctor import provision_text, value_plan

        entry, run = self.selected(), self.run
        if run is None or entry is None:
            self.notify("nothing to copy: check first", severity="warning", markup=False)
        elif entry.value is not None:
            if entry.value.provision:
                self.sealtui.copy_text(provision_text(value_plan(run, entry.value)), what="what to provision")
            else:
                self.notify("this value needs nothing provisioned", severity="warning", markup=False)
        elif entry.workload is not None and entry.container is None:
            info = entry.workload.initdata
            if info is not None and info.digest:
                self.sealtui.copy_text(info.digest, what=f"initdata {info.algorithm} digest")
            else:
                self.notify("no initdata digest for this workload", severity="warning", markup=False)
        elif not entry.problems and entry.container is None and run.plan.items:
            self.sealtui.copy_text(provision_text(run.plan), what="what to provision (every value)")
        else:
            self.notify("select a value, a workload or the last node to copy", severity="warning", markup=False)

    def selected(self) -> Entry | None:
        """What the tree's cursor is on."""
        node = self.query_one(DoctorTree).cursor_node
        return node.data if node is not None else None

    # --- the worker -----------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, description="checking the manifests")
    def _check(self, paths: str, kata: str, trustee: str, jwk: str, kid_map: str) -> None:
        from sealtui.service.doctor import check_manifests, parse_paths

        run = check_manifests(parse_paths(paths), kata_version=kata or None, trustee=trustee or None,
                              jwk=jwk or None, kid_map=kid_map or None)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Checked(self, run))

    # --- results --------------------------------------------------------------------------------------------

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        self.run = message.run
        self.query_one("#summary", Static).update(_summary(message.run))
        first = self._fill_tree(message.run)
        tree = self.query_one(DoctorTree)
        tree.focus()
        if first is not None:
            _ = tree.last_line  # lays out the new lines (lazily built), so that each node knows its line
            tree.move_cursor(first)
            self._show(first.data)

    def _fill_tree(self, run: DoctorRun) -> TreeNode[Entry] | None:
        """Fill the tree, failures first; return the node to start on: a file that could not be read, else the
        first value that fails, else the first node."""
        from sealtui.service.doctor import failures_first

        tree = self.query_one(DoctorTree)
        tree.clear()
        result = run.result
        start: TreeNode[Entry] | None = None
        if result.problems:
            files = tree.root.add(detail.label("fails", f"{len(result.problems)} file(s) could not be read"),
                                  Entry(problems=tuple(result.problems)), expand=True)
            for p in result.problems:
                node = files.add_leaf(detail.label("fails", p.file), Entry(problems=(p,)))
                start = start or node
        # Open every workload while the tree stays small; past that, only the ones that fail.
        small = len(result.values) <= 200
        for w in failures_first(result.workloads):
            pod = " ".join(c.id.split("-", 1)[0] for c in w.checks if c.status == "fails")
            wnode = tree.root.add(detail.label(w.status, w.label, f"pod {pod}" if pod else ""), Entry(workload=w),
                                  expand=small or w.status == "fails")
            for c in failures_first(w.containers):
                cnode = wnode.add(detail.label(c.status, f"container {c.name}"), Entry(workload=w, container=c),
                                  expand=True)
                for v in failures_first(c.values):
                    fails = " ".join(k.id.split("-", 1)[0] for k in v.checks if k.status == "fails")
                    vnode = cnode.add_leaf(detail.label(v.status, f"{v.source} {v.name}", fails),
                                           Entry(workload=w, container=c, value=v))
                    if start is None and v.status == "fails":
                        start = vnode
        if result.workloads:
            tree.root.add_leaf(Text("⚑ all values: provision, notes", style="bold"), Entry())
        else:
            tree.root.add_leaf(Text("no sealed values found", style="dim"), Entry())
        return start or (tree.root.children[0] if tree.root.children else None)

    @on(Tree.NodeHighlighted, "#tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        self._show(event.node.data)

    def _show(self, entry: Entry | None) -> None:
        run = self.run
        if run is None or entry is None:
            return
        renderable: RenderableType
        if entry.problems:
            renderable = detail.problem_detail(entry.problems)
        elif entry.value is not None and entry.workload is not None:
            renderable = detail.value_detail(run, entry.workload, entry.value, self._jwk_given)
        elif entry.container is not None and entry.workload is not None:
            renderable = detail.container_detail(entry.workload, entry.container)
        elif entry.workload is not None:
            renderable = detail.workload_detail(entry.workload)
        else:
            renderable = detail.run_detail(run)
        self.query_one("#detail", Static).update(renderable)
        self.query_one("#detail-pane", VerticalScroll).scroll_home(animate=False)

    # --- errors -------------------------------------------------------------------------------------------

    def show_error(self, error: BaseException) -> None:
        """As every screen does, with the doctor options named as this screen's fields."""
        from sealtui.core.errors import SealtuiError

        if isinstance(error, SealtuiError):
            self.query_one(ErrorLine).show(detail.doctor_wording(error.message),
                                           detail.doctor_wording(error.fix) if error.fix else None)
        else:
            super().show_error(error)


def _summary(run: DoctorRun) -> Text:
    result = run.result
    counts = {"fails": 0, "cannot-tell": 0, "ok": 0}
    for c in result.checks():
        counts[c.status] += 1
    out = Text(f"{_count(len(result.workloads), 'workload')}, {_count(len(result.values), 'value')}, "
               f"{_count(result.files, 'file')}: ", style="bold")
    out.append(f"{counts['fails']} fail", style="bold red" if counts["fails"] else "bold green")
    out.append(f", {counts['cannot-tell']} cannot tell, {counts['ok']} ok")
    if result.problems:
        out.append(f"; {_count(len(result.problems), 'file')} could not be read", style="bold red")
    out.append(f" · {detail.doctor_wording(result.kata_version)}", style="dim")
    return out


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")
