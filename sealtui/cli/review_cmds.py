"""Reviewer commands: scan manifests, diff sealed values, re-sign legacy forms. No KMS involved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sealtui.cli import _io
from sealtui.cli._signing import add_signing_arguments, emit_sealed, load_signer


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "scan", help="find and check every sealed value in Kubernetes YAML/JSON files",
        description="Find every sealed value in manifests (Secret data/stringData, env values, any string "
        "starting with sealed.) and report its form, verdicts and findings. Exits 3 when any value would be "
        "rejected by the chosen consumer, 4 when a signature fails: usable as a CI gate or pre-commit hook.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="files or directories (regular files of at most 64 MiB; FIFOs and devices are skipped)")
    p.add_argument("--jwk", type=Path, metavar="PUBLIC.json", help="verify every signature with this key")
    p.add_argument("--kid-map", type=Path, metavar="FILE", help="YAML/JSON map of kid to public JWK file")
    p.add_argument("--consumer", default="cdh",
                   choices=["cdh", "cdh-skip-verification", "kata-agent", "openanolis-cdh"],
                   help="whose verdict gates the exit code (default cdh)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_scan)

    p = subparsers.add_parser(
        "diff", help="compare two sealed values or two manifests by metadata, never plaintext",
        description="Compare two sealed values field by field, or two manifests value by value (paired by object "
        "and key path), by decoded metadata only. Exits 0 when they are the same, 1 when they differ, 3 when a "
        "side is not a sealed value or a manifest.")
    p.add_argument("a", metavar="A", help="a file holding a sealed value or a manifest, - for standard input, or "
                   "the sealed value itself")
    p.add_argument("b", metavar="B", help="the same, for the other side")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--all", action="store_true", help="show the fields that are the same too")
    _io.add_text_flag(p, "A and B")
    p.set_defaults(func=cmd_diff)

    p = subparsers.add_parser(
        "resign", help="turn a legacy or differently signed value into the canonical signed form",
        description="Re-sign without decrypting anything: converts fake-jws, fake-jws-padded, legacy-base64, "
        "bare-json and whitespace-damaged values; refuses when the payload itself is invalid.")
    _io.add_input_arguments(p, "the sealed value")
    p.add_argument("--manifest", type=Path, metavar="FILE",
                   help=f"re-sign every sealed value in a manifest file ({_io.FILE_HELP})")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="with --manifest: write the result here (new file, never overwritten; default stdout)")
    add_signing_arguments(p)
    p.set_defaults(func=cmd_resign)


def cmd_scan(args: argparse.Namespace) -> int:
    """Each value is written as it is found and then dropped: memory does not grow with the number of files."""
    from sealtui.core.scan import write_scan_json
    from sealtui.service.review import start_scan

    running = start_scan(args.paths, args.jwk, args.kid_map)
    if args.json:
        counts = write_scan_json(running, sys.stdout, args.consumer)
        sys.stdout.write("\n")
    else:
        counts = write_scan_text(running, sys.stdout, args.consumer)
    for e in running.errors:
        _io.note(f"sealtui: error: {e.file}: {e.message}" + (f"\n  fix: {e.fix}" if e.fix else ""))
    if counts.bad_signatures:
        return _io.EXIT_VERIFY
    if counts.rejected or running.errors:
        return _io.EXIT_INVALID
    return _io.EXIT_OK


def write_scan_text(running: Any, out: Any, consumer: str) -> Any:
    """One line per value (and one per finding that is not info), then the totals; returns the `ScanCounts`."""
    from sealtui.core.scan import ScanCounts

    counts = ScanCounts()
    for v in running.values():
        r = v.report
        verdict = r.verdicts[consumer]
        sig = {True: "verified", False: "BAD SIGNATURE", None: ""}[r.signature.verified]
        lines = [f"{v.file}:{v.line}  {v.resource}  {v.path}  {r.form}  {consumer}={verdict}  {sig}".rstrip()]
        lines += [f"    {f.severity}: {f.code}: {f.message}" for f in r.findings if f.severity != "info"]
        out.write("\n".join(lines) + "\n")
        counts.add(v, consumer)
    out.write(f"{counts.values} sealed value(s) in {len(running.files)} file(s); {counts.rejected} rejected by "
              f"{consumer}\n")
    return counts


def cmd_diff(args: argparse.Namespace) -> int:
    from sealtui.core.errors import UsageError
    from sealtui.service.review import compare

    if args.a == args.b == "-" and not args.literal:
        raise UsageError("only one side can be standard input")
    a, name_a = _io.value_or_file(args.a, "a sealed value or manifest", literal=args.literal)
    b, name_b = _io.value_or_file(args.b, "a sealed value or manifest", literal=args.literal)
    comparison = compare(a, b, (name_a, name_b))
    if comparison.entries is not None:
        entries = comparison.entries
        if args.json:
            _io.print_json([{"key": e.key, "status": e.status,
                             "fields": [{"field": r.field, "a": r.a, "b": r.b} for r in e.rows
                                        if args.all or not r.same]} for e in entries])
        else:
            for e in entries:
                sys.stdout.write(f"{e.status:<8} {e.key}\n")
                for r in e.rows:
                    if args.all or not r.same:
                        sys.stdout.write(f"           {r.field}: {r.a!r} -> {r.b!r}\n")
        return _io.EXIT_OK if comparison.same else 1
    rows = comparison.rows or []
    if args.json:
        _io.print_json([{"field": r.field, "a": r.a, "b": r.b, "same": r.same} for r in rows])
    else:
        width = max(len(r.field) for r in rows)
        for r in rows:
            if args.all or not r.same:
                mark = " " if r.same else "≠"
                sys.stdout.write(f"{mark} {r.field:<{width}}  {r.a!r:<40}  {r.b!r}\n")
    return _io.EXIT_OK if comparison.same else 1


def cmd_resign(args: argparse.Namespace) -> int:
    from sealtui.core.resign import resign, resign_manifest

    signer = load_signer(args)
    if args.manifest:
        text = _io.read_text(args.manifest, "the manifest")
        new_text, done = resign_manifest(text, signer)
        for where, r in done:
            _io.note(f"{where}: " + "; ".join(r.changes))
        _io.note(f"re-signed {len(done)} value(s)")
        if args.output:
            _io.write_new_file(args.output, new_text.encode("utf-8"))
        else:
            sys.stdout.write(new_text)
        return _io.EXIT_OK
    r = resign(_io.read_input_text(args, "a sealed value"), signer)
    for change in r.changes:
        _io.note(f"resign: {change}")
    emit_sealed(r.sealed, args)
    return _io.EXIT_OK
