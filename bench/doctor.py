"""Benchmark: `sealtui doctor` over a generated directory of 1,000 workloads (files per second).

Each file holds two Secrets and a Deployment with its own initdata annotation (no two alike), an env value from a
Secret, a literal sealed env value and a Secret mounted as a volume: 3 values, 14 pod and 48 value checks per
workload. The floor is the same files only loaded (`sealtui.core.yamlload`), measured in the same run, interleaved
with the doctor runs: whole processes (start-up included) and in-process. Run: `.venv/bin/python bench/doctor.py`.
"""

from __future__ import annotations

import sys

# bench/ holds inspect.py, which would shadow the stdlib module: keep this folder last on sys.path.
sys.path.append(sys.path.pop(0))

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from sealtui.core.doctor import DoctorOptions, run_doctor
from sealtui.core.yamlload import iter_manifest_files, load_file

FILES = int(os.environ.get("BENCH_FILES", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
LOAD_ONLY = ("import sys\nfrom sealtui.core.yamlload import iter_manifest_files, load_file\n"
             "[load_file(p) for p in iter_manifest_files([sys.argv[1]])]")


def generate(root: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import yaml

    from sealtui.core.jws import generate_jwk
    from tests.fixtures.doctor import make_fixtures as mf

    jwk = generate_jwk(mf.KID)
    for i in range(FILES):
        spec = mf.healthy(jwk)
        spec.deployment["metadata"]["name"] = f"app-{i}"
        for name, secret in list(spec.secrets.items()):
            secret["metadata"]["name"] = f"{name}-{i}"
        pod = spec.deployment["spec"]["template"]["spec"]
        pod["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"] = f"app-secrets-{i}"
        pod["volumes"][0]["secret"]["secretName"] = f"app-files-{i}"
        spec.initdata["cdh.toml"] = f"# workload app-{i}\n" + spec.initdata["cdh.toml"]  # no two alike
        spec.deployment["spec"]["template"]["metadata"]["annotations"][mf.ANNOTATION] = mf.encode_annotation(
            mf.build_initdata(spec.initdata).encode())
        docs = [*spec.secrets.values(), spec.deployment]
        (root / f"app-{i:04d}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False, width=2**31 - 1))


def wall(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False)
    return time.perf_counter() - t


def clock(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    with tempfile.TemporaryDirectory() as d:
        generate(Path(d))
        doctor_argv = [sys.executable, "-m", "sealtui", "doctor", "--json", "--kata-version", "3.28", d]
        floor_argv = [sys.executable, "-c", LOAD_ONLY, d]
        opts = DoctorOptions(kata_version="3.28")
        result = run_doctor([d], opts).result
        assert len(result.values) == 3 * FILES and not result.would_stay_sealed
        wall(doctor_argv), wall(floor_argv)  # warm the page cache and the imports
        proc_doctor, proc_floor, in_doctor, in_floor = [], [], [], []
        for _ in range(RUNS):  # interleaved, so load changes hit both alike
            proc_floor.append(wall(floor_argv))
            proc_doctor.append(wall(doctor_argv))
            in_floor.append(clock(lambda: [load_file(p) for p in iter_manifest_files([d])]))
            in_doctor.append(clock(lambda: run_doctor([d], opts)))
    print(f"files: {FILES} (1 workload, 3 sealed values each), runs: {RUNS}, medians")
    for label, doc, floor in (("whole process", proc_doctor, proc_floor), ("in-process", in_doctor, in_floor)):
        md, mf_ = statistics.median(doc), statistics.median(floor)
        print(f"{label:>13}: doctor {md * 1000:.0f} ms -> {FILES / md:.0f} files/s ({3 * FILES / md:.0f} values/s); "
              f"load-only floor {mf_ * 1000:.0f} ms -> {FILES / mf_:.0f} files/s; ratio {md / mf_:.2f}x")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
