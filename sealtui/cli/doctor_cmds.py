"""`sealtui doctor` (why a pod would still see `sealed.…`) and `sealtui initdata` (write or read the annotation)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sealtui.cli import _io

_MARK = {"fails": "FAILS", "cannot-tell": "CANNOT TELL", "ok": "ok"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "doctor", help="check manifests for every reason a pod would still see sealed.… and what to provision",
        description="Read Kubernetes YAML/JSON (files and directories), find every value that would reach the kata "
        "agent (env, envFrom, Secret/ConfigMap/projected volume files) and run the guest-side checklist on each "
        "workload and value: runtime class, initdata, cdh.toml, aa.toml, signature mode, the value itself, kid and "
        "vault resources, providers, volume rules, $(VAR) splicing, genpolicy. Each check is ok, fails (with the "
        "guest's own message and the fix) or cannot tell (with what would tell). Exit 3 when any value would stay "
        "sealed, 4 when a signature fails, 0 otherwise.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="manifest files or directories")
    p.add_argument("--kata-version", metavar="X.Y[.Z]",
                   help="the kata release the pods run on (default: the newest doctor knows, which verifies "
                   "signatures)")
    p.add_argument("--trustee", type=Path, metavar="DIR",
                   help="a KbsConfig and its Secrets as YAML, or a KBS resource store (<repo>/<type>/<tag> files, "
                   "policy.rego): settles whether each resource exists and is released")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument("--jwk", type=Path, metavar="PUBLIC.json", help="verify every signature with this key")
    keys.add_argument("--kid-map", type=Path, metavar="FILE", help="YAML/JSON map of kid to public JWK file")
    p.add_argument("--credentials-dir", default="credentials", metavar="DIR",
                   help="where the provider's client-key files are here, to name them in the provision commands")
    p.add_argument("--json", action="store_true", help="print everything as JSON")
    p.add_argument("--strict", action="store_true", help="also exit 3 when a check cannot tell")
    p.add_argument("--all", action="store_true", help="show the checks that pass, with what they saw")
    p.add_argument("--provision", action="store_true", help="print only what to provision where")
    p.set_defaults(func=cmd_doctor)

    p = subparsers.add_parser(
        "initdata", help="write the initdata annotation (and its digest) for aa.toml/cdh.toml, or read one",
        description="Print the value of io.katacontainers.config.hypervisor.cc_init_data: standard base64 (padded, "
        "one line) of gzip of the initdata TOML, and on stderr its digest over the exact TOML bytes (the reference "
        "value a verifier expects). The TOML comes from --from-toml, from --aa-toml/--cdh-toml, or is generated "
        "for --kbs-url. --decode reads an annotation back to its TOML and digest.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-toml", type=Path, metavar="FILE", help="an initdata TOML, encoded byte for byte")
    src.add_argument("--cdh-toml", type=Path, metavar="FILE", help="cdh.toml to carry (with --aa-toml)")
    src.add_argument("--kbs-url", metavar="URL", help="generate aa.toml and cdh.toml for this KBS")
    src.add_argument("--decode", metavar="ANNOTATION|FILE|-", help="print the TOML of an annotation value")
    p.add_argument("--aa-toml", type=Path, metavar="FILE", help="aa.toml to carry (with --cdh-toml)")
    p.add_argument("--policy", type=Path, metavar="FILE", help="policy.rego to carry")
    p.add_argument("--kbs-ca", type=Path, metavar="PEM", help="with --kbs-url: the KBS CA certificate (https)")
    p.add_argument("--skip-verification", action="store_true",
                   help="with --kbs-url: skip_sealed_secret_verification = true (accept unsigned values)")
    p.add_argument("--credential", action="append", default=[], metavar="URI=PATH",
                   help="with --kbs-url: a [[credentials]] entry (repeatable), e.g. "
                   "kbs:///default/aliyun-kms/clientKey_X.json=/run/confidential-containers/cdh/kbs/…")
    p.add_argument("--algorithm", default="sha384", choices=["sha256", "sha384", "sha512"],
                   help="the digest algorithm written into the initdata (default sha384, TDX's)")
    p.add_argument("--toml-out", type=Path, metavar="FILE", help="also write the exact TOML bytes (new file)")
    p.add_argument("--json", action="store_true", help="print annotation, algorithm, digest and TOML as JSON")
    p.set_defaults(func=cmd_initdata)


def cmd_doctor(args: argparse.Namespace) -> int:
    from sealtui.service.doctor import check_manifests

    run = check_manifests(args.paths, kata_version=args.kata_version, trustee=args.trustee, jwk=args.jwk,
                          kid_map=args.kid_map, credentials_dir=args.credentials_dir)
    result = run.result
    if args.json:
        # Compact (C encoder) into a pipe: indented JSON goes through the pure-Python encoder, 3x slower on
        # the ~10 kB per value a large directory gives.
        data = result.to_dict() | {"provision": run.plan.to_dict()}
        sys.stdout.write(json.dumps(data, indent=2 if sys.stdout.isatty() else None, ensure_ascii=False) + "\n")
    elif args.provision:
        sys.stdout.write(render_provision(run.plan))
    else:
        sys.stdout.write(render_doctor(run, show_ok=args.all))
    for problem in result.problems:
        _io.note(f"sealtui: {problem.message}" + (f"\n  fix: {problem.fix}" if problem.fix else ""))
    if result.signature_fails:
        return _io.EXIT_VERIFY
    cannot = args.strict and any(c.status == "cannot-tell" for c in result.checks())
    if result.would_stay_sealed or result.problems or cannot:
        return _io.EXIT_INVALID
    return _io.EXIT_OK


def render_doctor(run: Any, show_ok: bool = False) -> str:
    from sealtui.core.doctor import failures_first

    result = run.result
    out = [f"kata: {result.kata_version}"]
    out += [f"note: {a}" for a in result.assumptions if not a.startswith("assumed")]
    for w in sorted(result.workloads, key=lambda w: {"fails": 0, "cannot-tell": 1, "ok": 2}[w.status]):
        out.append("")
        out.append(f"{w.label}  {w.file}" + (f":{w.line}" if w.line else "") + f"  [{_MARK[w.status]}]")
        if w.initdata:
            i = w.initdata
            out.append(f"  initdata: {i.algorithm} {i.digest} over {i.toml_bytes} bytes of TOML "
                       f"(keys: {', '.join(i.keys) or 'none'})")
        out += [f"  note: {n}" for n in w.notes]
        if w.checks:
            out.append("  pod:")
            out += _checks(failures_first(w.checks), "    ", show_ok)
        for c in w.containers:
            out.append(f"  container {c.name}:")
            out += [f"    note: {n}" for n in c.notes]
            for v in sorted(c.values, key=lambda v: {"fails": 0, "cannot-tell": 1, "ok": 2}[v.status]):
                where = f"{v.file}" + (f":{v.line}" if v.line else "")
                out.append(f"    {v.source} {v.name}  ({v.origin}, {where})  [{_MARK[v.status]}]")
                out.append(f"      {v.form}" + (f", {v.kind}" if v.kind else "") + (f", kid {v.kid}" if v.kid else ""))
                out += _checks(failures_first(v.checks), "      ", show_ok)
                for p in v.provision:
                    state = {True: "present", False: "MISSING", None: "provision"}[p.present]
                    out.append(f"      {state}: {p.resource} <- {p.source}  ({p.what})")
    if not result.workloads:
        out.append("no sealed values found")
    if run.plan.items:
        out += ["", "What to provision where:", render_provision(run.plan, indent="  ").rstrip("\n")]
    out += ["", "How to look in the guest:"] + [f"  {i}: {t}" for i, t in result.advice]
    counts = result.to_dict()["counts"]
    out += ["", f"{len(result.workloads)} workload(s), {len(result.values)} value(s) in {result.files} file(s): "
            f"{counts['fails']} check(s) fail, {counts['cannot-tell']} cannot tell, {counts['ok']} ok"]
    return "\n".join(out).lstrip("\n") + "\n"


def _checks(checks: list[Any], pad: str, show_ok: bool) -> list[str]:
    out, oks = [], []
    for c in checks:
        if c.status == "ok" and not show_ok:
            oks.append(c.id.split("-", 1)[0])
            continue
        likely = " (likely)" if c.likely and c.status != "ok" else ""
        out.append(f"{pad}{_MARK[c.status]}{likely} {c.id}: {c.title}")
        out.append(f"{pad}  saw:   {c.detail}")
        if c.status == "fails":
            out.append(f"{pad}  guest: {c.guest_message}")
            out.append(f"{pad}  fix:   {c.fix}")
        elif c.status == "cannot-tell":
            out.append(f"{pad}  would tell: {c.would_tell}")
    if oks:
        out.append(f"{pad}ok: {' '.join(oks)}")
    return out


def render_provision(plan: Any, indent: str = "") -> str:
    from sealtui.service.doctor import provision_text

    return provision_text(plan, indent)


def cmd_initdata(args: argparse.Namespace) -> int:
    from sealtui.core.doctor import guestconfig, initdata
    from sealtui.core.errors import UsageError

    if args.decode is not None:
        return _decode(args.decode)
    data: dict[str, str] = {}
    if args.from_toml:
        toml_bytes = _io.read_bytes(args.from_toml, "the initdata TOML")
        doc = initdata.parse_initdata(toml_bytes)
        algorithm = doc.algorithm
    else:
        if args.cdh_toml:
            if not args.aa_toml:
                raise UsageError("--cdh-toml needs --aa-toml too", fix="AA needs aa.toml to attest to the same KBS")
            data["aa.toml"] = _io.read_text(args.aa_toml, "the aa.toml")
            data["cdh.toml"] = _io.read_text(args.cdh_toml, "the cdh.toml")
        else:
            ca = _io.read_text(args.kbs_ca, "the KBS CA certificate") if args.kbs_ca else None
            if ca is not None and "-----BEGIN CERTIFICATE-----" not in ca:
                raise UsageError(f"{args.kbs_ca} is not a PEM certificate", fix="give the KBS CA as PEM")
            problem = guestconfig.url_problem(args.kbs_url)
            if problem:
                raise UsageError(f"--kbs-url: {problem}", fix="give it as http(s)://host:port")
            creds = [_credential(c) for c in args.credential]
            data["aa.toml"] = initdata.aa_toml(args.kbs_url, ca)
            data["cdh.toml"] = initdata.cdh_toml(args.kbs_url, ca, skip_verification=args.skip_verification,
                                                 credentials=creds)
        guestconfig.parse_aa_toml(data["aa.toml"])
        guestconfig.parse_cdh_toml(data["cdh.toml"])
        if args.policy:
            data["policy.rego"] = _io.read_text(args.policy, "the policy.rego")
        toml_bytes = initdata.build_initdata(data, args.algorithm).encode("utf-8")
        initdata.parse_initdata(toml_bytes)  # what we write must be what kata reads
        algorithm = args.algorithm
    annotation = initdata.encode_annotation(toml_bytes)
    digest = initdata.digest(toml_bytes, algorithm)
    if args.toml_out:
        _io.write_new_file(args.toml_out, toml_bytes)
    if args.json:
        _io.print_json({"annotation": annotation, "annotation_name": initdata.ANNOTATION, "algorithm": algorithm,
                        "digest": digest, "toml": toml_bytes.decode("utf-8")})
    else:
        sys.stdout.write(annotation + "\n")
        _io.note(f"{algorithm} {digest}  ({len(toml_bytes)} bytes of TOML; put the value in the pod's "
                 f"{initdata.ANNOTATION} annotation)")
    return _io.EXIT_OK


def _decode(source: str) -> int:
    from sealtui.core.doctor import initdata

    if source == "-":
        value = _io.read_text("-", "the annotation value")
    elif Path(source).exists():  # not only a regular file: the reader refuses a FIFO or a device by name
        value = _io.read_text(Path(source), "an annotation value")
    else:
        value = source
    toml_bytes, _ = initdata.decode_annotation(value)
    doc = initdata.parse_initdata(toml_bytes)
    sys.stdout.buffer.write(toml_bytes)
    sys.stdout.flush()
    _io.note(f"{doc.algorithm} {doc.digest}  ({len(toml_bytes)} bytes of TOML)")
    return _io.EXIT_OK


def _credential(text: str) -> tuple[str, str]:
    from sealtui.core.doctor.guestconfig import credential_path_problem
    from sealtui.core.doctor.trustee import resource_path
    from sealtui.core.errors import UsageError

    uri, sep, path = text.partition("=")
    if not sep or resource_path(uri) is None:
        raise UsageError(f"--credential {text!r} is not kbs:///<repo>/<type>/<tag>=<guest path>")
    problem = credential_path_problem(path)
    if problem:
        raise UsageError(f"--credential: {problem}", fix="CDH only writes credentials under "
                         "/run/confidential-containers/cdh/kbs/")
    return uri, path

