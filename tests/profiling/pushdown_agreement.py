"""Data and the agreement check shared by the push-down tests (DuckDB and Spark)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
from tests_profiling_data import NEWEST

from featmesh.connector.model import ColumnProfile, DatasetProfile
from featmesh.connector.profiling.pushdown import quantile_rank_error


def make_mixed(n: int = 6000, seed: int = 3) -> pa.Table:
    """Every kind of column the profiler tells apart, PII of each pattern included."""
    rng = np.random.default_rng(seed)
    score = rng.normal(0.0, 1.0, n)
    score[::97] = np.nan
    pii = []
    for i in range(n):
        k = i % 10
        pii.append(
            f"person{i}@example.org"
            if k == 0
            else "4111 1111 1111 1111"
            if k == 1
            else "4111 1111 1111 1112"
            if k == 2  # fails Luhn
            else "GB82 WEST 1234 5698 7654 32"
            if k == 3
            else "+44 20 7946 0958"
            if k == 4
            else f"10.0.{i % 250}.{i % 200}"
            if k == 5
            else "2024-01-02"
            if k == 6  # a date, not a phone
            else f"free text {i}"
        )
    return pa.table(
        {
            "user_id": pa.array(rng.integers(0, 4000, n), type=pa.int64()),
            "small": pa.array(rng.integers(0, 5, n), type=pa.int32()),
            "score": pa.array(score),
            "ratio": pa.array(rng.random(n).astype(np.float32), mask=rng.random(n) < 0.2),
            "flag": pa.array(rng.random(n) < 0.3),
            "country": pa.array(rng.choice(["fr", "de", "nl", "it"], n, p=[0.4, 0.3, 0.2, 0.1])),
            "note": pa.array(pii),
            "day": pa.array([(NEWEST - timedelta(days=int(d))).date() for d in rng.integers(0, 300, n)]),
            "event_timestamp": pa.array(
                [NEWEST - timedelta(seconds=int(s)) for s in rng.integers(0, 86_400 * 30, n)],
                type=pa.timestamp("us", tz="UTC"),
            ),
        }
    )


def assert_agree(local: DatasetProfile, pushed: DatasetProfile, *, accuracy: int) -> None:
    """Exact counts equal, distinct within the stated error, quantiles within rank error."""
    assert pushed.row_count == local.row_count
    assert pushed.timestamp_column == local.timestamp_column
    assert pushed.newest_timestamp == local.newest_timestamp
    assert pushed.freshness_lag_seconds == local.freshness_lag_seconds
    assert [c.name for c in pushed.columns] == [c.name for c in local.columns]
    for mine, theirs in zip(pushed.columns, local.columns, strict=True):
        _column(mine, theirs, accuracy)


def _column(mine: ColumnProfile, theirs: ColumnProfile, accuracy: int) -> None:
    where = mine.name
    assert mine.dtype == theirs.dtype, where
    assert mine.row_count == theirs.row_count, where
    assert mine.null_count == theirs.null_count, where
    assert mine.min == theirs.min and mine.max == theirs.max, where
    if theirs.distinct_exact and mine.distinct_exact:
        assert mine.distinct_count == theirs.distinct_count, where
    else:
        error = mine.distinct_error or 0.01
        assert abs(mine.distinct_count - theirs.distinct_count) <= 3 * error * theirs.distinct_count, where
    if theirs.mean is not None:
        assert abs(mine.mean - theirs.mean) <= 1e-9 * max(1.0, abs(theirs.mean)), where
        assert abs(mine.stddev - theirs.stddev) <= 1e-9 * max(1.0, abs(theirs.stddev)), where
    assert mine.top_values_exact == theirs.top_values_exact, where
    if theirs.top_values_exact:  # else estimated from the local sample, not pushed down
        assert mine.top_values == theirs.top_values, where
    assert bool(mine.quantiles) == bool(theirs.quantiles), where
    if theirs.quantiles:
        _quantiles(mine, theirs, accuracy)
    assert sorted(p.pattern for p in mine.pii) == sorted(p.pattern for p in theirs.pii), where
    for p in mine.pii:
        other = next(o for o in theirs.pii if o.pattern == p.pattern)
        assert abs(p.share - other.share) <= 0.02, (where, p, other)


def _quantiles(mine: ColumnProfile, theirs: ColumnProfile, accuracy: int) -> None:
    """Each engine quantile lies within the stated rank error of the exact one: between
    the exact quantiles at p - e and p + e (with a margin for the local profiler's own
    interpolation)."""
    from featmesh.connector.profiling.columns import QUANTILES

    sample = mine.sample_size or 0
    error = quantile_rank_error(sample if sample < (mine.row_count - mine.null_count) else 0, accuracy)
    for key, p in QUANTILES.items():
        got = mine.quantiles[key]
        low = _exact(theirs, max(0.0, p - error - 0.002))
        high = _exact(theirs, min(1.0, p + error + 0.002))
        assert low <= got <= high, (mine.name, key, got, low, high)


def _exact(column: ColumnProfile, p: float) -> float:
    values = EXACT[column.name]
    return float(np.quantile(values, p))


EXACT: dict[str, np.ndarray] = {}
"""The exact non-null, non-NaN values per numeric column, filled by the tests."""


def remember_exact(table: pa.Table) -> None:
    EXACT.clear()
    for name in table.column_names:
        kind = table.schema.field(name).type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            values = np.asarray(table.column(name).drop_null().to_numpy(), dtype=np.float64)
            EXACT[name] = values[np.isfinite(values)]
