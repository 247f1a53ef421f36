"""The push-down profiler's SQL run on DuckDB agrees with the pyarrow profiler on the
same Parquet data, pass by pass."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pushdown_agreement import assert_agree, make_mixed, remember_exact
from tests_profiling_data import NOW, make_table

from featmesh.connector.profiling import compute_drift, profile_dataset
from featmesh.connector.profiling.engines import DuckDBEngine
from featmesh.connector.profiling.profiler import ProfileOptions
from featmesh.connector.profiling.pushdown import PushdownOptions, profile_relation

pytest.importorskip("duckdb")


def _both(path: Path, **kw):
    limit = {"distinct_limit": kw["distinct_limit"]} if "distinct_limit" in kw else {}
    local = profile_dataset(str(path), ProfileOptions(now=NOW, **limit))
    engine = DuckDBEngine()
    pushed = profile_relation(
        engine, engine.relation(str(path)), PushdownOptions(now=NOW, **kw), uri=str(path)
    )
    return local, pushed, engine


def test_mixed_columns_agree_with_pyarrow(tmp_path: Path) -> None:
    table = make_mixed()
    path = tmp_path / "mixed.parquet"
    pq.write_table(table, path, row_group_size=1000)
    remember_exact(table)
    local, pushed, engine = _both(path)
    assert pushed.engine == "duckdb"
    assert_agree(local, pushed, accuracy=10_000)
    # only aggregates came back: a few kilobytes for 6,000 rows of 9 columns
    assert engine.bytes_received < 20_000


def test_sampled_quantiles_within_rank_error(tmp_path: Path) -> None:
    table = make_mixed(n=20_000)
    path = tmp_path / "mixed.parquet"
    pq.write_table(table, path)
    remember_exact(table)
    local, pushed, _ = _both(path, sample_size=5000, distinct_limit=1000)
    score = pushed.column("score")
    assert score is not None and score.sample_size is not None and score.sample_size < 8000
    assert_agree(local, pushed, accuracy=10_000)
    user = pushed.column("user_id")
    assert user is not None and not user.distinct_exact and user.distinct_error == 0.03


def test_drift_counted_on_previous_edges(tmp_path: Path) -> None:
    before, after = tmp_path / "before.parquet", tmp_path / "after.parquet"
    pq.write_table(make_table(seed=1), before)
    pq.write_table(make_table(seed=2, shift=10.0), after)
    engine = DuckDBEngine()
    first = profile_relation(engine, engine.relation(str(before)), PushdownOptions(now=NOW))
    second = profile_relation(engine, engine.relation(str(after)), PushdownOptions(now=NOW, previous=first))
    amount_before, amount_after = first.column("amount"), second.column("amount")
    assert amount_before is not None and amount_after is not None
    # the same inner edges, counted exactly on the engine
    assert [b for b, _ in amount_after.histogram][1:] == [b for b, _ in amount_before.histogram][1:]
    assert sum(n for _, n in amount_after.histogram) == amount_after.row_count - amount_after.null_count
    pushed_psi = next(d for d in compute_drift(first, second) if d.column == "amount").value
    local_first = profile_dataset(str(before), ProfileOptions(now=NOW))
    local_second = profile_dataset(str(after), ProfileOptions(now=NOW))
    local_psi = next(d for d in compute_drift(local_first, local_second) if d.column == "amount").value
    assert pushed_psi > 0.25 and local_psi > 0.25  # a shift of two-thirds of a deviation
    assert abs(pushed_psi - local_psi) < 0.25 * local_psi
