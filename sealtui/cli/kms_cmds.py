"""CLI commands that talk to a KMS or handle its credentials: `unseal`, `credentials …`, `seal envelope`.

Only the standard library is imported here at module level: the SDK (0.3–0.5 s to import) and the core are
imported inside the handlers. Plaintext is never taken from argv, and goes to stdout only when asked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sealtui.cli import _io
from sealtui.cli._target import add_credential_arguments, add_endpoint, add_explicit_files, credential_source

__all__ = ["add_credential_arguments", "register", "register_seal_envelope"]

GUEST_DIR = "/run/confidential-containers/cdh/kbs/kms-credential/aliyun/"


def register(subparsers: Any) -> None:
    """Add `unseal` and `credentials {check,export-guest-bundle}`."""
    p = subparsers.add_parser(
        "unseal",
        help="open a sealed secret as CDH would: decrypt an envelope, or read an aliyun vault secret",
        description="Verify (or explicitly skip verifying) a sealed secret, then open it as CDH does in the "
        "guest: an envelope's data key is unwrapped through the KMS and the data decrypted; an aliyun vault "
        "secret is read with GetSecretValue.",
    )
    _io.add_input_arguments(p)
    p.add_argument(
        "--credentials-dir",
        type=Path,
        required=True,
        metavar="D",
        help="directory with the client key, its password and the CA bundle",
    )
    add_endpoint(p)
    verify = p.add_mutually_exclusive_group(required=True)
    verify.add_argument("--jwk", type=Path, metavar="PUBLIC.json", help="verify the signature with this JWK first")
    verify.add_argument("--skip-verification", action="store_true", help="do not check the signature")
    p.add_argument("-o", "--output", metavar="OUT", help="write the plaintext to OUT (mode 0600, never overwrites)")
    p.add_argument("--stdout", action="store_true", help="write the plaintext to standard output")
    p.set_defaults(func=cmd_unseal)

    creds = subparsers.add_parser("credentials", help="check or export KMS client-key credentials")
    creds.set_defaults(_group_parser=creds)
    sub = creds.add_subparsers(dest="credentials_command", metavar="COMMAND")
    p = sub.add_parser("check", help="check the credential files in a directory (exit 3 on any error)")
    p.add_argument("directory", type=Path, metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--connect",
        action="store_true",
        help="also connect: reachability, TLS trust, client key, and permission for --key-id",
    )
    p.add_argument("--key-id", metavar="K", help="with --connect: a key to check permission for")
    add_endpoint(p)
    p.set_defaults(func=cmd_credentials_check)

    p = sub.add_parser("export-guest-bundle", help="write the files CDH reads in the guest, under its names")
    p.add_argument("--credentials-dir", type=Path, metavar="D", help="take the files from this directory")
    add_explicit_files(p)
    p.add_argument("--output-dir", type=Path, required=True, metavar="O", help="where to write (files mode 0600)")
    p.set_defaults(func=cmd_export_guest_bundle)


def register_seal_envelope(seal_subparsers: Any) -> None:
    """Add `envelope` under the `seal` group."""
    from sealtui.cli._signing import add_signing_arguments

    p = seal_subparsers.add_parser(
        "envelope",
        help="seal data: AES-256-GCM, the data key wrapped by the KMS",
        description="Read the plaintext from -f FILE or standard input (never from "
        "the command line) and print the sealed string alone on stdout.",
    )
    p.add_argument("source", nargs="?", metavar="-", help="read the plaintext from standard input (the default)")
    p.add_argument("-f", "--file", type=Path, metavar="FILE", help=f"read the plaintext from FILE ({_io.FILE_HELP})")
    p.add_argument("--provider", default="aliyun", choices=["aliyun"], help="the KMS provider (default aliyun)")
    p.add_argument("--key-id", required=True, metavar="K", help="key-…, alias/<name> or an alibabakms:// URI")
    add_credential_arguments(p)
    add_signing_arguments(p, credentials=False)
    _io.add_oversized_flag(p)
    p.set_defaults(func=cmd_seal_envelope)


def cmd_seal_envelope(args: argparse.Namespace) -> int:
    """`sealtui seal envelope`: print the sealed string alone on stdout."""
    from sealtui.cli._signing import emit_sealed, signing_key
    from sealtui.cli._target import kms_target
    from sealtui.core.errors import UsageError
    from sealtui.core.keyref import parse_key_ref
    from sealtui.service.sealing import seal_value
    from sealtui.service.signing import signer_for

    if args.source not in (None, "-"):
        raise UsageError(
            "plaintext is never taken from the command line (it would land in shell history)",
            fix="give -f FILE, or pipe it on standard input",
        )
    if args.source == "-" and args.file is not None:
        raise UsageError("give either -f FILE or -, not both")
    parse_key_ref(args.key_id)
    target = kms_target(args, args.key_id)
    key = signing_key(args)
    signer_for(key, target)  # before any KMS call: a bad signing key should cost nothing
    plaintext = _io.read_bytes_input(args.file)
    with _io.oversized_hint():
        sealed = seal_value(target, key, plaintext, allow_oversized=args.allow_oversized)
    emit_sealed(sealed.sealed, args)
    return _io.EXIT_OK


def cmd_unseal(args: argparse.Namespace) -> int:
    """`sealtui unseal`: verify (or skip), unwrap through the KMS, decrypt, write where asked."""
    from sealtui.core.errors import InvalidInputError, UsageError
    from sealtui.service.kms import CredentialSource
    from sealtui.service.unsealing import unseal

    to_stdout = args.stdout or args.output == "-"
    if args.stdout and args.output not in (None, "-"):
        raise UsageError("give either -o OUT or --stdout, not both")
    if not to_stdout and not args.output:
        raise UsageError("say where the plaintext goes", fix="give -o FILE (mode 0600) or --stdout")
    out = None if to_stdout else Path(args.output).expanduser()
    if out is not None and (out.exists() or out.is_symlink()):  # refused before any KMS call, not after a Decrypt
        raise InvalidInputError(f"{out} already exists", fix="choose another file name; sealtui never overwrites")
    result = unseal(_io.read_input_text(args, "a sealed secret"), CredentialSource(directory=args.credentials_dir),
                    endpoint=args.endpoint, jwk=args.jwk, skip_verification=args.skip_verification)
    for n in result.notes:
        _io.note(str(n))
    if to_stdout:
        sys.stdout.buffer.write(result.plaintext)
        sys.stdout.flush()
    else:
        _io.write_new_file(Path(args.output), result.plaintext)
        _io.note(f"plaintext written to {args.output} (mode 0600)")
    return _io.EXIT_OK


def _print_table(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        where = " ".join(x for x in (r.get("file") or "-", f"[{r['role']}]", r.get("naming") or "") if x)
        sys.stdout.write(f"{r['status'].upper():8} {where}: {r['message']}\n")
        if r.get("fix") and r["status"] != "ok":
            sys.stdout.write(f"{'':8} fix: {r['fix']}\n")


def cmd_credentials_check(args: argparse.Namespace) -> int:
    """`sealtui credentials check DIR`: a table (or JSON) of every file; exit 3 on errors, 5 on --connect."""
    from dataclasses import asdict

    from sealtui.core.credential_check import check_credentials
    from sealtui.core.errors import SealtuiError
    from sealtui.service.kms import CredentialSource, KmsTarget, connect, warm_up

    if args.connect:  # the client key's parse (another CPU) and the SDK's import overlap
        warm_up(CredentialSource(directory=args.directory))
    report = check_credentials(args.directory)
    out: dict[str, Any] = report.to_dict()
    code = _io.EXIT_INVALID if report.has_errors else _io.EXIT_OK
    if args.connect and not report.has_errors:
        try:
            conn = connect(KmsTarget(CredentialSource(directory=args.directory), args.endpoint,
                                     args.key_id)).check_connection()
            out["connection"] = {"endpoint": conn.endpoint, "ok": conn.ok, "steps": [asdict(s) for s in conn.steps]}
            code = _io.EXIT_OK if conn.ok else _io.EXIT_PROVIDER
        except SealtuiError as e:  # e.g. several client keys: say so in the report rather than abort it
            out["connection"] = {"ok": False, "steps": [], "error": e.message, "fix": e.fix}
            code = e.exit_code
    if args.json:
        _io.print_json(out)
        return code
    _print_table(out["items"])
    conn_out = out.get("connection")
    if conn_out:
        sys.stdout.write(f"connection to {conn_out.get('endpoint', '?')}:\n")
        if conn_out.get("error"):
            sys.stdout.write(f"ERROR    {conn_out['error']}\n")
        _print_table([{**s, "file": s["name"], "role": "connect", "naming": ""} for s in conn_out["steps"]])
    return code


def cmd_export_guest_bundle(args: argparse.Namespace) -> int:
    """`sealtui credentials export-guest-bundle`: print the paths written, one per line."""
    from sealtui.core.credential_check import export_guest_bundle
    from sealtui.service.kms import load_credentials

    creds = load_credentials(credential_source(args))
    assert creds.client_key.source_path is not None and creds.password_file is not None
    written = export_guest_bundle(
        args.output_dir,
        client_key_file=creds.client_key.source_path,
        password_file=creds.password_file,
        ca_file=creds.ca_file,
        kms_instance_id=creds.kms_instance_id,
    )
    for path in written:
        sys.stdout.write(f"{path}\n")
    _io.note(f"copy these into the guest's {GUEST_DIR} (or $ALIYUN_IN_GUEST_KEY_PATH); they are mode 0600")
    return _io.EXIT_OK
