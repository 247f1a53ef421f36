"""Where each feature set is profiled: the engine per source in featmesh.yaml over the
top-level one, the command line over both, Unity Catalog tables on their warehouse by
default (never pulled through pyarrow), and unchanged data not profiled again."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests_profiling_data import make_table

from featmesh.connector.config import load_config
from featmesh.connector.errors import InputError
from featmesh.connector.model import FeatureSet, Origin, SourceRef
from featmesh.connector.profiling import ProfileOptions
from featmesh.connector.scan.engine import EngineChoice, engine_plan
from featmesh.connector.scan.profile import _local, _pushed_down, route
from tests.conftest import run

CONFIG = """\
version: 1
profiling:
  enabled: true
  engine: spark
  warehouse_id: wh-shared
  databricks_host: adb-1.7.azuredatabricks.net
sources:
  - uri: manifest:payments
    profiling:
      engine: databricks-sql
      warehouse_id: wh-payments
  - uri: manifest:lab
  - uri: manifest:fraud
    profiling:
      engine: local
"""


def _config(tmp_path: Path, text: str = CONFIG):
    for name in ("payments", "lab", "fraud"):
        (tmp_path / name).mkdir(exist_ok=True)
    path = tmp_path / "featmesh.yaml"
    path.write_text(text)
    return load_config(path)


def test_a_source_s_keys_override_the_top_level_ones(tmp_path: Path) -> None:
    config = _config(tmp_path)
    plan = engine_plan(None, config)
    payments, lab, fraud = (plan.for_source(s.uri) for s in config.sources)
    assert (payments.engine, payments.warehouse_id, payments.databricks_host) == (
        "databricks-sql",
        "wh-payments",
        "adb-1.7.azuredatabricks.net",  # inherited key by key
    )
    assert (lab.engine, lab.warehouse_id) == ("spark", "wh-shared")
    assert fraud.engine == "local" and fraud.named
    forced = engine_plan("local", config)  # the command line's engine wins for every source
    assert {forced.for_source(s.uri).engine for s in config.sources} == {"local"}
    on_sql = engine_plan("databricks-sql", config).for_source(config.sources[0].uri)
    assert (on_sql.engine, on_sql.warehouse_id) == ("databricks-sql", "wh-payments")  # its own warehouse


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("    profiling:\n      engine: duckdb\n", ":7: sources[0].profiling.engine: 'duckdb' is not one of"),
        ("    profiling:\n      cluster: c-1\n", ":7: sources[0].profiling.cluster: Additional properties"),
        ("    profiling:\n      warehouse_id: ''\n", ":7: sources[0].profiling.warehouse_id"),
    ],
)
def test_a_bad_source_profiling_block_names_file_and_line(tmp_path: Path, block: str, expected: str) -> None:
    (tmp_path / "payments").mkdir()
    text = "version: 1\nprofiling:\n  enabled: true\nsources:\n  - uri: manifest:payments\n" + block
    path = tmp_path / "featmesh.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value), str(err.value)
    result = run("scan", "--config", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def _unity_set(upstream: tuple[SourceRef, ...] = ()) -> FeatureSet:
    return FeatureSet(
        store_kind="databricks",
        store="ml.fraud",
        name="card_features",
        sources=(
            SourceRef(
                kind="adls",
                uri="abfss://uc@lake.dfs.core.windows.net/ml/fraud/card_features",
                name="ml.fraud.card_features",
                format="delta",
            ),
            *upstream,
        ),
        extra={"full_name": "ml.fraud.card_features"},
        origin=Origin(
            path="https://adb-9.7.azuredatabricks.net/api/2.1/unity-catalog/tables/ml.fraud.card_features"
        ),
    )


def test_unity_catalog_tables_go_to_the_warehouse_by_default() -> None:
    fs = _unity_set()
    default = EngineChoice(engine="local", named=False, warehouse_id="wh-1")
    chosen = route(fs, default)
    assert (chosen.engine, chosen.warehouse_id, chosen.databricks_host) == (
        "databricks-sql",
        "wh-1",
        "adb-9.7.azuredatabricks.net",  # the workspace the set was read from
    )
    assert route(fs, EngineChoice(engine="local", named=False)).engine == "local"  # no warehouse
    assert route(fs, EngineChoice(engine="local", warehouse_id="wh-1")).engine == "local"  # named
    assert route(fs, EngineChoice(engine="spark", named=False, warehouse_id="wh-1")).engine == "spark"
    other = FeatureSet(store_kind="manifest", store="s", name="x", sources=fs.sources)
    assert route(other, default).engine == "local"


def test_pyarrow_never_pulls_a_unity_catalog_table(tmp_path: Path) -> None:
    pq.write_table(make_table(100), tmp_path / "upstream.parquet")
    fs = _unity_set((SourceRef(kind="file", uri=str(tmp_path / "upstream.parquet"), format="parquet"),))
    table, upstream = _local(fs, ProfileOptions(remote=True), None)
    assert table.status == "skipped" and "Unity Catalog table" in (table.error or "")
    assert "warehouse" in (table.error or "")
    assert upstream.status == "ok" and upstream.profile is not None


def test_unchanged_files_are_not_profiled_again_on_the_engine(tmp_path: Path) -> None:
    """A local path's fingerprint is its files' sizes and modification times."""
    pytest.importorskip("duckdb")
    from featmesh.connector.profiling.engines import DuckDBEngine

    path = tmp_path / "payments.parquet"
    pq.write_table(make_table(500), path)
    fs = FeatureSet(
        store_kind="manifest",
        store="s",
        name="payments",
        sources=(SourceRef(kind="file", uri=str(path), format="parquet"),),
    )
    engine = DuckDBEngine()
    (first,) = _pushed_down(fs, engine, "duckdb", {}, reuse=True)
    assert first.profile is not None and first.profile.fingerprint and not first.reused
    (again,) = _pushed_down(fs, engine, "duckdb", {str(path): first.profile}, reuse=True)
    assert again.reused and again.profile is not None
    assert again.profile.row_count == 500
    (full,) = _pushed_down(fs, engine, "duckdb", {str(path): first.profile}, reuse=False)
    assert not full.reused  # --full profiles everything
    pq.write_table(make_table(700), path)
    os.utime(path, (1_800_000_000, 1_800_000_000))
    (changed,) = _pushed_down(fs, engine, "duckdb", {str(path): first.profile}, reuse=True)
    assert not changed.reused and changed.profile is not None and changed.profile.row_count == 700


def test_the_warehouse_token_is_read_through_the_source_s_env(tmp_path: Path, monkeypatch) -> None:
    """Two workspaces, two tokens: the source's ``env`` aliases apply to its warehouse too."""
    from featmesh.connector.scan.engine import open_engine

    (tmp_path / "payments").mkdir()
    path = tmp_path / "featmesh.yaml"
    path.write_text(
        "version: 1\nprofiling: {enabled: true, warehouse_id: wh-1}\nsources:\n"
        "  - uri: manifest:payments\n    env: {DATABRICKS_TOKEN: DBX_PAYMENTS_TOKEN}\n"
    )
    config = load_config(path)
    monkeypatch.setenv("DBX_PAYMENTS_TOKEN", "dapi-payments")
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    choice = engine_plan(None, config).for_source(config.sources[0].uri)
    assert choice.env == (("DATABRICKS_TOKEN", "DBX_PAYMENTS_TOKEN"),) and choice.warehouse_id == "wh-1"
    chosen = route(_unity_set(), replace(choice, databricks_host="dbc-1.cloud.databricks.com"))
    engine = open_engine(chosen)
    assert engine.token() == "dapi-payments"
    assert "DATABRICKS_TOKEN" not in os.environ  # only while the token is read
