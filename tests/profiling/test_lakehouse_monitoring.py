"""Unity Catalog tables with a Lakehouse Monitoring monitor: the profile is read from the
monitor's metric tables over the Statement Execution API, the rest computed on the
warehouse, and the profile says so.

Payload shapes, as documented:

* the monitor, ``GET /api/2.1/unity-catalog/tables/{full_name}/monitor`` (MonitorInfo:
  ``table_name``, ``status`` MONITOR_STATUS_ACTIVE, ``profile_metrics_table_name``,
  ``drift_metrics_table_name``, ``output_schema_name``, ``monitor_version``,
  ``snapshot: {}``, ``assets_dir``, ``dashboard_id``), and its refreshes
  ``GET .../monitor/refreshes`` (``refreshes[]``: ``refresh_id``, ``state`` SUCCESS,
  ``start_time_ms``, ``end_time_ms``, ``trigger``): docs.databricks.com/api/workspace/qualitymonitors/get,
  databricks/databricks-sdk-py ``docs/workspace/catalog/quality_monitors.rst``;
  refresh fields and times in milliseconds also docs.databricks.com/api/data-quality/v1/refresh;
* the metric tables' columns (``window`` struct<start, end>, ``log_type``, ``slice_key``,
  ``column_name`` with ``:table`` for the table, ``count``, ``num_nulls``, ``avg``,
  ``min``, ``max``, ``stddev``, ``median``, ``distinct_count``, ``frequent_items``
  array<struct<item, count>>; drift: ``drift_type`` CONSECUTIVE, ``window_cmp``,
  ``population_stability_index``, ``tv_distance``):
  docs.databricks.com/aws/en/lakehouse-monitoring/monitor-output ("Profile metrics table
  schema", "Drift metrics table schema");
* every statement answer: a StatementResponse with a JSON_ARRAY result whose values are
  strings (docs.databricks.com/api/statement-execution/v1/statement-execution).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import responses

from featmesh.connector.http import RetryPolicy
from featmesh.connector.model import FeatureSet
from featmesh.connector.profiling import profile_from_json, profile_to_json
from featmesh.connector.profiling.monitoring import SOURCE, find_monitor
from featmesh.connector.profiling.pushdown import _probabilities
from featmesh.connector.profiling.statements import StatementEngine
from featmesh.connector.runreport import RunReport
from featmesh.connector.scan.engine import EngineChoice, EnginePlan
from featmesh.connector.scan.profile import profile_sets
from featmesh.connector.sources.databricks.unity import feature_set_from_table

HOST = "adb-1234567890123456.7.azuredatabricks.net"
BASE = f"https://{HOST}"
TABLE = "ml.fraud.card_features"
MONITOR = f"{BASE}/api/2.1/unity-catalog/tables/{TABLE}/monitor"
STATEMENTS = f"{BASE}/api/2.0/sql/statements"
REFRESHED_MS = 1764720000000  # 2025-12-03T00:00:00Z
NOW = datetime(2025, 12, 3, 6, 0, tzinfo=timezone.utc)

MONITOR_INFO = {
    "table_name": TABLE,
    "status": "MONITOR_STATUS_ACTIVE",
    "profile_metrics_table_name": "ml.monitoring.card_features_profile_metrics",
    "drift_metrics_table_name": "ml.monitoring.card_features_drift_metrics",
    "output_schema_name": "ml.monitoring",
    "monitor_version": 2,
    "snapshot": {},
    "assets_dir": "/Workspace/Users/fraud-team@contoso.com/databricks_lakehouse_monitoring/card_features",
    "dashboard_id": "01f119fd15e3115cbfd3e9c0218e470e",
}
REFRESHES = {
    "refreshes": [
        {
            "refresh_id": 896016687173548,
            "state": "SUCCESS",
            "start_time_ms": REFRESHED_MS - 240_000,
            "end_time_ms": REFRESHED_MS,
            "trigger": "SCHEDULE",
        },
        {
            "refresh_id": 222263540296352,
            "state": "FAILED",
            "start_time_ms": REFRESHED_MS - 86_400_000,
            "end_time_ms": REFRESHED_MS - 86_000_000,
            "trigger": "MANUAL",
        },
    ]
}


def _uc_set() -> FeatureSet:
    def col(name: str, type_name: str, text: str, position: int) -> dict[str, Any]:
        return {
            "name": name,
            "type_name": type_name,
            "type_text": text,
            "nullable": True,
            "position": position,
        }

    table = {
        "name": "card_features",
        "catalog_name": "ml",
        "schema_name": "fraud",
        "full_name": TABLE,
        "table_type": "MANAGED",
        "data_source_format": "DELTA",
        "storage_location": "abfss://uc@lake.dfs.core.windows.net/ml/fraud/card_features",
        "columns": [
            col("card_id", "STRING", "string", 0),
            col("event_timestamp", "TIMESTAMP", "timestamp", 1),
            col("amount_7d", "DOUBLE", "double", 2),
            col("merchant_category", "STRING", "string", 3),
            col("txn_count_7d", "LONG", "bigint", 4),
        ],
    }
    key = {
        "name": "card_features_pk",
        "child_columns": ["card_id", "event_timestamp"],
        "timeseries_columns": ["event_timestamp"],
    }
    return feature_set_from_table(BASE, "ml.fraud", table, key, [])


SCHEMA = [
    ("card_id", "STRING", "string"),
    ("event_timestamp", "TIMESTAMP", "timestamp"),
    ("amount_7d", "DOUBLE", "double"),
    ("merchant_category", "STRING", "string"),
    ("txn_count_7d", "LONG", "bigint"),
]


class Warehouse:
    """Answers each statement as a SQL warehouse would (values as strings), and keeps
    what was asked."""

    def __init__(self, *, monitored: set[str] | None = None, last_modified: str = "2025-12-02T22:10:00.000Z"):
        self.statements: list[str] = []
        self.monitored = (
            monitored
            if monitored is not None
            else {"card_id", "event_timestamp", "amount_7d", "merchant_category", "txn_count_7d"}
        )
        self.last_modified = last_modified

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        sql = json.loads(request.body)["statement"]
        self.statements.append(sql)
        columns, rows = self.answer(sql)
        body = {
            "statement_id": f"01ef-{len(self.statements):04d}",
            "status": {"state": "SUCCEEDED"},
            "manifest": {
                "format": "JSON_ARRAY",
                "schema": {
                    "column_count": len(columns),
                    "columns": [
                        {"name": n, "type_name": t, "type_text": x, "position": i}
                        for i, (n, t, x) in enumerate(columns)
                    ],
                },
                "total_chunk_count": 1,
                "total_row_count": len(rows),
                "truncated": False,
            },
            "result": {"chunk_index": 0, "row_offset": 0, "row_count": len(rows), "data_array": rows},
        }
        return 200, {}, json.dumps(body)

    def answer(self, sql: str) -> tuple[list[tuple[str, str, str]], list[list[str | None]]]:
        if sql.startswith("DESCRIBE DETAIL"):
            return (
                [
                    ("format", "STRING", "string"),
                    ("id", "STRING", "string"),
                    ("name", "STRING", "string"),
                    ("location", "STRING", "string"),
                    ("lastModified", "TIMESTAMP", "timestamp"),
                    ("numFiles", "LONG", "bigint"),
                    ("sizeInBytes", "LONG", "bigint"),
                ],
                [
                    [
                        "delta",
                        "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                        TABLE,
                        "abfss://uc@lake.dfs.core.windows.net/ml/fraud/card_features",
                        self.last_modified,
                        "48",
                        "7340032000",
                    ]
                ],
            )
        if sql.endswith("LIMIT 0"):
            return SCHEMA, []
        if "_profile_metrics" in sql:
            rows = [[":table", "9000000", None, None, None, None, None, None, None, None]]
            full = {
                "card_id": [
                    "card_id",
                    "9000000",
                    "0",
                    "1200000",
                    None,
                    None,
                    None,
                    None,
                    None,
                    json.dumps([{"item": "c-000001", "count": 41}, {"item": "c-000002", "count": 40}]),
                ],
                "event_timestamp": [
                    "event_timestamp",
                    "9000000",
                    "0",
                    "8990000",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ],
                "amount_7d": [
                    "amount_7d",
                    "9000000",
                    "4500",
                    "812345",
                    "0.0",
                    "18250.5",
                    "231.75",
                    "402.1",
                    "120.25",
                    None,
                ],
                "merchant_category": [
                    "merchant_category",
                    "9000000",
                    "90",
                    "12",
                    None,
                    None,
                    None,
                    None,
                    None,
                    json.dumps(
                        [
                            {"item": "grocery", "count": 3100000},
                            {"item": "fuel", "count": 2050000},
                            {"item": "travel", "count": 900000},
                        ]
                    ),
                ],
                "txn_count_7d": [
                    "txn_count_7d",
                    "9000000",
                    "0",
                    "95",
                    "0.0",
                    "212.0",
                    "14.2",
                    "9.8",
                    "12.0",
                    None,
                ],
            }
            rows += [row for name, row in full.items() if name in self.monitored]
            return [("column_name", "STRING", "string")] * 10, rows
        if "_drift_metrics" in sql:
            return (
                [
                    ("column_name", "STRING", "string"),
                    ("population_stability_index", "DOUBLE", "double"),
                    ("tv_distance", "DOUBLE", "double"),
                    ("window_cmp_end", "STRING", "string"),
                ],
                [
                    ["amount_7d", "0.031", "0.05", "2025-12-02 00:00:00"],
                    ["merchant_category", None, "0.012", "2025-12-02 00:00:00"],
                    ["card_id", None, None, "2025-12-02 00:00:00"],
                ],
            )
        if sql.startswith("SELECT max("):
            return [("m", "TIMESTAMP", "timestamp")], [["2025-12-02T23:59:30.000Z"]]
        if "TABLESAMPLE" in sql:  # the sample pass: sample counts, quantiles, PII counts
            return self.sample(sql)
        if sql.startswith("SELECT count(*) AS `rows`"):  # pass 1
            aliases = _aliases(sql)
            stamp = "2025-12-02T23:59:30.000Z"
            values = [
                stamp
                if a in ("min1", "max1")
                else "c"
                if a[-1] in "03" and a[:3] in ("min", "max")
                else "9000000"
                if a == "rows" or a.startswith("d")
                else "3"
                for a in aliases
            ]
            return [("x", "STRING", "string")] * len(values), [values]
        if "GROUPING SETS" in sql:  # pass 2: exact top values of the low-cardinality columns
            return [
                ("s", "INT", "int"),
                ("v", "STRING", "string"),
                ("n", "LONG", "bigint"),
                ("d", "LONG", "bigint"),
            ], [["0", "x", "5", "3"]]
        raise AssertionError(f"unexpected statement: {sql[:120]}")

    def sample(self, sql: str) -> tuple[list[tuple[str, str, str]], list[list[str | None]]]:
        aliases = _aliases(sql)
        probs = len(_probabilities())
        values: list[str | None] = []
        for alias in aliases:
            if alias.startswith("q"):
                values.append(json.dumps([round(10.0 * k, 2) for k in range(probs)]))
            elif alias.startswith("sn"):
                values.append("100000")
            else:
                values.append("0")
        return [("x", "STRING", "string")] * len(values), [values]


def _aliases(sql: str) -> list[str]:
    head = sql.split(" FROM ")[0]
    return [part.split("`")[0] for part in head.split(" AS `")[1:]]


def _plan() -> EnginePlan:
    return EnginePlan(default=EngineChoice(engine="local", named=False, warehouse_id="abc123def456"))


def _profile(warehouse: Warehouse, monkeypatch: Any, **kw: Any):
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    responses.get(MONITOR, json=MONITOR_INFO)
    responses.get(f"{MONITOR}/refreshes", json=REFRESHES)
    responses.add_callback(responses.POST, STATEMENTS, callback=warehouse)
    fs = _uc_set()
    report = RunReport(command="scan")
    out = profile_sets(
        [fs],
        report,
        engine=_plan(),
        source_of={("databricks", "ml.fraud"): "databricks:x"},
        progress=False,
        **kw,
    )
    return fs, out, report


@responses.activate
def test_a_monitored_table_is_read_from_its_metric_tables(monkeypatch) -> None:
    """No engine named, a warehouse configured: the Unity Catalog feature table goes to
    Databricks SQL, and its monitor's tables replace pass 1 and pass 2."""
    warehouse = Warehouse()
    fs, out, report = _profile(warehouse, monkeypatch)
    profile = out.by_set[fs.qualified_name]
    assert profile.engine == "databricks-sql" and profile.metrics_source == SOURCE
    assert profile.metrics_refreshed_at == "2025-12-03T00:00:00Z"
    assert profile.row_count == 9_000_000
    amount = profile.column("amount_7d")
    assert amount is not None
    assert (amount.null_count, amount.min, amount.max, amount.mean, amount.stddev) == (
        4500,
        0.0,
        18250.5,
        231.75,
        402.1,
    )
    assert amount.quantiles["p50"] == 120.25 and amount.distinct_count == 812345 and not amount.distinct_exact
    assert amount.histogram  # from the sample pass, which the monitor's tables lack
    category = profile.column("merchant_category")
    assert category is not None and category.top_values[0] == ("grocery", 3_100_000)
    assert not category.top_values_exact
    assert profile.newest_timestamp is not None and profile.newest_timestamp.startswith("2025-12-02T23:59:30")
    assert any("quantiles" in m and "sample" in m for m in profile.missing)
    # the monitor's drift is used, not recomputed: PSI for numbers, TV distance for categories
    drift = {d.column: (d.metric, d.value) for d in out.drift[fs.qualified_name]}
    assert drift == {"amount_7d": ("psi", 0.031), "merchant_category": ("frequency_shift", 0.012)}
    # no whole-table aggregate and no GROUPING SETS ran: only the bounded sample and one max()
    assert not any("GROUPING SETS" in s or "approx_count_distinct" in s for s in warehouse.statements)
    assert all("TABLESAMPLE" in s for s in warehouse.statements if "percentile_approx" in s)
    assert any("`ml`.`fraud`.`card_features`" in s for s in warehouse.statements)  # by name, not path
    assert not report.warnings
    again = profile_from_json(profile_to_json(profile))
    assert (
        again.metrics_source == SOURCE and again.drift == profile.drift and again.missing == profile.missing
    )


