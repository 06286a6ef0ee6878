"""How every signing command gets its signer: a private JWK file, or an EC P-256 key held in a KMS.

With `--signing-key` the JWS is signed by the KMS `Sign` API: the private key never leaves the KMS (the KMS
returns DER; the signer converts it to the raw r‖s a JWS needs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sealtui.cli._target import ENDPOINT_HELP


def add_signing_arguments(p: argparse.ArgumentParser, *, credentials: bool = True, newline: bool = True) -> None:
    """Add the signer options; `credentials` adds --credentials-dir/--endpoint for commands that lack them,
    `newline` adds --newline/--no-newline for commands that print a sealed string (`emit_sealed`)."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--signing-jwk", type=Path, metavar="PRIVATE.json",
                   help="the private P-256 JWK that signs the JWS (see `sealtui keygen`)")
    g.add_argument("--signing-key", metavar="KEYREF",
                   help="sign in the KMS with an EC P-256 key (alibabakms://…, key-… or alias/…); "
                   "the private key never leaves the KMS")
    p.add_argument("--signing-kid", metavar="KID",
                   help="the JWS kid (default: the JWK's kid; with --signing-key, kbs:///default/sealtui-signing/kms)")
    if newline:
        p.add_argument("--newline", action=argparse.BooleanOptionalAction, default=None,
                       help="end the sealed string with a newline (default: on a terminal only; into a file or a "
                       "pipe, none, since CDH rejects a sealed string that ends with one)")
    if credentials:
        p.add_argument("--credentials-dir", type=Path, metavar="D",
                       help="with --signing-key: the KMS client-key credentials")
        p.add_argument("--endpoint", metavar="HOST:PORT", help=f"with --signing-key: {ENDPOINT_HELP}")


def signing_key(args: argparse.Namespace, key_text: str | None = None, kid: str | None = None) -> Any:
    """The `SigningKey` the options name (`--signing-jwk`, or `key_text`/`--signing-key` with its kid)."""
    from sealtui.service.signing import kms_key, load_signing_jwk

    key_text = key_text or getattr(args, "signing_key", None)
    kid = kid or getattr(args, "signing_kid", None)
    if not key_text:
        return load_signing_jwk(args.signing_jwk, kid)
    if not kid:
        from sealtui.service.signing import DEFAULT_KMS_KID

        kid = DEFAULT_KMS_KID
    return kms_key(key_text, kid)


def load_signer(args: argparse.Namespace) -> Any:
    """The `Signer` the options name. Signing with a KMS key needs credentials (--credentials-dir)."""
    from sealtui.cli._target import kms_target
    from sealtui.service.signing import kid_warning, signer_for

    key = signing_key(args)
    warning = kid_warning(key.kid)
    if warning:
        sys.stderr.write(f"warning: {warning}\n")
    return signer_for(key, kms_target(args) if key.kms_key else None)


def emit_sealed(sealed: str, args: argparse.Namespace) -> None:
    """Print a sealed string alone on stdout: with a newline on a terminal (or with --newline), without one into a
    file or a pipe (or with --no-newline), so that `> sealed.txt` and `$(…)` hold exactly what CDH accepts."""
    newline = sys.stdout.isatty() if args.newline is None else args.newline
    sys.stdout.write(sealed + "\n" if newline else sealed)
    sys.stdout.flush()
