"""Benchmark: reading a mesh of manifests, featmesh's manifest source against a plain YAML load.

    python bench/manifest_load_bench.py [--sizes 1000,10000] [--features 40] [--domains 20]

For each size, generates the mesh with ``bench/meshgen.py`` (N feature sets x F features
over D domains, 100 sets a file) and, each in a fresh process so that peak memory is its
own, times:

* featmesh: the ``manifest`` source's ``read`` of the manifests folder: parsing, JSON
  Schema validation, the neutral model, the origin line of every set, derived-from
  resolution;
* peer: PyYAML's ``CSafeLoader`` ``load`` of the same files (libyaml), parse only.

Prints time and peak resident memory side by side, and the growth exponent from the
smallest to the largest size (``log(t2/t1) / log(n2/n1)``; 1.0 is linear).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _child(mode: str, folder: str) -> None:
    files = sorted(Path(folder).rglob("*.yaml"))
    start = time.perf_counter()
    if mode == "featmesh":
        from featmesh.connector.runreport import SourceReport
        from featmesh.connector.sources import manifest

        report = SourceReport(uri=folder, kind="manifest")
        stores = manifest.read(folder, report, {})
        count = sum(len(s.feature_sets) for s in stores)
        features = sum(len(fs.features) for s in stores for fs in s.feature_sets)
    else:
        import yaml

        count = features = 0
        for path in files:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            count += len(data["feature_sets"])
            features += sum(len(fs["features"]) for fs in data["feature_sets"])
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mib": peak, "sets": count, "features": features}))


def _measure(mode: str, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--domains", type=int, default=20)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    import meshgen

    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[tuple[int, int, dict[str, float], dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="featmesh-load-") as scratch:
        for n in sizes:
            root = Path(scratch) / str(n)
            started = time.perf_counter()
            meshgen.generate(root, sets=n, features=args.features, domains=args.domains)
            folder = root / "manifests"
            size = sum(p.stat().st_size for p in folder.rglob("*.yaml"))
            print(
                f"generated {n} sets x {args.features} features over {args.domains} domains, "
                f"{size / 2**20:.1f} MiB of YAML, in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            mine = _measure("featmesh", folder)
            peer = _measure("pyyaml", folder)
            if mine["sets"] != n or peer["sets"] != n or mine["features"] != peer["features"]:
                raise SystemExit(f"loaders disagree at {n} sets: {mine} vs {peer}")
            rows.append((n, size, mine, peer))
    print()
    print(f"{'sets':>7} {'MiB YAML':>9} | {'featmesh s':>10} {'peak MiB':>9} | "
          f"{'PyYAML CSafeLoader s':>20} {'peak MiB':>9} | {'speed-up':>8}")  # fmt: skip
    for n, size, mine, peer in rows:
        print(
            f"{n:>7} {size / 2**20:>9.1f} | {mine['seconds']:>10.2f} {mine['peak_mib']:>9.0f} | "
            f"{peer['seconds']:>20.2f} {peer['peak_mib']:>9.0f} | "
            f"{peer['seconds'] / mine['seconds']:>7.1f}x"
        )
    if len(rows) > 1:
        (n1, _, m1, p1), (n2, _, m2, p2) = rows[0], rows[-1]
        ratio = math.log(n2 / n1)
        print(
            f"growth {n1} -> {n2} sets: featmesh N^{math.log(m2['seconds'] / m1['seconds']) / ratio:.2f}, "
            f"PyYAML N^{math.log(p2['seconds'] / p1['seconds']) / ratio:.2f} (target: no worse than N^1.1)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