@responses.activate
def test_a_column_the_monitor_lacks_is_computed_alone(monkeypatch) -> None:
    warehouse = Warehouse(monitored={"amount_7d", "merchant_category", "card_id", "event_timestamp"})
    fs, out, _ = _profile(warehouse, monkeypatch)
    profile = out.by_set[fs.qualified_name]
    assert any("txn_count_7d" in m for m in profile.missing)
    pass1 = [s for s in warehouse.statements if s.startswith("SELECT count(*) AS `rows`")]
    assert len(pass1) == 1 and "`txn_count_7d`" in pass1[0] and "`amount_7d`" not in pass1[0]
    assert profile.column("txn_count_7d") is not None


@responses.activate
def test_metrics_older_than_the_last_write_are_not_used(monkeypatch) -> None:
    warehouse = Warehouse(last_modified="2025-12-03T02:00:00.000Z")  # after the refresh
    fs, out, _ = _profile(warehouse, monkeypatch)
    profile = out.by_set[fs.qualified_name]
    assert profile.metrics_source is None and profile.engine == "databricks-sql"
    assert any("approx_count_distinct" in s for s in warehouse.statements)  # computed instead


@responses.activate
def test_an_unchanged_table_is_not_profiled_again(monkeypatch) -> None:
    """The fingerprint is DESCRIBE DETAIL's id, lastModified, numFiles and sizeInBytes."""
    warehouse = Warehouse()
    fs, out, _ = _profile(warehouse, monkeypatch)
    first = out.by_set[fs.qualified_name]
    assert first.fingerprint
    stored = {(fs.qualified_name, r[1]): r[3] for r in out.rows}
    warehouse.statements.clear()
    report = RunReport(command="scan")
    again = profile_sets(
        [fs], report, engine=_plan(), source_of={}, progress=False, reuse=True, previous=lambda qns: stored
    )
    assert report.counters.get("profiles_reused") == 1, report.counters
    assert [s.split(" ")[0:2] for s in warehouse.statements] == [["DESCRIBE", "DETAIL"]]
    assert again.by_set[fs.qualified_name].row_count == first.row_count


