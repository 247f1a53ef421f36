"""Benchmark: the scan loop at mesh scale, against the issue's targets.

    python bench/scan_scale_bench.py [--sizes 1000,10000] [--dry-run-sets 100000]
                                     [--atlas-sets 1000] [--features 40]

For each size, generates a mesh with ``bench/meshgen.py`` (N sets x F features over 20
domains, shared names and sources, derived sets) and times, each step in a fresh process
(so peak memory is the step's own):

* first scan into an empty local catalog, with an empty parse cache (target: 10,000 sets
  under 60 s, 2 GiB);
* unchanged rescan (target: under 10 s at 10,000 sets);
* rescan after 1% of the sets changed (target: under 15 s);
* ``featmesh check`` of one domain's manifests against that catalog (target: under 3 s),
  in its default text format (what a pre-commit hook prints) and with ``--format json``
  (every result, passes included: 76 MB for a domain of 500 sets at 10,000);
* ``featmesh report --format json`` (target: under 5 s).

Then ``scan --dry-run`` of ``--dry-run-sets`` sets (target: within 8 GiB), and first scan,
unchanged rescan and 1% change of ``--atlas-sets`` sets against the stateful fake Atlas
(``tests/fakeatlas.py``), counting its requests per 1,000 sets. Prints a table with time,
peak resident memory, the growth exponent from the smallest to the largest size
(log(t2/t1) / log(n2/n1); target: at most 1.1) and the verdict against each target.
Figures on a shared machine are noisy: run it once or twice, not in a loop.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import meshgen  # noqa: E402

TARGETS = {
    "first scan": 60.0,
    "unchanged rescan": 10.0,
    "1% changed": 15.0,
    "check": 3.0,
    "check --json": 3.0,
    "report": 5.0,
}
TARGET_AT = 10_000

CHILD = """
import json, resource, sys, time
sys.argv = ["featmesh", "-q", *json.loads(sys.argv[1])]
start = time.perf_counter()  # featmesh's imports included: a hook waits for them too
from featmesh.connector.cli import main
try:
    main()
except SystemExit as end:
    code = end.code
else:
    code = 0
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mib": peak, "code": code}), file=sys.stderr)
"""

ATLAS_CHILD = """
import json, os, sys, time
sys.path.insert(0, sys.argv[2])
sys.path.insert(0, os.path.join(sys.argv[2], "bench"))
import meshgen
from tests.fakeatlas import FakeAtlas
from featmesh.connector.cli import main
root, base = json.loads(sys.argv[1]), "https://atlas.bench:21000"
os.environ.update(ATLAS_USERNAME="featmesh", ATLAS_PASSWORD="bench-secret")
out = {}
with FakeAtlas(base + "/api/atlas/v2", auth=("featmesh", "bench-secret")) as atlas:
    for step in ("first scan", "unchanged rescan", "1% changed"):
        if step == "1% changed":
            from pathlib import Path
            meshgen.change(Path(root), 0.01)
        before = len(atlas.calls)
        start, cpu = time.perf_counter(), time.process_time()
        code = 0
        try:
            main(["-q", "scan", "--config", root + "/featmesh.yaml", "--catalog", "atlas+" + base])
        except SystemExit as end:
            code = end.code or 0
        calls = atlas.calls[before:]
        out[step] = {
            "code": code,
            "seconds": time.perf_counter() - start,
            "cpu": time.process_time() - cpu,
            "requests": len(calls),
            "writes": sum(1 for c in calls if c.method != "GET"),
        }
