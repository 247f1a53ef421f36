"""Benchmark: ``featmesh profile`` against DuckDB ``SUMMARIZE`` and pandas ``describe()``.

Generates a Parquet file of ROWS x 20 columns (numbers, strings, timestamps) into a
temporary directory, then times, in this one run:

* featmesh's profiler, in a subprocess so its peak RSS (``ru_maxrss``) is its own;
* DuckDB ``SUMMARIZE SELECT * FROM read_parquet(...)``;
* pandas ``read_parquet`` + ``describe(include="all")`` + ``nunique()``.

It prints the three times, the ratios and the profiler's peak memory, and deletes the
file. Needs ``pip install 'featmesh[bench]'``. Usage::

    python bench/profile_bench.py [--rows 10000000] [--keep DIR] [--skip-pandas] [--repeat 3]

Each contender runs ``--repeat`` times, interleaved, and the best times are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CHUNK = 1_000_000
GOAL_VS_DUCKDB = 1.5
GOAL_VS_PANDAS = 10.0
GOAL_RSS_BYTES = 2 * 1024**3

_CATEGORIES = [
    "grocery",
    "fuel",
    "travel",
    "dining",
    "electronics",
    "apparel",
    "health",
    "utilities",
    "entertainment",
    "education",
    "home",
    "auto",
    "pets",
    "gifts",
    "insurance",
    "telecom",
    "books",
    "sports",
    "beauty",
    "other",
]
_COUNTRIES = [f"C{i:02d}" for i in range(48)] + ["NL", "DE"]
_CHANNELS = ["web", "ios", "android", "pos", "phone"]
_OS = ["ios 17", "ios 16", "android 14", "android 13", "windows", "macos", "linux", "other"]
_DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example"]


def _chunk(rng: np.random.Generator, start: int, n: int) -> pa.RecordBatch:
    def nulls(share: float) -> np.ndarray:
        return rng.random(n) < share

    def pick(values: list[str], mask: np.ndarray | None = None) -> pa.Array:
        idx = pa.array(rng.integers(0, len(values), n), mask=mask)
        return pa.array(values).take(idx)

    ids = np.arange(start, start + n, dtype=np.int64)
    customer = rng.integers(0, 2_000_000, n)
    base_ts = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    event_us = base_ts + (ids * 3_000_000) + rng.integers(0, 3_000_000, n)
    email = pc.binary_join_element_wise(
        "customer",
        pc.cast(pa.array(customer), pa.string()),
        "@",
        pick(_DOMAINS),
        "",
    )
    columns = {
        "txn_id": pc.binary_join_element_wise("txn-", pc.cast(pa.array(ids), pa.string()), ""),
        "customer_id": pa.array(customer),
        "amount": pa.array(np.round(rng.lognormal(3.0, 1.2, n), 2)),
        "fee": pa.array(np.round(rng.gamma(2.0, 0.8, n), 2), mask=nulls(0.05)),
        "quantity": pa.array(rng.integers(1, 20, n).astype(np.int32)),
        "risk_score": pa.array(rng.normal(0.0, 1.0, n)),
        "balance": pa.array(rng.normal(2500.0, 900.0, n)),
        "age": pa.array(rng.integers(18, 90, n).astype(np.int32), mask=nulls(0.02)),
        "merchant_category": pick(_CATEGORIES),
        "country": pick(_COUNTRIES),
        "channel": pick(_CHANNELS),
        "email": email,
        "device_os": pick(_OS, nulls(0.1)),
        "is_fraud": pa.array(rng.random(n) < 0.01),
        "event_ts": pa.array(event_us, type=pa.timestamp("us", tz="UTC")),
        "settled_ts": pa.array(
            event_us + rng.integers(0, 86_400_000_000, n),
            type=pa.timestamp("us", tz="UTC"),
            mask=nulls(0.03),
        ),
        "latitude": pa.array(rng.uniform(-60.0, 70.0, n)),
        "longitude": pa.array(rng.uniform(-180.0, 180.0, n)),
        "discount": pa.array(rng.random(n).astype(np.float32), mask=nulls(0.3)),
        "items_viewed": pa.array(rng.poisson(4.0, n).astype(np.int64)),
    }
    return pa.RecordBatch.from_pydict(columns)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, rows, CHUNK):
            batch = _chunk(rng, start, min(CHUNK, rows - start))
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_batch(batch, row_group_size=CHUNK)
    finally:
        if writer is not None:
            writer.close()


def profile_child(path: str) -> None:
    """Run in a subprocess: profile ``path`` and print time and peak RSS as JSON."""
    from featmesh.connector.profiling import ProfileOptions, profile_dataset

    start = time.perf_counter()
    profile = profile_dataset(path, ProfileOptions())
    seconds = time.perf_counter() - start
    peak_bytes = _own_peak_rss()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss": peak_bytes,
                "rows": profile.row_count,
                "columns": len(profile.columns),
            }
        )
    )


def _own_peak_rss() -> int:
    """This process's peak resident set. Linux keeps ``ru_maxrss`` across ``execve``, so a
    child started by a parent that once held pandas' frames would report the parent's peak;
    ``VmHWM`` belongs to the new program's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def time_featmesh(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def time_duckdb(path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    con.sql(f"SUMMARIZE SELECT * FROM read_parquet('{path.as_posix()}')").fetchall()
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def time_pandas(path: Path) -> float:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_parquet(path)
    frame.describe(include="all")
    frame.nunique()
    seconds = time.perf_counter() - start
    del frame
    return seconds


