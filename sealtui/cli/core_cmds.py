"""CLI commands that need no KMS: inspect, verify, keygen, seal vault, manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sealtui.cli import _io
from sealtui.cli._signing import add_signing_arguments, emit_sealed, load_signer
from sealtui.cli._target import ENDPOINT_HELP

VAULT_PROVIDERS = ("kbs", "aliyun")
"""The providers upstream CDH's default build opens vault secrets with (`UPSTREAM.getters` in
`sealtui.core.consumers.providers`, kept equal by a test): sealtui seals only what upstream CDH accepts."""


def _vault_provider(text: str) -> str:
    if text.lower() in VAULT_PROVIDERS:
        return text.lower()
    raise argparse.ArgumentTypeError(
        f"{text!r}: upstream CDH's default build opens vault secrets with {', '.join(VAULT_PROVIDERS)} only "
        "(aws and ehsm need a CDH built with them), and sealtui seals only what upstream CDH accepts")


def register(subparsers: Any) -> Any:
    """Add the core commands; return the `seal` group's subparsers so KMS providers can add theirs."""
    p = subparsers.add_parser("inspect", help="explain a sealed secret in any form, without any key",
                              description="Decode a sealed secret, name its form, and say whether each consumer "
                              "(CDH, CDH with verification skipped, the kata agent, the OpenAnolis CDH) accepts it.")
    _io.add_input_arguments(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--jwk", type=Path, metavar="PUBLIC.json", help="verify the signature with this public JWK")
    p.add_argument("--check", action="store_true",
                   help="exit 3 when upstream CDH would reject it, 4 when the signature does not verify")
    p.set_defaults(func=cmd_inspect)

    p = subparsers.add_parser("verify", help="check a sealed secret's ES256 signature (exit 0 verified, 4 not)")
    _io.add_input_arguments(p)
    p.add_argument("--jwk", type=Path, required=True, metavar="PUBLIC.json", help="the public P-256 JWK")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_verify)

    p = subparsers.add_parser("keygen", help="create a P-256 signing key pair (JWK files), or export a KMS key's",
                              description="Write <kid>-private.json (mode 0600) and <kid>-public.json. With "
                              "--from-kms, the key stays in the KMS and only <kid>-public.json is written, to "
                              "provision where CDH looks up the kid.")
    p.add_argument("--kid", help="the JWS kid: a kbs:///<repo>/<type>/<tag> URI that Trustee serves (default "
                   "kbs:///default/sealtui-signing/jwk, or …/kms with --from-kms); a file-name kid only works in a "
                   "guest image that ships the key file")
    p.add_argument("--output-dir", type=Path, default=Path("."), metavar="DIR",
                   help="where to write the files (default .; created, mode 0700, when missing)")
    p.add_argument("--from-kms", metavar="KEYREF", help="export the public JWK of this EC P-256 KMS key instead")
    p.add_argument("--credentials-dir", type=Path, metavar="D", help="with --from-kms: the KMS credentials")
    p.add_argument("--endpoint", metavar="HOST:PORT", help=f"with --from-kms: {ENDPOINT_HELP}")
    p.set_defaults(func=cmd_keygen)

    seal = subparsers.add_parser("seal", help="seal a secret (vault, or envelope through a KMS)")
    seal.set_defaults(_group_parser=seal)
    seal_sub = seal.add_subparsers(dest="seal_type", metavar="TYPE")
    p = seal_sub.add_parser("vault", help="seal a reference to a secret the provider holds (no KMS call)")
    p.add_argument("--resource-uri", "--name", dest="name", required=True,
                   help="kbs:///<repo>/<type>/<tag> (or the secret's name for a KMS provider)")
    p.add_argument("--provider", default="kbs", type=_vault_provider, choices=VAULT_PROVIDERS,
                   help="where CDH gets the secret: kbs (default) or aliyun, the providers upstream CDH's default "
                   "build opens vault secrets with")
    p.add_argument("--provider-setting", action="append", default=[], metavar="KEY=VALUE",
                   help="a provider_settings entry (repeatable), e.g. client_key_id=KAAP.…")
    p.add_argument("--annotation", action="append", default=[], metavar="KEY=VALUE",
                   help="an annotations entry (repeatable), e.g. version_stage=ACSCurrent")
    add_signing_arguments(p)
    p.set_defaults(func=cmd_seal_vault)

    p = subparsers.add_parser("manifest", help="a Kubernetes Secret holding sealed values",
                              description="Build a v1 Secret from KEY=SEALED pairs given with --key or, when "
                              "none are given, read as lines from standard input.")
    p.add_argument("--name", required=True, help="the Secret's name")
    p.add_argument("--namespace", metavar="NS", help="the Secret's namespace")
    p.add_argument("--key", action="append", default=[], metavar="NAME=SEALED",
                   help="a value, or a file holding it (repeatable)")
    p.add_argument("--data", action="store_true", help="write base64 `data` instead of `stringData`")
    p.add_argument("--format", choices=["yaml", "kubectl", "pod", "all"], default="yaml",
                   help="the Secret YAML, the kubectl command, the pod env/volume snippet, or all three")
    _io.add_oversized_flag(p)
    _io.add_text_flag(p, "each --key SEALED")
    p.set_defaults(func=cmd_manifest)
    return seal_sub


def _input_text(args: argparse.Namespace) -> str:
    """The input, unmodified. From standard input, bytes that are not UTF-8 are kept (as lone surrogates) so that
    inspect can say CDH refuses them, instead of failing to read them."""
    piped = (args.text is None and not sys.stdin.isatty()) or (args.text == "-" and not args.literal)
    if args.file is None and piped:
        return _io.read_bytes("-", "the sealed secret").decode("utf-8", "surrogateescape")  # at most 64 MiB
    return _io.read_input_text(args)


