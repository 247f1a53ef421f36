from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from featmesh.connector.errors import InputError
from featmesh.connector.model import FeatureSet, Origin, SourceRef
from featmesh.connector.profiling import ProfileOptions, profile_dataset, profile_feature_set


def test_metrics_match_numpy(parquet_file: Path, table: pa.Table, now: datetime) -> None:
    profile = profile_dataset(str(parquet_file), ProfileOptions(now=now, batch_size=700))
    assert profile.row_count == 5000 and profile.sampled_rows is None
    amount = profile.column("amount")
    assert amount is not None
    values = table.column("amount").drop_null().to_numpy()
    assert amount.null_count == 500 and amount.null_fraction == 0.1
    assert amount.mean == pytest.approx(values.mean())
    assert amount.stddev == pytest.approx(values.std(ddof=1))
    assert amount.min == values.min() and amount.max == values.max()
    assert amount.distinct_count == len(np.unique(values)) and amount.distinct_exact
    # every row is in the sample here, so the quantiles are exact
    assert amount.quantiles["p50"] == pytest.approx(np.quantile(values, 0.5))
    assert sum(c for _, c in amount.histogram) == pytest.approx(4500, abs=20)
    category = profile.column("category")
    assert category is not None and category.distinct_count == 3
    expected = dict(
        zip(
            *np.unique(table.column("category").to_numpy(zero_copy_only=False), return_counts=True),
            strict=True,
        )
    )
    assert dict(category.top_values) == {k: int(v) for k, v in expected.items()}
    assert category.top_values[0][0] == "a" and category.top_values_exact


def test_freshness_and_timestamp(parquet_file: Path, now: datetime, newest: datetime) -> None:
    profile = profile_dataset(str(parquet_file), ProfileOptions(now=now))
    assert profile.timestamp_column == "event_timestamp"
    assert profile.newest_timestamp == "2024-06-01T12:00:00Z"
    assert profile.freshness_lag_seconds == (now - newest).total_seconds()


def test_pii_column_is_flagged_and_its_values_withheld(parquet_file: Path, now: datetime) -> None:
    profile = profile_dataset(str(parquet_file), ProfileOptions(now=now))
    contact = profile.column("contact")
    assert contact is not None
    assert [(m.pattern, m.share) for m in contact.pii] == [("email", 0.25)]
    assert contact.min is None and contact.max is None and contact.top_values == ()
    assert "@example.com" not in json.dumps([str(c) for c in profile.columns])


def test_high_cardinality_switches_to_estimates(parquet_file: Path, now: datetime) -> None:
    profile = profile_dataset(str(parquet_file), ProfileOptions(distinct_limit=100, now=now))
    ids = profile.column("id")
    assert ids is not None and not ids.distinct_exact
    assert abs((ids.distinct_count or 0) - 5000) < 150
    assert profile.column("category").distinct_exact  # type: ignore[union-attr]


def test_sample_rows_and_columns(parquet_file: Path, now: datetime) -> None:
    options = ProfileOptions(sample_rows=1500, columns=("amount", "category"), now=now)
    profile = profile_dataset(str(parquet_file), options)
    assert [c.name for c in profile.columns] == ["amount", "category"]
    assert profile.sampled_rows == 1500 and profile.row_count == 1500
    assert all(c.row_count == 1500 for c in profile.columns)


def test_csv_json_lines_and_folders(tmp_path: Path, table: pa.Table) -> None:
    small = table.select(["id", "amount", "category"]).slice(0, 300)
    pacsv.write_csv(small, tmp_path / "rows.csv")
    lines = "\n".join(json.dumps(r) for r in small.to_pylist())
    (tmp_path / "rows.jsonl").write_text(lines + "\n")
    folder = tmp_path / "part"
    folder.mkdir()
    pq.write_table(small.slice(0, 100), folder / "a.parquet")
    pq.write_table(small.slice(100), folder / "b.parquet")
    for target in ("rows.csv", "rows.jsonl", "part"):
        profile = profile_dataset(str(tmp_path / target))
        amount = profile.column("amount")
        assert profile.row_count == 300, target
        assert amount is not None and amount.null_count == 30, target
        assert amount.mean == pytest.approx(pa.compute.mean(small.column("amount")).as_py())


def test_file_uri(parquet_file: Path) -> None:
    assert profile_dataset(parquet_file.as_uri()).row_count == 5000


def test_missing_and_corrupt_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothing\.parquet: no such file"):
        profile_dataset(str(tmp_path / "nothing.parquet"))
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match=r"broken\.parquet"):
        profile_dataset(str(bad))
    with pytest.raises(InputError, match="no such column"):
        profile_dataset(str(_csv(tmp_path)), ProfileOptions(columns=("nope",)))


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "ok.csv"
    path.write_text("a,b\n1,2\n")
    return path


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_permission_denied(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        profile_dataset(str(path))


def test_feature_set_sources_resolve_against_the_definition(
    tmp_path: Path, parquet_file: Path, now: datetime
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "data").mkdir()
    parquet_file.rename(repo / "data" / "payments.parquet")
    fs = FeatureSet(
        store_kind="manifest",
        store="s",
        name="payments",
        timestamp_field="event_timestamp",
        sources=(
            SourceRef(kind="file", uri="data/payments.parquet", format="parquet"),
            SourceRef(kind="file", uri="data/missing.parquet"),
            SourceRef(kind="table", uri="main.sales.orders"),
        ),
        origin=Origin(path=str(repo / "featmesh.yaml")),
    )
    ok, missing, table = profile_feature_set(fs, ProfileOptions(now=now))
    assert ok.status == "ok" and ok.profile is not None
    assert ok.profile.timestamp_column == "event_timestamp"
    assert missing.status == "failed" and "missing.parquet" in (missing.error or "")
    assert table.status == "skipped"


def test_progress_is_reported(parquet_file: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    profile_dataset(
        str(parquet_file),
        ProfileOptions(batch_size=1000, progress=lambda _u, d, t: seen.append((d, t))),
    )
    assert seen[-1] == (5000, 5000) and len(seen) >= 5


def test_delta_table(tmp_path: Path, table: pa.Table) -> None:
    deltalake = pytest.importorskip("deltalake")
    deltalake.write_deltalake(str(tmp_path / "delta"), table.select(["id", "amount"]))
    profile = profile_dataset(str(tmp_path / "delta"))
    assert profile.row_count == 5000 and profile.column("amount").null_count == 500  # type: ignore[union-attr]