def warm(path: Path) -> None:
    """Flush the freshly written file to disk, then read it once, so that every contender
    finds it in the page cache and none competes with the kernel's write-back."""
    os.sync()
    for _ in pq.ParquetFile(path).iter_batches(batch_size=CHUNK):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Write the data here and keep it.")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="Runs of each contender; the best of each is compared."
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        profile_child(args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="featmesh-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench_{args.rows}.parquet"
        if not path.exists():
            start = time.perf_counter()
            generate(path, args.rows)
            print(
                f"generated {args.rows:,} rows x 20 columns "
                f"({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f}s"
            )
        warm(path)
        runs: dict[str, list[float]] = {"featmesh": [], "duckdb": [], "pandas": []}
        peak = 0.0
        for _ in range(max(1, args.repeat)):  # interleaved, so drift hits every contender alike
            child = time_featmesh(path)
            runs["featmesh"].append(child["seconds"])
            peak = max(peak, child["peak_rss"])
            runs["duckdb"].append(time_duckdb(path))
            if not args.skip_pandas:
                runs["pandas"].append(time_pandas(path))
    ours = {"seconds": min(runs["featmesh"]), "peak_rss": peak}
    duck = min(runs["duckdb"])
    panda = min(runs["pandas"]) if runs["pandas"] else None

    def shown(name: str) -> str:
        return ", ".join(f"{s:.2f}" for s in runs[name])

    print(
        f"featmesh profile : {ours['seconds']:8.2f}s best of [{shown('featmesh')}]  "
        f"peak RSS {peak / 2**30:.2f} GiB"
    )
    print(f"duckdb SUMMARIZE : {duck:8.2f}s best of [{shown('duckdb')}]")
    if panda is not None:
        print(f"pandas describe+nunique (incl. read): {panda:8.2f}s best of [{shown('pandas')}]")
    vs_duck = ours["seconds"] / duck
    ok = vs_duck <= GOAL_VS_DUCKDB and ours["peak_rss"] < GOAL_RSS_BYTES
    print(f"featmesh / duckdb = {vs_duck:.2f}x (goal <= {GOAL_VS_DUCKDB}x)")
    if panda is not None:
        speedup = panda / ours["seconds"]
        ok = ok and speedup >= GOAL_VS_PANDAS
        print(f"pandas / featmesh = {speedup:.1f}x faster (goal >= {GOAL_VS_PANDAS:.0f}x)")
    print(f"peak RSS {ours['peak_rss'] / 2**30:.2f} GiB (goal < 2 GiB)")
    print("goals met" if ok else "goals NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
