"""The Feast reader against real registries written by `feast apply` (see
tests/fixtures/feast/regenerate.py) and a registry written by an older Feast."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from golden import SHARED_FIXTURES, TESTS, as_json, assert_golden

from featmesh.connector.errors import EXIT_PARTIAL, InputError, UnsupportedStoreError
from featmesh.connector.model import FeatureSet, FeatureStore
from featmesh.connector.runreport import RunReport, SourceReport
from featmesh.connector.scan.read import read_sources
from featmesh.connector.sources import parse_source, read_source

FIXTURES = TESTS / "fixtures" / "feast"
ALL_SOURCES = FIXTURES / "all_sources"
SQL_REPO = FIXTURES / "sql_registry"
DQM = SHARED_FIXTURES / "feast-registries" / "dqm-tutorial-2023"

needs_dqm = pytest.mark.skipif(
    not DQM.is_dir(), reason=f"shared fixture {DQM.name} is absent (needs ../shared/fixtures)"
)


def scan(location: Path | str) -> tuple[list[FeatureStore], SourceReport]:
    spec = parse_source(f"feast:{location}")
    report = SourceReport(uri=spec.uri, kind=spec.kind)
    return read_source(spec, report), report


def sets_of(store: FeatureStore) -> dict[str, FeatureSet]:
    return {fs.name: fs for fs in store.feature_sets}


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("repo", ["all_sources", "sql_registry"])
def test_scanned_model_matches_golden(repo: str) -> None:
    stores, _ = scan(FIXTURES / repo)
    assert_golden(as_json(stores, {"<fixtures>": FIXTURES}), FIXTURES / "golden" / f"{repo}.json")


@needs_dqm
def test_older_feast_registry_matches_golden() -> None:
    stores, _ = scan(DQM)
    assert_golden(as_json(stores, {"<shared>": DQM}), FIXTURES / "golden" / "dqm_tutorial_2023.json")


# --------------------------------------------------------------------------- mapping


def test_every_source_kind_maps_to_its_uri_or_table() -> None:
    (store,) = scan(ALL_SOURCES)[0]
    found = {(s.kind, s.uri) for fs in store.feature_sets for s in fs.sources}
    assert found >= {
        ("file", "file:feast/fraud_mesh/data/transactions.parquet"),  # a file of the repo
        ("bigquery", "acme-analytics.risk.customer_profiles"),
        ("bigquery", "acme-analytics.risk.merchants"),  # the table merchant_stats_query reads
        ("snowflake", "FINANCE.CORE.ACCOUNT_BALANCES"),
        ("redshift", "dwh.disputes.chargebacks"),
        ("s3", "s3a://acme-lake/devices/"),
        ("trino", "hive.auth.logins"),
        ("athena", "AwsDataCatalog.geo.ip_locations"),
        ("kafka", "kafka://broker-1.acme.internal:9092/card.transactions.v1"),
        ("kinesis", "kinesis://eu-west-1/web-clicks"),
        ("push", "push:feast/fraud_mesh/balance_push"),
        ("request", "request:feast/fraud_mesh/checkout_request"),
    }
    query = next(s for fs in store.feature_sets for s in fs.sources if s.name == "merchant_stats_query")
    assert query.extra["query"].startswith("SELECT merchant_id")


def test_feature_view_fields_owner_ttl_and_field_mapping() -> None:
    (store,) = scan(ALL_SOURCES)[0]
    tx = sets_of(store)["customer_transactions"]
    assert tx.owner == "risk-features@example.com"  # spec.owner wins over tags["owner"]
    assert sets_of(store)["customer_profile"].owner == "crm@example.com"  # tags["owner"]
    assert tx.ttl_seconds == 2 * 86400
    assert tx.timestamp_field == "event_timestamp"
    assert [k.name for k in tx.join_keys] == ["customer_id"]
    assert tx.join_keys[0].dtype == "int64"
    types = {f.name: (f.dtype, f.raw_type) for f in tx.features}
    assert types["recent_amounts"] == ("array<float32>", "FLOAT_LIST")
    assert types["amount"] == ("float64", "DOUBLE")
    amount = next(f for f in tx.features if f.name == "amount")
    assert amount.description == "Transaction amount in EUR"
    (source,) = tx.sources
    assert source.format == "parquet"
    assert "amt" in source.columns and "amount" not in source.columns  # field_mapping undone
    assert sets_of(store)["device_risk"].ttl_seconds is None  # Feast's ttl 0: no limit


def test_on_demand_view_is_derived_from_its_inputs() -> None:
    (store,) = scan(ALL_SOURCES)[0]
    odfv = sets_of(store)["checkout_ratios"]
    assert [r.qualified_name for r in odfv.derived_from] == [
        "featmesh://feast/fraud_mesh/customer_transactions@latest"
    ]
    assert [s.kind for s in odfv.sources] == ["request"]
    assert odfv.sources[0].columns == ("basket_total", "item_count")
    assert odfv.entities == ("customer",)
    assert odfv.extra["mode"] == "pandas"
    assert "def checkout_ratios" in odfv.extra["udf_source"]


def test_stream_view_has_stream_and_batch_sources_and_aggregations() -> None:
    (store,) = scan(ALL_SOURCES)[0]
    sfv = sets_of(store)["customer_spend_stream"]
    assert [s.kind for s in sfv.sources] == ["file", "kafka"]
    assert sfv.owner == "streaming@example.com"
    assert sfv.extra["feast_type"] == "stream_feature_view"
    assert sfv.extra["aggregations"][0]["function"] == "sum"
    assert sfv.extra["aggregations"][0]["time_window_seconds"] == 3600


def test_feature_services_are_consumers() -> None:
    (store,) = scan(ALL_SOURCES)[0]
    sets = sets_of(store)
    assert sets["customer_transactions"].consumers == ("fraud_model_v1",)
    assert sets["checkout_ratios"].consumers == ("fraud_model_v1",)
    assert sets["merchant_stats"].consumers == ("merchant_model",)
    assert sets["chargebacks"].consumers == ()
    services = {s["name"]: s for s in store.extra["feature_services"]}
    assert services["fraud_model_v1"]["owner"] == "ml-fraud@example.com"


def test_sql_registry_reads_projects_entities_and_lineage() -> None:
    (store,) = scan(SQL_REPO)[0]
    assert store.name == "driver_ranking"
    assert store.owner == "mobility@example.com"
    assert [e.name for e in store.entities] == ["driver"]
    sets = sets_of(store)
    assert sets["driver_scores"].derived_from[0].name == "driver_hourly_stats"
    assert sets["driver_hourly_stats"].consumers == ("driver_activity",)


def test_registry_file_and_sqlite_file_are_read_directly() -> None:
    by_repo, _ = scan(ALL_SOURCES)
    by_file, report = scan(ALL_SOURCES / "data" / "registry.db")
    assert by_file[0].feature_sets == by_repo[0].feature_sets
    by_sql, report = scan(SQL_REPO / "data" / "registry.sqlite")
    assert report.counters["sql_registry"] == 1
    assert by_sql[0].feature_sets == scan(SQL_REPO)[0][0].feature_sets


def test_detect_finds_repo_and_registry() -> None:
    assert parse_source(str(ALL_SOURCES)).kind == "feast"
    assert parse_source(str(SQL_REPO / "data" / "registry.sqlite")).kind == "feast"


@needs_dqm
def test_older_registry_keeps_owner_and_drops_dummy_entity() -> None:
    (store,) = scan(DQM)[0]
    assert store.name == "dqm_tutorial"
    assert [e.name for e in store.entities] == ["taxi_id"]
    raw = sets_of(store)["raw_data_fv"]
    assert raw.owner == "Malcolm Keyes"
    # a relative path resolves against the repo, as Feast resolves it; the file is named by
    # the project and its path in the repo, the same in every clone; the text as written stays
    assert raw.sources[0].uri == "file:feast/dqm_tutorial/trips_stats.parquet"
    assert raw.sources[0].location == str(DQM.absolute() / "trips_stats.parquet")
    assert raw.sources[0].extra["path_as_written"] == "trips_stats.parquet"
    assert raw.sources[0].kind == "file"
    assert raw.ttl_seconds is None


def test_objects_without_a_project_belong_to_the_only_project(tmp_path: Path) -> None:
    from featmesh.connector.sources.feast.schema import message_class

    registry = message_class("Registry")()
    registry.ParseFromString((ALL_SOURCES / "data" / "registry.db").read_bytes())
    for entity in registry.entities:
        entity.spec.project = ""
    path = tmp_path / "registry.db"
    path.write_bytes(registry.SerializeToString())
    (store,) = scan(path)[0]
    assert [e.name for e in store.entities] == ["customer", "merchant"]


# --------------------------------------------------------------------------- broken input


def copy_repo(tmp_path: Path, repo: Path = ALL_SOURCES) -> Path:
    target = tmp_path / repo.name
    shutil.copytree(repo, target)
    return target


def test_truncated_registry_is_an_input_error(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    registry = repo / "data" / "registry.db"
    registry.write_bytes(registry.read_bytes()[:5000])
    with pytest.raises(InputError, match="does not decode as a protobuf Registry") as err:
        scan(repo)
    assert str(registry) in str(err.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "registry file is empty"), (b"registry: not protobuf\n", "not a Feast registry")],
)
def test_non_protobuf_registry_is_an_input_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "registry.db"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        scan(path)


@pytest.mark.parametrize(
    ("registry", "message", "line"),
    [
        ("registry:\n  registry_type: fiel\n  path: x\n", "unknown registry type", 3),
        ("registry:\n  registry_type: sql\n", "missing required key: 'path'", 2),
        ("online_store: {}\n", "missing required key: 'registry'", None),
    ],
)
def test_unusable_registry_config_names_file_and_line(
    tmp_path: Path, registry: str, message: str, line: int | None
) -> None:
    (tmp_path / "feature_store.yaml").write_text("project: p\n" + registry, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        scan(tmp_path)
    assert err.value.path == str(tmp_path / "feature_store.yaml")
    if line is not None:
        assert err.value.where == str(line)


@pytest.mark.parametrize(
    ("registry", "message", "line"),
    [
        ("registry:\n  registry_type: snowflake.registry\n  account: a\n", "type 'snowflake.registry'", 3),
        ("registry:\n  registry_type: remote\n  path: localhost:6570\n", "type 'remote'", 3),
        ("registry:\n  registry_type: sql\n  path: postgresql://h/db\n", "on SQLite only", 4),
        ("registry: s3://bucket/registry.db\n", "is remote", 2),
    ],
)
def test_a_valid_registry_featmesh_does_not_read_is_exit_3(
    tmp_path: Path, registry: str, message: str, line: int
) -> None:
    (tmp_path / "feature_store.yaml").write_text("project: p\n" + registry, encoding="utf-8")
    with pytest.raises(UnsupportedStoreError, match=message) as err:
        scan(tmp_path)
    assert err.value.exit_code == EXIT_PARTIAL
    assert str(err.value).startswith(f"{tmp_path / 'feature_store.yaml'}:{line}: ")


def test_missing_registry_file_and_missing_config(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"holds no feature_store\.yaml"):
        scan(tmp_path)
    (tmp_path / "feature_store.yaml").write_text("project: p\nregistry: data/registry.db\n")
    with pytest.raises(InputError, match="registry file does not exist"):
        scan(tmp_path)


def test_corrupt_sql_row_names_table_and_row(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, SQL_REPO)
    db = repo / "data" / "registry.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE feature_views SET feature_view_proto = x'0a05ff'")
    with pytest.raises(InputError, match="does not decode") as err:
        scan(repo)
    assert err.value.where == "table feature_views, row 1"


def test_sqlite_file_without_feast_tables(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(InputError, match="no Feast SQL registry"):
        scan(db)


def test_broken_source_fails_alone_in_a_multi_source_read(tmp_path: Path) -> None:
    broken = copy_repo(tmp_path)
    (broken / "data" / "registry.db").write_bytes(b"\x0a\xff\xff")
    report = RunReport(command="test")
    specs = [parse_source(f"feast:{broken}"), parse_source(f"feast:{SQL_REPO}")]
    result = read_sources(specs, report)
    assert [s.status for s in report.sources] == ["failed", "ok"]
    assert "registry.db" in (report.sources[0].error or "")
    assert [s.name for s in result.stores] == ["driver_ranking"]
    assert report.status == "partial"
    assert len(result.input_errors) == 1