print(json.dumps(out))
"""


def step(args: list[str], cwd: Path) -> dict:
    # the mesh's own parse cache: its first scan parses every file, as a new mesh would
    env = {**os.environ, "FEATMESH_CACHE_DIR": str(cwd / ".parse-cache")}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "{}"
    try:
        found = json.loads(last)
    except json.JSONDecodeError:
        found = {"seconds": math.nan, "peak_mib": math.nan, "code": proc.returncode}
    if found.get("code") not in (0, 1, None):
        found["error"] = proc.stderr.strip().splitlines()[-2:] if proc.stderr else proc.returncode
    return found


def local_steps(root: Path) -> dict[str, dict]:
    config = str(root / "featmesh.yaml")
    out = {}
    out["first scan"] = step(["scan", "--config", config], root)
    out["unchanged rescan"] = step(["scan", "--config", config], root)
    meshgen.change(root, 0.01)
    out["1% changed"] = step(["scan", "--config", config], root)
    domain = sorted((root / "manifests").iterdir())[0]
    catalog = f"local:{root / '.featmesh' / 'catalog.db'}"
    check = ["check", f"manifest:{domain}", "--catalog", catalog]
    out["check"] = step(check, root)  # to stdout, as a hook prints it
    out["check --json"] = step([*check, "--format", "json"], root)
    out["report"] = step(
        ["report", "--catalog", catalog, "--format", "json", "-o", str(root / "report.json")], root
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--dry-run-sets", type=int, default=100_000, help="0 to leave out")
    parser.add_argument("--atlas-sets", type=int, default=1_000, help="0 to leave out")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="featmesh-scale-") as tmp:
        for n in sizes:
            root = Path(tmp, f"mesh{n}")
            start = time.perf_counter()
            meshgen.generate(root, n, args.features)
            print(f"generated {n} sets in {time.perf_counter() - start:.1f} s", flush=True)
            results[n] = local_steps(root)
            for name, r in results[n].items():
                print(f"  {n:>7} {name:<17} {r.get('seconds', math.nan):8.1f} s "
                      f"{r.get('cpu', math.nan):8.1f} cpu s "
                      f"{r.get('peak_mib', math.nan):8.0f} MiB {r.get('error', '')}", flush=True)  # fmt: skip
        print()
        print(f"{'step':<17}" + "".join(f"{n:>10} sets" for n in sizes) + "   peak MiB  exponent  target")
        print("(wall seconds; then the same in CPU seconds, which a shared machine disturbs less)")
        for name in TARGETS:
            times = [results[n][name].get("seconds", math.nan) for n in sizes]
            cpus = [results[n][name].get("cpu", math.nan) for n in sizes]
            peak = max(results[n][name].get("peak_mib", math.nan) for n in sizes)
            exp = (
                math.log(times[-1] / times[0]) / math.log(sizes[-1] / sizes[0])
                if len(sizes) > 1 and times[0] > 0
                else math.nan
            )
            verdict = ""
            if TARGET_AT in sizes:
                at = results[TARGET_AT][name].get("seconds", math.nan)
                verdict = (
                    f"{'ok' if at <= TARGETS[name] else 'MISSED'} (<{TARGETS[name]:.0f} s at {TARGET_AT})"
                )
            cells = "".join(f"{t:12.1f} s " for t in times)
            print(f"{name:<17}{cells}{peak:9.0f}  {exp:8.2f}  {verdict}")
            cpu_exp = (
                math.log(cpus[-1] / cpus[0]) / math.log(sizes[-1] / sizes[0])
                if len(sizes) > 1 and cpus[0] > 0
                else math.nan
            )
            cells = "".join(f"{t:10.1f} cpu " for t in cpus)
            print(f"{'':<17}{cells}{'':9}  {cpu_exp:8.2f}")
        if args.dry_run_sets:
            root = Path(tmp, f"dry{args.dry_run_sets}")  # its own folder: an empty catalog
            meshgen.generate(root, args.dry_run_sets, args.features)
            r = step(["scan", "--config", str(root / "featmesh.yaml"), "--dry-run"], root)
            ok = "ok" if r.get("peak_mib", math.inf) <= 8 * 1024 else "MISSED"
            seconds, peak = r.get("seconds", math.nan), r.get("peak_mib", math.nan)
            cpu = r.get("cpu", math.nan)
            print(f"\ndry-run plan of {args.dry_run_sets} sets: {seconds:.1f} s ({cpu:.1f} cpu s), "
                  f"peak {peak:.0f} MiB ({ok}: within 8 GiB) {r.get('error', '')}")  # fmt: skip
        if args.atlas_sets:
            root = Path(tmp, f"atlas{args.atlas_sets}")
            meshgen.generate(root, args.atlas_sets, args.features)
            proc = subprocess.run(
                [sys.executable, "-c", ATLAS_CHILD, json.dumps(str(root)), str(ROOT)],
                capture_output=True,
                text=True,
                env={**os.environ, "FEATMESH_CACHE_DIR": str(root / ".parse-cache")},
                cwd=root,  # the run history (.featmesh/history.db) of this mesh alone
            )
            if proc.returncode:
                print(f"\nfake Atlas run failed: {proc.stderr.strip().splitlines()[-3:]}")
                return 1
            print(f"\nagainst the fake Atlas, {args.atlas_sets} sets (requests per 1,000 sets):")
            for name, r in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                per = r["requests"] * 1000 / args.atlas_sets
                print(f"  {name:<17} {r['seconds']:8.1f} s {r['cpu']:8.1f} cpu s {r['requests']:>7} requests "
                      f"({per:.0f} per 1,000 sets, {r['writes']} writes)"
                      + (f"  FAILED: exit {r['code']}" if r["code"] not in (0, 1) else ""))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
