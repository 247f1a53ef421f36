"""A scan's push-down path: feature set sources profiled on the engine, relative paths
resolved against the definition, the previous profile's bins counted for drift."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests_profiling_data import make_table

from featmesh.connector.model import FeatureSet, Origin, SourceRef
from featmesh.connector.scan.profile import _pushed_down

pytest.importorskip("duckdb")


def test_sources_profiled_on_the_engine(tmp_path: Path) -> None:
    from featmesh.connector.profiling.engines import DuckDBEngine

    (tmp_path / "data").mkdir()
    pq.write_table(make_table(), tmp_path / "data" / "payments.parquet")
    fs = FeatureSet(
        store_kind="manifest",
        store="s",
        name="payments",
        timestamp_field="event_timestamp",
        sources=(
            SourceRef(kind="file", uri="data/payments.parquet", format="parquet"),
            SourceRef(kind="kafka", uri="payments-topic"),
            SourceRef(kind="table", uri="main.sales.orders"),
        ),
        origin=Origin(path=str(tmp_path / "featmesh.yaml")),
    )
    engine = DuckDBEngine()
    ok, kafka, table = _pushed_down(fs, engine, "duckdb", {})
    assert ok.status == "ok" and ok.profile is not None and ok.profile.engine == "duckdb"
    assert ok.profile.row_count == 5000 and ok.profile.timestamp_column == "event_timestamp"
    assert kafka.status == "skipped"
    assert table.status == "failed" and "orders" in (table.error or "")  # no such table in DuckDB
    again, _, _ = _pushed_down(fs, engine, "duckdb", {"data/payments.parquet": ok.profile})
    assert again.profile is not None
    amount = again.profile.column("amount")
    before = ok.profile.column("amount")
    assert amount is not None and before is not None
    assert [b for b, _ in amount.histogram][1:] == [b for b, _ in before.histogram][1:]
