"""How every signing command gets its signer: a private JWK file, or an EC P-256 key held in a KMS.

With `--signing-key` the JWS is signed by the KMS `Sign` API: the private key never leaves the KMS (the KMS
returns DER; the signer converts it to the raw r‖s a JWS needs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_signing_arguments(p: argparse.ArgumentParser, *, credentials: bool = True) -> None:
    """Add the signer options; `credentials` adds --credentials-dir/--endpoint for commands that lack them."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--signing-jwk", type=Path, metavar="PRIVATE.json",
                   help="the private P-256 JWK that signs the JWS (see `sealtui keygen`)")
    g.add_argument("--signing-key", metavar="KEYREF",
                   help="sign in the KMS with an EC P-256 key (alibabakms://…, key-… or alias/…); "
                   "the private key never leaves the KMS")
    p.add_argument("--signing-kid", help="the JWS kid (default: the JWK's kid; required with --signing-key)")
    p.add_argument("--no-newline", action="store_true", help="print no newline after the sealed string")
    if credentials:
        p.add_argument("--credentials-dir", type=Path, metavar="D",
                       help="with --signing-key: the KMS client-key credentials")
        p.add_argument("--endpoint", metavar="HOST:PORT", help="with --signing-key: the KMS instance endpoint")


def load_signer(args: argparse.Namespace) -> Any:
    """The `Signer` the options name. Signing with a KMS key needs credentials (--credentials-dir)."""
    if args.signing_jwk is not None:
        from sealtui.core.jws import JwkSigner, load_jwk

        return JwkSigner(load_jwk(args.signing_jwk), args.signing_kid)
    return kms_signer(args, args.signing_key, args.signing_kid)


def kms_signer(args: argparse.Namespace, key_text: str, kid: str | None) -> Any:
    from sealtui.cli.kms_cmds import load_credentials
    from sealtui.core.errors import UsageError
    from sealtui.core.keyref import parse_key_ref

    if not kid:
        raise UsageError("--signing-key needs --signing-kid", fix="give the kid CDH will look the public key up by")
    ref = parse_key_ref(key_text)
    creds = load_credentials(args)
    from sealtui.providers.aliyun import AliyunKms, AliyunKmsSigner

    kms = AliyunKms(creds, ref, endpoint=getattr(args, "endpoint", None) or ref.endpoint)
    return AliyunKmsSigner(kms, ref, kid)


def emit_sealed(sealed: str, args: argparse.Namespace) -> None:
    """Print a sealed string alone on stdout, with a newline unless --no-newline."""
    sys.stdout.write(sealed if args.no_newline else sealed + "\n")
    sys.stdout.flush()