@responses.activate
def test_no_monitor_and_time_series_monitors() -> None:
    """A 404 is no monitor; a time-series monitor's windows are not the whole table."""
    engine = StatementEngine(
        HOST,
        "abc123def456",
        lambda: "dapi-test",
        sleep=lambda s: None,
        retry=RetryPolicy(base_delay=0, max_delay=0, jitter=0),
    )
    responses.get(
        MONITOR,
        status=404,
        json={
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": "Cannot find Monitor with ID: /metastores:1/tables:2/",
        },
    )
    assert find_monitor(engine, TABLE) == (None, None)
    responses.replace(
        responses.GET,
        MONITOR,
        json={
            **{k: v for k, v in MONITOR_INFO.items() if k != "snapshot"},
            "time_series": {"timestamp_col": "event_timestamp", "granularities": ["1 day"]},
        },
    )
    monitor, why = find_monitor(engine, TABLE)
    assert monitor is None and why is not None and "time windows" in why
    responses.replace(responses.GET, MONITOR, json={**MONITOR_INFO, "status": "MONITOR_STATUS_PENDING"})
    assert find_monitor(engine, TABLE)[1] == "its monitor is MONITOR_STATUS_PENDING"


@responses.activate
def test_the_profile_command_reads_the_monitor_too(monkeypatch) -> None:
    from tests.conftest import run

    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    responses.get(MONITOR, json=MONITOR_INFO)
    responses.get(f"{MONITOR}/refreshes", json=REFRESHES)
    responses.add_callback(responses.POST, STATEMENTS, callback=Warehouse())
    result = run(
        "profile",
        TABLE,
        "--engine",
        "databricks-sql",
        "--warehouse-id",
        "abc123def456",
        "--databricks-host",
        HOST,
    )
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "9,000,000 rows" in first and "from lakehouse-monitoring, refreshed 2025-12-03T00:00:00Z" in first
    assert "quantiles" in result.stdout and "dapi-test" not in result.stdout + result.stderr
