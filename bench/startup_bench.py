"""Benchmark: start-up of ``featmesh check`` on one small manifest (a pre-commit hook's
run), against the 0.5 s target and the floor of a bare ``python -c pass``.

    python bench/startup_bench.py [--runs 5] [--top 12]

Times, best of ``--runs`` fresh processes each: ``python -c pass`` (the interpreter's
floor), ``featmesh --help`` and ``featmesh -q check MANIFEST``. Then runs the check once
under ``python -X importtime`` and prints the modules with the largest cumulative import
time, so a regression names the import that caused it. Prints figures; never fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5
MANIFEST = """apiVersion: featmesh/v1
store: {name: payments, domain: payments, owner: payments-ml@contoso.com}
entities:
  - {name: customer, join_keys: [{name: customer_id, dtype: string}]}
feature_sets:
  - name: transaction_aggregates
    version: 2
    description: Rolling counts and amounts of a customer's card transactions.
    entities: [customer]
    timestamp_field: event_ts
    ttl: 2d
    sources:
      - {kind: delta, uri: main.payments.card_transactions, columns: [customer_id, amount_eur]}
    features:
      - {name: txn_count_7d, dtype: int64, description: "Card transactions in 7 days."}
"""


def best(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def import_times(argv: list[str]) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of each import, from ``-X importtime``'s stderr."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True)
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        found.append((int(cumulative), name.rstrip()))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        manifest = Path(scratch) / "payments.yaml"
        manifest.write_text(MANIFEST)
        cli = [sys.executable, "-m", "featmesh.connector"]
        floor = best([sys.executable, "-c", "pass"], args.runs)
        helped = best([*cli, "--help"], args.runs)
        checked = best([*cli, "-q", "check", str(manifest)], args.runs)
        imports = import_times(["-m", "featmesh.connector", "-q", "check", str(manifest)])
    print(f"startup, best of {args.runs} (target {TARGET_S:.2f} s for a check of one manifest):")
    print(f"  python -c pass            {floor:6.3f} s  (floor)")
    print(f"  featmesh --help           {helped:6.3f} s")
    verdict = "within" if checked <= TARGET_S else "OVER"
    print(
        f"  featmesh check MANIFEST   {checked:6.3f} s  ({verdict} target, {checked / floor:.1f}x the floor)"
    )
    print(f"largest cumulative imports of that check (python -X importtime), top {args.top}:")
    for cumulative, name in sorted(imports, reverse=True)[: args.top]:
        print(f"  {cumulative / 1000:8.1f} ms  {name.strip()}")


if __name__ == "__main__":
    main()
