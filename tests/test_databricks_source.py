"""The databricks reader against payloads shaped like the real REST APIs'."""

from __future__ import annotations

import logging

import pytest
import responses
from responses import matchers

from featmesh.connector.errors import InputError, SourceError
from featmesh.connector.http import RetryPolicy
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.databricks import parse_location, read

BASE = "http://127.0.0.1:8123"
UC = f"{BASE}/api/2.1/unity-catalog"
LINEAGE = f"{BASE}/api/2.0/lineage-tracking/table-lineage"
FS = f"{BASE}/api/2.0/feature-store"
CANARY = "dapi-CANARY-0123456789abcdef"
FAST = {"retry_policy": RetryPolicy(max_attempts=4, base_delay=0.01), "sleep": lambda s: None}


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", CANARY)


def column(name, type_name, type_text, comment=None, position=0):
    col = {
        "name": name,
        "type_name": type_name,
        "type_text": type_text,
        "type_json": "{}",
        "nullable": True,
        "position": position,
    }
    if comment:
        col["comment"] = comment
    return col


def uc_table(name, columns, pk=None, timeseries=(), **more):
    table = {
        "name": name,
        "catalog_name": "ml",
        "schema_name": "fraud",
        "full_name": f"ml.fraud.{name}",
        "table_type": "MANAGED",
        "data_source_format": "DELTA",
        "columns": columns,
        "storage_location": f"abfss://uc@lake.dfs.core.windows.net/ml/fraud/{name}",
        "owner": "fraud-team@contoso.com",
        "created_at": 1700000000000,
        "updated_at": 1700000500000,
        "table_id": f"id-{name}",
        "properties": {"delta.minReaderVersion": "3", "team": "fraud"},
    }
    if pk is not None:
        table["table_constraints"] = [
            {
                "primary_key_constraint": {
                    "name": f"{name}_pk",
                    "child_columns": pk,
                    "timeseries_columns": list(timeseries),
                }
            }
        ]
    else:
        table["table_constraints"] = []
    table.update(more)
    return table


CUSTOMER = uc_table(
    "customer_features",
    [
        column("customer_id", "LONG", "bigint", position=0),
        column("ts", "TIMESTAMP", "timestamp", position=1),
        column("spend_7d", "DOUBLE", "double", "Spend over 7 days", 2),
        column("tx_amounts", "ARRAY", "array<double>", position=3),
    ],
    pk=["customer_id", "ts"],
    timeseries=["ts"],
    comment="Customer spend features",
)
MERCHANT = uc_table(
    "merchant_features",
    [column("merchant_id", "STRING", "string"), column("risk", "DECIMAL", "decimal(10,2)")],
    pk=["merchant_id"],
)
RAW = uc_table("raw_events", [column("event_id", "STRING", "string")])


def mock_unity(lineage=True, models=True):
    page = {"catalog_name": "ml", "schema_name": "fraud", "max_results": "100"}
    if models:  # a schema without registered models, and no serving endpoint
        responses.get(
            f"{UC}/models", json={"registered_models": []}, match=[matchers.query_param_matcher(page)]
        )
    responses.get(
        f"{UC}/tables",
        json={"tables": [CUSTOMER, RAW], "next_page_token": "p2"},
        match=[matchers.query_param_matcher(page)],
    )
    responses.get(
        f"{UC}/tables",
        json={"tables": [MERCHANT]},
        match=[matchers.query_param_matcher({**page, "page_token": "p2"})],
    )
    if lineage:
        responses.get(
            LINEAGE,
            json={
                "upstreams": [
                    {
                        "tableInfo": {
                            "name": "transactions",
                            "catalog_name": "raw",
                            "schema_name": "bank",
                            "table_type": "TABLE",
                            "lineage_timestamp": "2024-01-02 10:00:00.0",
                        },
                        "notebookInfos": [{"workspace_id": 1, "notebook_id": 42}],
                    },
                    {
                        "tableInfo": {
                            "name": "merchant_features",
                            "catalog_name": "ml",
                            "schema_name": "fraud",
                            "table_type": "TABLE",
                        }
                    },
                    {
                        "fileInfo": {
                            "path": "abfss://raw@lake.dfs.core.windows.net/events/",
                            "has_permission": True,
                        }
                    },
                ],
                "downstreams": [],
            },
            match=[
                matchers.query_param_matcher(
                    {"table_name": "ml.fraud.customer_features", "include_entity_lineage": "false"}
                )
            ],
        )
        responses.get(
            LINEAGE,
            json={"upstreams": [], "downstreams": []},
            match=[
                matchers.query_param_matcher(
                    {"table_name": "ml.fraud.merchant_features", "include_entity_lineage": "false"}
                )
            ],
        )


