"""The KMS a command talks to: the credential options (--credentials-dir or the three files), --endpoint, and
the `KmsTarget` they name (`sealtui.service.kms`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ENDPOINT_HELP = ("the KMS instance endpoint (default: <kms_instance_id>.cryptoservice.kms.aliyuncs.com; for the "
                 "credentials of a local KMS instance, where it serves now)")
"""What --endpoint means wherever it is given (`sealtui.service.kms.connect`)."""

__all__ = ["add_credential_arguments", "add_endpoint", "add_explicit_files", "credential_source", "kms_target"]


def add_endpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        help=ENDPOINT_HELP,
    )


def add_explicit_files(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-key-file", type=Path, metavar="F", help="clientKey_<id>.json / ClientKeyContent.json")
    p.add_argument("--password-file", type=Path, metavar="P", help="the client key's password (JSON or raw text)")
    p.add_argument("--cert-path", type=Path, metavar="C", help="the instance CA bundle PrivateKmsCA_<id>.pem")
    p.add_argument("--kms-instance-id", metavar="I", help="default: from the CA file name or the client key")


def add_credential_arguments(p: argparse.ArgumentParser) -> None:
    """--credentials-dir, or the explicit credential files, and --endpoint (see `credential_source`)."""
    p.add_argument("--credentials-dir", type=Path, metavar="D", help="directory with the credential files")
    add_explicit_files(p)
    add_endpoint(p)


def credential_source(args: argparse.Namespace) -> Any:
    """The `CredentialSource` of --credentials-dir or of the explicit-files options (exactly one form)."""
    from sealtui.core.errors import UsageError
    from sealtui.service.kms import CredentialSource

    client_key, password, ca = (getattr(args, n, None) for n in ("client_key_file", "password_file", "cert_path"))
    instance = getattr(args, "kms_instance_id", None)
    if getattr(args, "credentials_dir", None) is not None:
        if any(x is not None for x in (client_key, password, ca, instance)):
            raise UsageError(
                "give either --credentials-dir or the --client-key-file/--password-file/--cert-path options, not both"
            )
        return CredentialSource(directory=args.credentials_dir)
    if client_key is None or password is None or ca is None:
        raise UsageError(
            "no credentials", fix="give --credentials-dir D, or --client-key-file, --password-file and --cert-path"
        )
    return CredentialSource(client_key_file=client_key, password_file=password, ca_file=ca, kms_instance_id=instance)


def kms_target(args: argparse.Namespace, key: str | None = None) -> Any:
    """The `KmsTarget` of the credential options, `--endpoint` (an explicit override only) and `key`."""
    from sealtui.service.kms import KmsTarget

    return KmsTarget(credential_source(args), getattr(args, "endpoint", None), key)
