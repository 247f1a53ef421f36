from __future__ import annotations

import numpy as np
import pyarrow as pa

from featmesh.connector.profiling.sketches import DistinctCounter, HyperLogLog, RowSample, hash_array


def test_string_hash_depends_on_every_byte_and_not_on_layout() -> None:
    values = ["", "a", "abcdefgh", "abcdefghi", "abcdefghij" * 5, "abcdefghij" * 5 + "x"]
    hashes = hash_array(pa.array(values))
    assert len(set(hashes.tolist())) == len(values)
    # the same values in a slice, a large_string array or with nulls hash the same
    sliced = hash_array(pa.array(["zz", *values]).slice(1))
    large = hash_array(pa.array(values, type=pa.large_string()))
    with_nulls = hash_array(pa.array([None, *values, None]))
    assert hashes.tolist() == sliced.tolist() == large.tolist() == with_nulls.tolist()


def test_hyperloglog_is_within_three_percent() -> None:
    hll = HyperLogLog()
    for start in range(0, 200_000, 50_000):
        hll.add_hashes(hash_array(pa.array([f"id-{i}" for i in range(start, start + 50_000)])))
    hll.add_hashes(hash_array(pa.array([f"id-{i}" for i in range(1000)])))  # repeats
    assert abs(hll.estimate() - 200_000) / 200_000 < 0.03


def test_hyperloglog_small_counts_are_near_exact() -> None:
    hll = HyperLogLog()
    hll.add_hashes(hash_array(pa.array(np.arange(300, dtype=np.int64))))
    assert abs(hll.estimate() - 300) <= 3


def test_distinct_counter_is_exact_up_to_the_limit_then_estimates() -> None:
    counter = DistinctCounter(limit=1000)
    counter.add(pa.array([1, 2, 2, None, 3]))
    counter.add(pa.array([3, 4]))
    assert counter.exact and counter.count() == 4
    counter.add(pa.array(np.arange(5000)))
    assert not counter.exact
    assert abs(counter.count() - 5000) < 150


def test_row_sample_is_bounded_and_draws_from_every_batch() -> None:
    sample = RowSample(1000, seed=3)
    for start in range(0, 50_000, 5000):
        sample.add(pa.record_batch({"x": pa.array(np.arange(start, start + 5000))}))
    table = sample.table(pa.schema([("x", pa.int64())]))
    values = np.asarray(table.column("x"))
    assert table.num_rows == 1000
    assert len(np.unique(values)) == 1000
    assert np.histogram(values, bins=10, range=(0, 50_000))[0].min() > 50  # roughly uniform
