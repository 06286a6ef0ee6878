"""`sealtui seal bulk`: seal many values into one Secret manifest, the KMS calls in parallel."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sealtui.cli import _io
from sealtui.cli._signing import add_signing_arguments


def register_seal_bulk(seal_subparsers: Any) -> None:
    from sealtui.cli._target import add_credential_arguments

    p = seal_subparsers.add_parser(
        "bulk", help="seal many KEY=value pairs (a .env file or stdin) into one Secret manifest",
        description="Read KEY=value lines (.env grammar) from --env-file or standard input, seal each value "
        "as an envelope secret with the KMS calls in parallel, and write one Kubernetes Secret. One failure "
        "names the key and writes nothing.")
    p.add_argument("--env-file", type=Path, metavar="FILE",
                   help=f"the values (default: standard input; {_io.FILE_HELP})")
    p.add_argument("--provider", default="aliyun", choices=["aliyun"], help="the KMS provider (default aliyun)")
    p.add_argument("--key-id", required=True, metavar="K", help="key-…, alias/<name> or an alibabakms:// URI")
    add_credential_arguments(p)
    add_signing_arguments(p, credentials=False, newline=False)
    p.add_argument("--name", required=True, help="the Secret's name")
    p.add_argument("--namespace", metavar="NS", help="the Secret's namespace")
    p.add_argument("--data", action="store_true", help="write base64 `data` instead of `stringData`")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="write the manifest here (a new file, written whole or not at all); default stdout")
    p.add_argument("--workers", type=int, default=8, metavar="N", help="parallel KMS calls (default 8)")
    _io.add_oversized_flag(p)
    p.set_defaults(func=cmd_seal_bulk)


def cmd_seal_bulk(args: argparse.Namespace) -> int:
    from sealtui.cli._signing import signing_key
    from sealtui.cli._target import kms_target
    from sealtui.core.bulk import parse_env
    from sealtui.core.keyref import parse_key_ref
    from sealtui.core.manifest import build_manifest
    from sealtui.service.sealing import seal_values
    from sealtui.service.signing import signer_for

    if args.output is not None:
        _io.check_new_file(args.output)  # before any KMS call
    if args.env_file is not None and str(args.env_file) != "-":
        text, source = _io.read_text(args.env_file, "the KEY=value file"), str(args.env_file)
    else:
        text = _io.read_stdin_text("the KEY=value lines",
                                   "no values: give --env-file FILE or pipe KEY=value lines on standard input")
        source = "standard input"
    values = parse_env(text, source)
    parse_key_ref(args.key_id)
    target = kms_target(args, args.key_id)
    key = signing_key(args)
    signer_for(key, target)  # before any KMS call: a bad signing key should cost nothing

    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            sys.stderr.write(f"\rsealing {done}/{total}")
            sys.stderr.flush()

    try:
        with _io.oversized_hint():
            sealed = {v.name: v.sealed for v in seal_values(target, key, values, progress=progress,
                                                             workers=args.workers,
                                                             allow_oversized=args.allow_oversized)}
    finally:
        if show:
            sys.stderr.write("\n")
    manifest = build_manifest(args.name, sealed, args.namespace, "data" if args.data else "stringData",
                              allow_oversized=args.allow_oversized)
    text_out = manifest.to_yaml()
    if args.output is not None:
        _io.write_new_file(args.output, text_out.encode("utf-8"))
        _io.note(f"sealed {len(sealed)} value(s) into {args.output}")
    else:
        sys.stdout.write(text_out)
    return _io.EXIT_OK