@responses.activate
def test_unity_feature_tables_over_two_pages_with_lineage():
    mock_unity()
    report = SourceReport(uri="x", kind="databricks")
    [store] = read(f"{BASE}?catalog=ml&schema=fraud&api=unity", report, FAST)
    assert store.name == "ml.fraud"
    sets = {fs.name: fs for fs in store.feature_sets}
    assert set(sets) == {"customer_features", "merchant_features"}
    assert report.counters["tables"] == 3
    assert report.counters["tables_without_primary_key"] == 1

    customer = sets["customer_features"]
    assert [(k.name, k.dtype) for k in customer.join_keys] == [("customer_id", "int64")]
    assert customer.timestamp_field == "ts"
    assert [(f.name, f.dtype) for f in customer.features] == [
        ("spend_7d", "float64"),
        ("tx_amounts", "array<float64>"),
    ]
    assert customer.features[0].description == "Spend over 7 days"
    assert customer.owner == "fraud-team@contoso.com"
    assert customer.description == "Customer spend features"
    assert customer.tags == {"team": "fraud"}
    assert customer.extra["properties"]["delta.minReaderVersion"] == "3"
    kinds = [(s.kind, s.uri) for s in customer.sources]
    assert kinds == [
        ("adls", "abfss://uc@lake.dfs.core.windows.net/ml/fraud/customer_features"),
        ("table", "raw.bank.transactions"),
        ("adls", "abfss://raw@lake.dfs.core.windows.net/events/"),
    ]
    assert [r.qualified_name for r in customer.derived_from] == [
        "featmesh://databricks/ml.fraud/merchant_features@latest"
    ]
    assert sets["merchant_features"].features[0].dtype == "decimal"


@responses.activate
def test_lists_catalogs_and_schemas_when_not_filtered():
    responses.get(
        f"{UC}/catalogs",
        json={"catalogs": [{"name": "ml"}, {"name": "system"}], "next_page_token": "c2"},
        match=[matchers.query_param_matcher({"max_results": "100"})],
    )
    responses.get(
        f"{UC}/catalogs",
        json={"catalogs": [{"name": "empty"}]},
        match=[matchers.query_param_matcher({"max_results": "100", "page_token": "c2"})],
    )
    responses.get(
        f"{UC}/schemas",
        json={
            "schemas": [
                {"name": "fraud", "catalog_name": "ml", "full_name": "ml.fraud"},
                {"name": "information_schema", "catalog_name": "ml"},
            ]
        },
        match=[matchers.query_param_matcher({"catalog_name": "ml", "max_results": "100"})],
    )
    responses.get(
        f"{UC}/schemas",
        json={"schemas": []},
        match=[matchers.query_param_matcher({"catalog_name": "empty", "max_results": "100"})],
    )
    mock_unity(lineage=False)
    report = SourceReport(uri="x", kind="databricks")
    stores = read(f"{BASE}?api=unity&lineage=false", report, FAST)
    assert [s.name for s in stores] == ["ml.fraud"]
    assert not any("system" in c.request.url for c in responses.calls if "schemas" in c.request.url)


@responses.activate
def test_table_listed_without_constraints_is_fetched_in_full():
    listed = {k: v for k, v in MERCHANT.items() if k != "table_constraints"}
    responses.get(f"{UC}/tables", json={"tables": [listed]})
    responses.get(f"{UC}/tables/ml.fraud.merchant_features", json=MERCHANT)
    report = SourceReport(uri="x", kind="databricks")
    [store] = read(f"{BASE}?catalog=ml&schema=fraud&api=unity&lineage=false&models=false", report, FAST)
    assert store.feature_sets[0].join_keys[0].name == "merchant_id"