def cmd_inspect(args: argparse.Namespace) -> int:
    from sealtui.cli._fixes import render_action
    from sealtui.core.jws import load_jwk
    from sealtui.core.lint import inspect

    key = load_jwk(args.jwk) if args.jwk is not None else None  # a key that cannot be read is an error, as for verify
    report = inspect(_input_text(args), key)
    if args.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        sys.stdout.write(report.render_text(render_action) + "\n")
    if args.check:
        if report.signature.verified is False:
            return _io.EXIT_VERIFY
        if report.verdicts["cdh"] == "rejected":
            return _io.EXIT_INVALID
    return _io.EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from sealtui.core.errors import SealtuiError
    from sealtui.core.lint import inspect
    from sealtui.core.verify import verify_sealed

    text = _input_text(args)
    report = inspect(text, args.jwk)
    try:
        sealed = verify_sealed(text, args.jwk)  # the signature first, as CDH does
    except SealtuiError as e:
        sys.stderr.write(f"sealtui: error: {e.message}\n" + (f"  fix: {e.fix}\n" if e.fix else ""))
        for f in report.errors():  # then whatever else upstream CDH would refuse
            if "cdh" in f.consumers and f.code != "signature-invalid":
                _io.note(f"also: {f.message}")
        return e.exit_code
    if args.json:
        _io.print_json({"verified": True, "alg": sealed.alg, "kid": sealed.kid, "form": sealed.form.value,
                        "cdh": report.verdicts["cdh"]})
    else:
        sys.stdout.write(f"verified: {sealed.alg} signature by kid {sealed.kid!r}\n")
    for f in report.errors():
        if "cdh" in f.consumers:
            _io.note(f"warning: the signature holds, but upstream CDH would still reject it: {f.message}"
                     + (f" (fix: {f.fix.text})" if f.fix else ""))
    return _io.EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    from sealtui.core.jws import keygen
    from sealtui.service.signing import DEFAULT_JWK_KID, DEFAULT_KMS_KID

    if args.kid is None:
        args.kid = DEFAULT_KMS_KID if args.from_kms else DEFAULT_JWK_KID
    if args.from_kms:
        return _export_kms_public_jwk(args)
    files = keygen(args.kid, args.output_dir)
    sys.stdout.write(f"{files.private_path}\n{files.public_path}\n")
    _io.note(f"private key (mode 0600): {files.private_path}; keep it with whoever seals.")
    _note_public_key(args.kid, files.public_path)
    return _io.EXIT_OK


def _note_public_key(kid: str, public_path: Path) -> None:
    """Where the public key goes (the Trustee upload for a kbs:/// kid), and a warning for a kid CDH cannot use."""
    from sealtui.core.lint import key_location
    from sealtui.service.signing import kid_warning, upload_command

    _io.note(f"public key: {public_path}; provision it where CDH looks for kid {kid!r}: {key_location(kid)}")
    upload = upload_command(kid, public_path)
    if upload:
        _io.note(f"  e.g. {upload}   (`sealtui doctor --provision` writes the full commands)")
    warning = kid_warning(kid)
    if warning:
        _io.note(f"warning: {warning}")


def _export_kms_public_jwk(args: argparse.Namespace) -> int:
    from sealtui.cli._signing import signing_key
    from sealtui.cli._target import kms_target
    from sealtui.core.jws import key_file_stem
    from sealtui.service.signing import export_public_jwk

    path = Path(args.output_dir) / f"{key_file_stem(args.kid)}-public.json"
    export_public_jwk(signing_key(args, args.from_kms, args.kid), kms_target(args), path)
    sys.stdout.write(f"{path}\n")
    _io.note(f"the private key stays in the KMS ({args.from_kms}); sign with --signing-key {args.from_kms} "
             f"--signing-kid {args.kid}")
    _note_public_key(args.kid, path)
    return _io.EXIT_OK


def cmd_seal_vault(args: argparse.Namespace) -> int:
    from sealtui.core.manifest import parse_pairs
    from sealtui.core.sealing import seal_payload
    from sealtui.core.vault import PROVISION_NOTE, vault_payload

    settings: dict[str, Any] = dict(parse_pairs(args.provider_setting))
    if args.provider == "aliyun" and "client_key_id" in settings:
        settings.setdefault("client_type", "client_key")
    payload = vault_payload(args.name, args.provider, settings, parse_pairs(args.annotation))
    sealed = seal_payload(payload, load_signer(args))
    _io.note(PROVISION_NOTE.format(provider=args.provider, name=args.name))
    emit_sealed(sealed, args)
    return _io.EXIT_OK


def cmd_manifest(args: argparse.Namespace) -> int:
    from sealtui.core.manifest import build_manifest, parse_pairs

    if args.key:
        values = {k: _io.value_or_file(v, f"the sealed value of {k!r}", literal=args.literal)[0]
                  for k, v in parse_pairs(args.key).items()}
    else:
        values = parse_pairs(_io.read_stdin_text(
            "the KEY=SEALED lines", "no values: give --key NAME=SEALED or KEY=SEALED lines on standard input"
        ).splitlines())
    with _io.oversized_hint():
        m = build_manifest(args.name, values, args.namespace, "data" if args.data else "stringData",
                           allow_oversized=args.allow_oversized)
    out = {"yaml": m.to_yaml(), "kubectl": m.kubectl_command() + "\n", "pod": m.pod_snippet()}
    if args.format == "all":
        sys.stdout.write(out["yaml"] + "---\n" + out["pod"] + "\n# or:\n# " + out["kubectl"])
    else:
        sys.stdout.write(out[args.format])
    return _io.EXIT_OK
