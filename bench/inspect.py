"""Benchmark: `sealtui inspect --json` start-up, and of 10 MB, against baselines measured in the same run.

1. Start-up: `sealtui inspect --json` of a typical sealed envelope against `python -c "import pydantic,
   cryptography.hazmat.primitives.asymmetric.ec"`, whole processes, interleaved (goal <= 1.6x).
2. 10 MB: `sealtui inspect --json -f FILE` of a 10 MB sealed string against `bench/_inspect_floor.py` (the same
   file read, the payload part `base64`-decoded and `json.loads`ed), whole processes writing to /dev/null,
   interleaved (goal <= 2x); with the peak RSS of each. Two shapes: an envelope (a 5.6 MB secret: the payload is
   mostly one long string), and a vault payload of ~75,000 annotation objects (a structured document: nobody seals
   that, but a reviewer may be handed one).
3. In-process `inspect()` of a 1 MiB envelope payload (goal <= 50 ms), and, to see that hostile input costs time
   linear in its size, of a 50 MB payload and of a document nested 100,000 levels deep.

sealtui's bytecode is compiled first, as an installed package has it. The processes of parts 1 and 2 are started
by a small child of this script (it imports no sealtui), so that their peak RSS is their own: a child's
`ru_maxrss` counts what it shared with its parent before exec. Run: `.venv/bin/python -P bench/inspect.py` (env
BENCH_RUNS: runs of part 1, default 21; BENCH_RUNS_10MB, default 7).
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is named inspect.py: run it with -P, and its folder comes after the standard library on sys.path, or
# it would shadow the stdlib `inspect` module that dataclasses imports.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))
from kms_cli import ROOT, compile_bytecode, load

RUNS = int(os.environ.get("BENCH_RUNS", "21"))
RUNS_10MB = int(os.environ.get("BENCH_RUNS_10MB", "7"))
SIZE = 10_000_000
FLOOR = Path(__file__).with_name("_inspect_floor.py")


def envelope(size: int) -> str:
    """A sealed envelope whose secret is `size` random bytes."""
    from sealtui.core.codec import encode_sealed
    from sealtui.core.jws import JwkSigner, generate_jwk
    from sealtui.core.models import EnvelopePayload

    iv = base64.b64encode(os.urandom(12)).decode()
    payload = EnvelopePayload(
        version="0.1.0", provider="aliyun", key_id="key-5f1e0d1c-3a6b-4a55-9f0e-0c7a8d2f2b11",
        encrypted_key=base64.b64encode(os.urandom(60)).decode(),
        encrypted_data=base64.b64encode(os.urandom(size + 16)).decode(), iv=iv,
        provider_settings={"client_key_id": "KAAP.0f1e", "kms_instance_id": "kst-bjj6", "client_type": "client_key"},
        annotations={"iv": iv})
    return encode_sealed(payload, JwkSigner(generate_jwk("bench-key")))


def structured(length: int) -> str:
    """A signed vault secret whose annotations are many small objects, about `length` characters in all."""
    from sealtui.core.codec import encode_sealed
    from sealtui.core.jws import JwkSigner, generate_jwk
    from sealtui.core.models import VaultPayload

    item = {"id": 0, "name": "item-0", "tags": ["a", "b", "0"], "ok": True, "weight": 1.5}
    count = int(length * 3 / 4 / (len(json.dumps(item, separators=(",", ":"))) + 22))
    annotations = {f"k{i}": {**item, "id": i, "name": f"item-{i}", "tags": ["a", "b", str(i)], "ok": i % 2 == 0,
                             "weight": i * 1.5} for i in range(count)}  # fmt: skip
    payload = VaultPayload(version="0.1.0", name="kbs:///default/big/1", provider="kbs", provider_settings={},
                           annotations=annotations)  # fmt: skip
    return encode_sealed(payload, JwkSigner(generate_jwk("bench-key")))


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process writing to /dev/null."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tempfile.gettempdir(),
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:5])}… exited {os.waitstatus_to_exitcode(status)}: {err.decode()[-500:]}")
    return dt, usage.ru_maxrss


def compare(pairs: dict[str, tuple[list[str], list[str]]], runs: int) -> dict[str, tuple[list[float], list[int]]]:
    """Run every command of `pairs` `runs` times, interleaved in rotating order, after one warm-up run each."""
    argvs = {f"{name}/{side}": argv for name, pair in pairs.items()
             for side, argv in zip(("base", "ours"), pair, strict=True)}
    out: dict[str, tuple[list[float], list[int]]] = {k: ([], []) for k in argvs}
    names = list(argvs)
    for i in range(runs + 1):
        for name in names[i % len(names):] + names[: i % len(names)]:
            dt, rss = run(argvs[name])
            if i:
                out[name][0].append(dt)
                out[name][1].append(rss)
    return out


def measure(spec_file: str) -> None:
    """Part 1 and 2, in this lean child: the commands come as JSON, the results go out as JSON."""
    spec = json.loads(Path(spec_file).read_text())
    print(json.dumps({"startup": compare(spec["startup"], spec["runs"]),
                      "10mb": compare(spec["10mb"], spec["runs_10mb"])}))


def hostile() -> dict[str, str]:
    def b64u(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    vault = ('{"version":"0.1.0","type":"vault","name":"%s","provider":"kbs","provider_settings":{},'
             '"annotations":{}}')
    return {"a 50 MB payload (one long string)": f"sealed.fakejwsheader.{b64u(vault % ('x' * 37_000_000))}.f",
            "a payload nested 100,000 levels deep": f"sealed.fakejwsheader.{b64u('[' * 100_000 + ']' * 100_000)}.f"}


def main() -> None:
    if not sys.flags.safe_path:
        raise SystemExit("run it with python -P: bench/inspect.py would shadow the standard library's inspect")
    sys.path.insert(0, str(ROOT))
    from _util import median_ms, time_call

    from sealtui.core.lint import inspect

    print(f"before: {load()}")
    compile_bytecode(ROOT)
    sealtui = [sys.executable, "-m", "sealtui", "inspect", "--json"]
    with tempfile.TemporaryDirectory() as tmp:
        typical = envelope(64)
        files = {"envelope": envelope(SIZE * 9 // 16), "structured": structured(SIZE)}
        paths = {}
        for name, text in files.items():
            paths[name] = Path(tmp) / f"{name}.txt"
            paths[name].write_text(text)
        spec = {"runs": RUNS, "runs_10mb": RUNS_10MB,
                "startup": {"typical": ([sys.executable, "-c", "import pydantic, cryptography.hazmat.primitives."
                                         "asymmetric.ec"], [*sealtui, typical])},
                "10mb": {name: ([sys.executable, "-P", str(FLOOR), str(p)], [*sealtui, "-f", str(p)])
                         for name, p in paths.items()}}  # fmt: skip
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        done = subprocess.run([sys.executable, "-P", __file__, "--measure", str(Path(tmp) / "spec.json")],
                              capture_output=True, text=True, check=True)  # fmt: skip
        results = json.loads(done.stdout)
        sizes = {name: len(text) for name, text in files.items()}

    def med(name: str, part: str) -> tuple[float, float]:
        wall, rss = results[part][name]
        return statistics.median(wall) * 1000, statistics.median(rss) / 1024

    b, _ = med("typical/base", "startup")
    o, _ = med("typical/ours", "startup")
    print(f"1. start-up, {RUNS} runs interleaved, medians:")
    print(f"  baseline  python -c 'import pydantic, cryptography…ec'   {b:7.1f} ms")
    print(f"  sealtui inspect --json (typical {len(typical)} chars)      {o:7.1f} ms")
    print(f"  ratio: {o / b:.2f}x (goal <= 1.6x)")
    print(f"2. 10 MB, {RUNS_10MB} runs interleaved, medians (whole processes, output to /dev/null):")
    for name, size in sizes.items():
        bt, br = med(f"{name}/base", "10mb")
        ot, orss = med(f"{name}/ours", "10mb")
        print(f"  {name:10} {size / 1e6:4.1f} MB  base64 + json.loads {bt:7.0f} ms {br:6.1f} MiB   "
              f"sealtui inspect --json {ot:7.0f} ms {orss:6.1f} MiB   ratio {ot / bt:.2f}x (goal <= 2x); "
              f"sealtui's memory above the baseline's: {(orss - br) / (size / 2**20):.1f} MiB per MiB of input")
    big = envelope(1 << 20)
    inproc = time_call(lambda: inspect(big), RUNS)
    print(f"3. in-process inspect of a 1 MiB envelope ({len(big) / 2**20:.2f} MiB string): "
          f"median {median_ms(inproc):.1f} ms (goal <= 50 ms)")
    for name, text in hostile().items():
        print(f"   in-process inspect of {name} ({len(text) / 1e6:.1f} MB): "
              f"median of 3 {median_ms(time_call(lambda t=text: inspect(t), 3)):.0f} ms")
    print(f"after: {load()} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2])
    else:
        main()