LEGACY_TABLE = {
    "name": "fraud.user_features",
    "id": "ft-123",
    "description": "User features",
    "primary_keys": ["user_id", "event_time"],
    "timestamp_keys": ["event_time"],
    "partition_keys": [],
    "creation_timestamp": 1690000000000,
    "creator_id": "ana@contoso.com",
    "table_data_sources": ["raw.clicks"],
    "path_data_sources": ["dbfs:/mnt/raw/logins"],
    "tags": [{"key": "domain", "value": "fraud"}, {"key": "pii", "value": "false"}],
}


def mock_legacy():
    responses.get(
        f"{FS}/feature-tables/search",
        json={"feature_tables": [{"name": "fraud.user_features"}], "next_page_token": "t2"},
        match=[matchers.query_param_matcher({"max_results": "100"})],
    )
    responses.get(
        f"{FS}/feature-tables/search",
        json={"feature_tables": [{"name": "other.x"}]},
        match=[matchers.query_param_matcher({"max_results": "100", "page_token": "t2"})],
    )
    responses.get(
        f"{FS}/feature-tables/get",
        json={"feature_table": LEGACY_TABLE},
        match=[matchers.query_param_matcher({"name": "fraud.user_features"})],
    )
    features = [
        {"name": "user_id", "data_type": "LONG", "table": "fraud.user_features"},
        {"name": "logins_7d", "data_type": "INTEGER", "table": "fraud.user_features"},
        {"name": "country", "data_type": "STRING", "table": "fraud.user_features"},
    ]
    responses.get(
        f"{FS}/features/get",
        json={"features": features[:2], "next_page_token": "f2"},
        match=[matchers.query_param_matcher({"feature_table": "fraud.user_features", "max_results": "100"})],
    )
    responses.get(
        f"{FS}/features/get",
        json={"features": features[2:]},
        match=[
            matchers.query_param_matcher(
                {"feature_table": "fraud.user_features", "max_results": "100", "page_token": "f2"}
            )
        ],
    )


@responses.activate
def test_legacy_workspace_feature_store():
    mock_legacy()
    report = SourceReport(uri="x", kind="databricks")
    [store] = read(f"{BASE}?api=legacy&schema=fraud", report, FAST)
    assert store.name == "127.0.0.1:8123"
    [fs] = store.feature_sets
    assert fs.name == "fraud.user_features"
    assert [(k.name, k.dtype) for k in fs.join_keys] == [("user_id", "int64")]
    assert fs.timestamp_field == "event_time"
    assert [(f.name, f.dtype) for f in fs.features] == [
        ("logins_7d", "int32"),
        ("country", "string"),
    ]
    assert fs.tags == {"domain": "fraud", "pii": "false"}
    assert [(s.kind, s.uri) for s in fs.sources] == [
        ("table", "raw.clicks"),
        ("dbfs", "dbfs:/mnt/raw/logins"),
    ]
    assert fs.owner == "ana@contoso.com"


@responses.activate
def test_all_apis_tolerate_a_workspace_without_the_legacy_store():
    mock_unity(lineage=False)
    responses.get(
        f"{FS}/feature-tables/search",
        status=404,
        json={"error_code": "ENDPOINT_NOT_FOUND", "message": "No API found"},
    )
    report = SourceReport(uri="x", kind="databricks")
    stores = read(f"{BASE}?catalog=ml&schema=fraud&lineage=false", report, FAST)
    assert [s.name for s in stores] == ["ml.fraud"]
    assert any("ENDPOINT_NOT_FOUND" in w for w in report.warnings.items)


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_refused_credentials_name_the_host_and_variable_never_the_token(status, caplog):
    caplog.set_level(logging.DEBUG)
    responses.get(
        f"{UC}/tables",
        status=status,
        json={"error_code": "PERMISSION_DENIED", "message": "Invalid access token."},
    )
    with pytest.raises(SourceError) as info:
        read(f"{BASE}?catalog=ml&schema=fraud", SourceReport(uri="x", kind="databricks"), FAST)
    message = str(info.value)
    assert "127.0.0.1:8123" in message and "DATABRICKS_TOKEN" in message
    assert f"HTTP {status}" in message
    assert CANARY not in message and CANARY not in caplog.text
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {CANARY}"


