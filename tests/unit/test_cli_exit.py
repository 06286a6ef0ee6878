"""The `sealtui` command ends its process itself when a command is done (`sealtui.cli.exit_process`), skipping the
interpreter's teardown: what the command wrote, its exit code and the atexit handlers must all survive that."""

from __future__ import annotations

import subprocess
import sys

from tests.paths import ROOT

SEALED = "sealed.fakejwsheader.e30.fakesignature"


def _run(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = (f"{prelude}\nimport sys\nsys.argv = ['sealtui', *{list(args)!r}]\n"
            "from sealtui.__main__ import main\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_output_exit_code_and_atexit_handlers_survive_the_fast_exit():
    prelude = "import atexit, sys\natexit.register(lambda: sys.stderr.write('atexit ran\\n'))"
    out = _run(prelude, "inspect", "--json", SEALED)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("}") and '"form": "fake-jws"' in out.stdout
    assert out.stderr.endswith("atexit ran\n")
    out = _run(prelude, "verify", "--jwk", "/nonexistent/public.json", SEALED)
    assert out.returncode != 0 and "atexit ran" in out.stderr and "Traceback" not in out.stderr


def test_a_thread_still_running_is_waited_for():
    """With another (non-daemon) thread alive, the interpreter's own exit runs, and waits for it."""
    prelude = ("import threading, time, sys\n"
               "threading.Thread(target=lambda: (time.sleep(0.3), sys.stderr.write('thread done\\n'))).start()")
    out = _run(prelude, "inspect", "--json", SEALED)
    assert out.returncode == 0, out.stderr
    assert "thread done" in out.stderr


def test_main_with_arguments_returns_instead():
    code = ("import io, contextlib\nfrom sealtui.__main__ import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    code = main(['inspect', {SEALED!r}])\n"
            "print('returned', code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "returned 0", out.stderr


def _help(parser, argv):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), contextlib.suppress(SystemExit):
        parser.parse_args(argv)
    return out.getvalue()


def _command_paths(parser, prefix=()):
    """Every command and subcommand of `parser`, as argument lists (`["seal", "envelope"]`, …)."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield [*prefix, name]
                yield from _command_paths(sub, (*prefix, name))


def test_the_parser_built_for_one_command_says_what_the_full_one_says():
    """`main` builds only the options of the command it runs; its help, and the errors of any command name, must
    read exactly as with every command built."""
    from sealtui.cli import build_parser

    full = build_parser()
    paths = list(_command_paths(full))
    assert ["seal", "envelope"] in paths and ["credentials", "check"] in paths
    for path in paths:
        assert _help(build_parser(path[0]), [*path, "--help"]) == _help(full, [*path, "--help"]), path
        assert _help(build_parser(path[0]), [*path, "--no-such-option"]) == _help(full, [*path, "--no-such-option"])
    for argv in (["--help"], ["inspct"], ["seal"], []):
        assert _help(build_parser(argv[0] if argv else None), argv) == _help(full, argv), argv
