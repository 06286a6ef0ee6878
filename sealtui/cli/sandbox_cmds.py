"""`sealtui sandbox …`: create, run and manage the local KMS instance.

`--root-dir` and `--master-key-dir` (and `--hostname`/`--port`/`--allow-chosen-iv` for `serve`) come from the
flag, else `KMS_ROOT_DIR`, `KMS_MASTER_KEY_DIR` (`KMS_HOSTNAME`, `KMS_PORT`, `KMS_ALLOW_CHOSEN_IV`), else a
`.env` file in the current directory, else the defaults. Only the standard library is imported here;
`sealtui.sandbox` loads inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sealtui.cli import _io

__all__ = ["register"]

_SPECS = ("Aliyun_AES_256", "EC_P256")
_STATES = ("PreActive", "Active", "Deactivated", "Compromised", "Destroyed", "Destroyed_Compromised")


def _root_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root-dir",
        type=Path,
        metavar="DIR",
        help="sandbox state directory (env KMS_ROOT_DIR; default ~/.local/share/sealtui/sandbox)",
    )
    parser.add_argument(
        "--master-key-dir",
        type=Path,
        metavar="DIR",
        help="where the instance's master key lives, outside the state directory "
        "(env KMS_MASTER_KEY_DIR; default ~/.config/sealtui/local-kms)",
    )


def _client_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client-key-id", metavar="ID", help="the client key (default: the one `init` issued)")


def register(subparsers: Any) -> None:
    """Add the `sandbox` command group."""
    group = subparsers.add_parser(
        "sandbox",
        help="run a local KMS instance that the Alibaba SDK and CDH can talk to",
        description="A local stand-in for an Alibaba Cloud KMS instance: HTTPS, client-key signatures, "
        "AES-256 and EC P-256 keys, secrets.",
    )
    group.set_defaults(func=_group_help, _group_parser=group)
    sub = group.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")

    p = sub.add_parser("init", help="create an instance: CA, server certificate, client key, two keys")
    _root_arg(p)
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=_init)

    p = sub.add_parser("serve", help="serve the instance over HTTPS (Ctrl-C stops it)")
    _root_arg(p)
    p.add_argument("--hostname", metavar="HOST", help="address to listen on (env KMS_HOSTNAME; default 127.0.0.1)")
    p.add_argument("--port", type=int, metavar="PORT", help="port (env KMS_PORT; default 9998; 0 = any free)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every call on stderr")
    p.add_argument(
        "--allow-chosen-iv",
        action="store_true",
        default=None,
        help="let Encrypt use an IV the caller sends (env KMS_ALLOW_CHOSEN_IV; unsafe: a reused AES-GCM IV "
        "exposes the data; for compatibility tests only)",
    )
    p.set_defaults(func=_serve)

    p = sub.add_parser("status", help="show the instance: endpoint, ids, credential files, keys")
    _root_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--wait", nargs="?", type=float, const=60.0, metavar="SECONDS",
                   help="first wait until a server serves it (at most SECONDS, default 60; exit 5 if none does), "
                   "e.g. after `sealtui sandbox serve … &`")
    p.set_defaults(func=_status)

    p = sub.add_parser("create-key", help="create a key (granted to the instance's client key)")
    _root_arg(p)
    p.add_argument("--spec", choices=_SPECS, default="Aliyun_AES_256", help="key type (default Aliyun_AES_256)")
    p.add_argument("--alias", metavar="alias/NAME", help="an alias for the key")
    p.add_argument("--state", choices=_STATES, default="Active", help="initial state (default Active)")
    p.add_argument("--no-grant", action="store_true", help="grant it to no client key")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_create_key)

    p = sub.add_parser("set-key-state", help="change a key's state")
    _root_arg(p)
    p.add_argument("key", metavar="KEY", help="key id or alias")
    p.add_argument("state", metavar="STATE", choices=_STATES, help=" | ".join(_STATES))
    p.set_defaults(func=_set_key_state)

    for name, helptext, func in (
        ("grant", "let a client key use a key or secret", _grant),
        ("revoke", "take a client key's permissions on a key or secret away", _revoke),
    ):
        p = sub.add_parser(name, help=helptext)
        _root_arg(p)
        p.add_argument("target", metavar="TARGET", help="key id, alias or secret name")
        _client_arg(p)
        if name == "grant":
            p.add_argument(
                "--operation",
                action="append",
                metavar="API",
                help="allow only this API (repeatable; default: all that apply, e.g. Encrypt, Decrypt, Sign)",
            )
        p.set_defaults(func=func)

    p = sub.add_parser("put-secret", help="store a secret for GetSecretValue (value from stdin or -f FILE)")
    _root_arg(p)
    p.add_argument("name", metavar="NAME", help="secret name")
    p.add_argument("-f", "--file", type=Path, metavar="FILE", help="read the value from FILE (default: stdin)")
    p.add_argument("--no-grant", action="store_true", help="grant it to no client key")
    p.set_defaults(func=_put_secret)

    p = sub.add_parser("register-client-key", help="register an existing client key (e.g. from Alibaba)")
    _root_arg(p)
    p.add_argument("--client-key-file", type=Path, required=True, metavar="FILE", help="clientKey_<KeyId>.json")
    p.add_argument(
        "--password-file",
        type=Path,
        required=True,
        metavar="FILE",
        help='its password: raw text or JSON {"ClientKeyPassword": …}',
    )
    p.add_argument("--no-grant", action="store_true", help="do not grant it the default keys")
    p.set_defaults(func=_register_client_key)


def _group_help(args: argparse.Namespace) -> int:
    """`sealtui sandbox` alone: show the subcommands."""
    args._group_parser.print_help(sys.stderr)
    return _io.EXIT_USAGE


def _settings(args: argparse.Namespace) -> Any:
    from sealtui.sandbox.config import load_settings

    return load_settings(
        hostname=getattr(args, "hostname", None),
        port=getattr(args, "port", None),
        root_dir=args.root_dir,
        master_key_dir=args.master_key_dir,
        allow_chosen_iv=getattr(args, "allow_chosen_iv", None),
    )


def _root(args: argparse.Namespace) -> Path:
    return Path(_settings(args).root_dir)


def _print_status(status: Any, as_json: bool) -> None:
    if as_json:
        _io.print_json(status.to_dict())
        return
    state = "running" if status.running else "not running"
    out = sys.stdout
    out.write(f"instance     {status.kms_instance_id}\n")
    out.write(f"endpoint     {status.endpoint} ({state})\n")
    out.write(f"client key   {status.client_key_id}\n")
    out.write(f"credentials  {status.credentials_dir}\n")
    out.write(f"CA bundle    {status.ca_file}\n")
    out.write(f"root dir     {status.root_dir}\n")
    out.write(f"master key   {status.master_key_file}\n")
    out.write("keys:\n")
    for key in status.keys:
        out.write(f"  {key.id}  {key.spec:<15} {key.state:<22} {' '.join(key.aliases)}\n".rstrip() + "\n")
    if status.secrets:
        out.write("secrets:\n" + "".join(f"  {name}\n" for name in status.secrets))
    if len(status.client_key_ids) > 1:
        out.write("client keys:\n" + "".join(f"  {cid}\n" for cid in status.client_key_ids))


def _init(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    settings = _settings(args)
    sandbox.init_instance(settings.root_dir, key_dir=settings.master_key_dir)
    status = sandbox.load_status(settings.root_dir, key_dir=settings.master_key_dir)
    _print_status(status, args.json)
    if not args.json:
        _io.note(
            f"sealtui sandbox: created {status.kms_instance_id}; start it with "
            f"`sealtui sandbox serve --root-dir {status.root_dir}`"
        )
    return _io.EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    settings = _settings(args)
    try:
        sandbox.serve(
            settings.root_dir,
            settings.hostname,
            settings.port,
            verbose=args.verbose,
            key_dir=settings.master_key_dir,
            allow_chosen_iv=settings.allow_chosen_iv,
        )
    except KeyboardInterrupt:
        _io.note("sealtui sandbox: stopped")
    return _io.EXIT_OK


def _status(args: argparse.Namespace) -> int:
    import time

    from sealtui import sandbox
    from sealtui.core.errors import ProviderError

    settings = _settings(args)

    def load() -> Any:
        return sandbox.load_status(
            settings.root_dir, hostname=settings.hostname, port=settings.port, key_dir=settings.master_key_dir
        )

    status = load()
    if args.wait is not None:
        from sealtui.service.local_kms import serving_endpoint

        deadline = time.monotonic() + args.wait
        while serving_endpoint(status.root_dir) is None:  # listening, not only locked: its endpoint is known
            if time.monotonic() >= deadline:
                raise ProviderError(f"no server serves the local KMS instance in {status.root_dir} after "
                                    f"{args.wait:g} s", fix=f"start it: sealtui sandbox serve --root-dir "
                                    f"{status.root_dir} (and see what it prints)")
            time.sleep(0.1)
        status = load()
    _print_status(status, args.json)
    return _io.EXIT_OK


def _create_key(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    settings = _settings(args)
    key = sandbox.create_key(
        settings.root_dir,
        args.spec,
        alias=args.alias,
        state=args.state,
        grant_to=[] if args.no_grant else None,
        key_dir=settings.master_key_dir,
    )
    if args.json:
        _io.print_json(key.to_dict())
    else:
        sys.stdout.write(key.id + "\n")
    return _io.EXIT_OK


def _set_key_state(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    key = sandbox.set_key_state(_root(args), args.key, args.state)
    _io.note(f"sealtui sandbox: {key.id} is now {key.state}")
    return _io.EXIT_OK


def _grant(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    object_id = sandbox.grant(_root(args), args.target, args.client_key_id, args.operation)
    _io.note(f"sealtui sandbox: granted {object_id}")
    return _io.EXIT_OK


def _revoke(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    object_id = sandbox.revoke(_root(args), args.target, args.client_key_id)
    _io.note(f"sealtui sandbox: revoked {object_id}")
    return _io.EXIT_OK


def _put_secret(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    # Never from argv: it would land in shell history and `ps`.
    value = _io.read_bytes_input(args.file)
    settings = _settings(args)
    grant_to: list[str] | None = [] if args.no_grant else None
    version = sandbox.put_secret(
        settings.root_dir, args.name, value, grant_to=grant_to, key_dir=settings.master_key_dir
    )
    _io.note(f"sealtui sandbox: stored secret {args.name} version {version}")
    return _io.EXIT_OK


def _register_client_key(args: argparse.Namespace) -> int:
    from sealtui import sandbox

    key_id = sandbox.register_client_key(
        _root(args), args.client_key_file, args.password_file, grant_defaults=not args.no_grant
    )
    sys.stdout.write(key_id + "\n")
    return _io.EXIT_OK