@responses.activate
def test_429_and_503_are_retried_with_backoff(caplog):
    sleeps = []
    responses.get(f"{UC}/tables", status=429, headers={"Retry-After": "2"})
    responses.get(f"{UC}/tables", status=503)
    responses.get(f"{UC}/tables", json={"tables": [MERCHANT]})
    options = {"retry_policy": RetryPolicy(base_delay=0.5, jitter=0), "sleep": sleeps.append}
    report = SourceReport(uri="x", kind="databricks")
    [store] = read(f"{BASE}?catalog=ml&schema=fraud&api=unity&lineage=false&models=false", report, options)
    assert len(store.feature_sets) == 1
    assert sleeps == [2.0, 1.0]
    assert "HTTP 429" in caplog.text and CANARY not in caplog.text


@responses.activate
def test_persistent_503_fails_the_source_clearly():
    for _ in range(4):
        responses.get(f"{UC}/tables", status=503)
    with pytest.raises(SourceError, match=r"127.0.0.1:8123/api/2.1/unity-catalog/tables: HTTP 503"):
        read(f"{BASE}?catalog=ml&schema=fraud", SourceReport(uri="x", kind="databricks"), FAST)
    assert len(responses.calls) == 4


@responses.activate
def test_malformed_json_is_a_source_error_naming_the_endpoint():
    responses.get(f"{UC}/tables", body='{"tables": [', content_type="application/json")
    with pytest.raises(SourceError, match=r"unity-catalog/tables: the response is not valid JSON"):
        read(f"{BASE}?catalog=ml&schema=fraud", SourceReport(uri="x", kind="databricks"), FAST)


@responses.activate
def test_a_lineage_failure_fails_the_source_rather_than_erase_published_lineage():
    mock_unity(lineage=False)
    responses.get(LINEAGE, status=403, json={"error_code": "PERMISSION_DENIED"})
    report = SourceReport(uri="x", kind="databricks")
    with pytest.raises(SourceError, match=r"the store is left as published \(add lineage=false"):
        read(f"{BASE}?catalog=ml&schema=fraud&api=unity", report, FAST)
    assert report.counters["lineage_failures"] == 1
    [store] = read(f"{BASE}?catalog=ml&schema=fraud&api=unity&lineage=false", report, FAST)
    assert len(store.feature_sets) == 2


def test_missing_token_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DATABRICKS_TOKEN")
    with pytest.raises(SourceError, match="set DATABRICKS_TOKEN"):
        read(f"{BASE}?catalog=ml&schema=fraud", SourceReport(uri="x", kind="databricks"), FAST)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("adb-1.azuredatabricks.net", "expected a workspace URL"),
        ("http://adb-1.azuredatabricks.net", "use https://"),
        ("https://h?catalog=a&colour=red", "unknown query parameter"),
        ("https://h?api=both", "api='both'"),
        ("https://h?lineage=maybe", "expected true or false"),
    ],
)
def test_bad_locations_are_input_errors(location, message):
    with pytest.raises(InputError, match=message):
        parse_location(location)


def test_location_parsing():
    target = parse_location("https://adb-1.7.azuredatabricks.net/?catalog=ml&lineage=no")
    assert target.base_url == "https://adb-1.7.azuredatabricks.net"
    assert target.scope.catalog == "ml" and target.scope.schema is None
    assert target.scope.lineage is False and target.api == "all"


@responses.activate
def test_a_named_schema_without_feature_tables_is_an_empty_store():
    """So that the feature sets it used to publish are planned for deletion."""
    page = {"catalog_name": "ml", "schema_name": "fraud", "max_results": "100"}
    responses.get(f"{UC}/tables", json={"tables": [RAW]}, match=[matchers.query_param_matcher(page)])
    report = SourceReport(uri="x", kind="databricks")
    [store] = read(f"{BASE}?catalog=ml&schema=fraud&api=unity&lineage=false&models=false", report, FAST)
    assert store.name == "ml.fraud" and store.feature_sets == ()
