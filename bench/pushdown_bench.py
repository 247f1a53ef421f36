"""Benchmark: the push-down profiler on local Spark and on DuckDB (the same SQL) against
featmesh's pyarrow profiler, on one Parquet file of ROWS x 20 columns.

Generates the file (the same data as ``profile_bench.py``) into a temporary directory,
then in this one run times:

* the pyarrow profiler (every row through featmesh's process);
* the push-down profiler's queries on DuckDB, each pass timed;
* the same queries on a local Spark session (``local[2]``), each pass timed.

It prints the times, the Spark/DuckDB ratio per pass and in total, and the bytes of
query results that reached featmesh's process (the goal: a few kilobytes per column,
not a share of the rows). Needs ``pip install 'featmesh[bench,spark]'`` and Java.
Usage::

    python bench/pushdown_bench.py [--rows 10000000] [--master local[2]] [--keep DIR] [--cold]

By default both engines first run the same queries on a 50,000-row file of the same
schema, untimed (printed for Spark): a long-running Spark session or cluster has its JIT
warm and its generated code cached, and on a fresh JVM that one-time cost dominates
anything under a few million rows. ``--cold`` times a fresh session instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profile_bench import generate

from featmesh.connector.profiling import ProfileOptions, profile_dataset
from featmesh.connector.profiling.engines import DuckDBEngine, SparkEngine
from featmesh.connector.profiling.pushdown import (
    PushdownOptions,
    profile_relation,
    quantile_rank_error,
)


class Timed:
    """An engine whose every query is timed and named by the pass it belongs to."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.times: list[tuple[str, float]] = []
        self.start_bytes = int(engine.bytes_received)

    @property
    def bytes_received(self) -> int:
        """Result bytes of this run's queries (not the warm-up's)."""
        return int(self.engine.bytes_received) - self.start_bytes

    def schema(self, relation: str) -> list[tuple[str, str]]:
        return list(self.engine.schema(relation))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        kind = "pass 2" if "GROUPING SETS" in sql else "sample" if "SAMPLE" in sql else "pass 1"
        start = time.perf_counter()
        rows = list(self.engine.query(sql))
        self.times.append((kind, time.perf_counter() - start))
        return rows


def run(engine: Any, path: Path, options: PushdownOptions) -> tuple[Timed, float, Any]:
    timed = Timed(engine)
    relation = engine.relation(str(path))
    start = time.perf_counter()
    profile = profile_relation(timed, relation, options, uri=str(path))
    return timed, time.perf_counter() - start, profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--keep", type=Path, default=None, help="reuse or keep the data in this folder")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="time a fresh session (no warm-up on 50,000 rows first): mostly JIT and code generation",
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="featmesh-pushdown-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{args.rows}.parquet"
    if not path.exists():
        print(f"generating {args.rows:,} rows x 20 columns ...", flush=True)
        generate(path, args.rows)
    size = path.stat().st_size
    options = PushdownOptions()

    start = time.perf_counter()
    local = profile_dataset(str(path), ProfileOptions())
    local_seconds = time.perf_counter() - start

    warm_path = folder / "bench-warm.parquet"
    if not args.cold and not warm_path.exists():
        generate(warm_path, 50_000)
    duck_engine = DuckDBEngine()
    if not args.cold:
        run(duck_engine, warm_path, options)
    duck, duck_seconds, _ = run(duck_engine, path, options)
    spark_engine = SparkEngine(args.master)
    spark_engine.relation(str(path))  # the JVM is up before the clock starts
    if not args.cold:  # a long-running session: JIT-compiled, generated code cached
        _, warm_seconds, _ = run(spark_engine, warm_path, options)
        print(f"warm-up: the same queries on 50,000 rows took {warm_seconds:.1f} s on Spark", flush=True)
    spark, spark_seconds, pushed = run(spark_engine, path, options)
    spark_engine.session.stop()

    def per_pass(t: Timed) -> dict[str, float]:
        out: dict[str, float] = {}
        for kind, s in t.times:
            out[kind] = out.get(kind, 0.0) + s
        return out

    d, s = per_pass(duck), per_pass(spark)
    sample = next((c.sample_size for c in pushed.columns if c.quantiles), None) or 0
    print(f"data: {local.row_count:,} rows x {len(local.columns)} columns, {size / 1e6:.0f} MB Parquet")
    print(f"{'':28}{'seconds':>10}")
    print(f"{'pyarrow profiler':28}{local_seconds:10.1f}")
    print(f"{'push-down on DuckDB':28}{duck_seconds:10.1f}   " + _passes(d))
    print(f"{'push-down on Spark ' + args.master:28}{spark_seconds:10.1f}   " + _passes(s))
    print(
        "Spark/DuckDB on the same SQL: "
        + ", ".join(f"{k} {s[k] / d[k]:.1f}x" for k in d if k in s and d[k] > 0)
        + f", total {spark_seconds / duck_seconds:.1f}x"
    )
    print(
        f"bytes reaching featmesh: DuckDB {duck.bytes_received:,}, Spark {spark.bytes_received:,} "
        f"({spark.bytes_received / len(local.columns):,.0f} per column; Parquet file {size:,})"
    )
    bound = quantile_rank_error(sample, options.accuracy)
    print(f"quantiles on a {sample:,}-row sample: rank error <= {bound:.4f} (99 % confidence)")
    if args.keep is None:
        path.unlink()
        warm_path.unlink(missing_ok=True)
        folder.rmdir()


def _passes(times: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.1f}s" for k, v in times.items())


if __name__ == "__main__":
    main()
