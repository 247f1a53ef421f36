"""The Databricks SQL transport of the push-down profiler, against payloads shaped like
the Statement Execution API's documented responses (StatementResponse, ResultData,
ServiceError): docs.databricks.com/api/statement-execution/v1/statement-execution,
.../get-statement-result ("When the statement is in the terminal states CANCELED,
CLOSED or FAILED, it returns HTTP 200 with the state set") and .../get-result-data
(chunks with next_chunk_index and next_chunk_internal_link)."""

from __future__ import annotations

import json

import pytest
import responses

from featmesh.connector.errors import InputError, SourceError
from featmesh.connector.http import RetryPolicy
from featmesh.connector.profiling.pushdown import PushdownOptions, profile_relation
from featmesh.connector.profiling.statements import StatementEngine

HOST = "https://adb-1234567890123456.7.azuredatabricks.net"
API = f"{HOST}/api/2.0/sql/statements"
SID = "01ef0f35-4a9d-1b2c-9a5e-3f2a9c1d0e77"


def _engine(**kw) -> StatementEngine:
    return StatementEngine(
        HOST,
        "abc123def456",
        lambda: "dapi-test",
        sleep=lambda s: None,
        retry=RetryPolicy(base_delay=0, max_delay=0, jitter=0),
        **kw,
    )


def _columns(*pairs: tuple[str, str, str]) -> dict:
    return {
        "column_count": len(pairs),
        "columns": [
            {"name": n, "type_name": t, "type_text": x, "position": i} for i, (n, t, x) in enumerate(pairs)
        ],
    }


def _succeeded(schema: dict, rows: list, *, chunks: int = 1, link: str | None = None) -> dict:
    result = {"chunk_index": 0, "row_offset": 0, "row_count": len(rows), "data_array": rows}
    if link:
        result.update(next_chunk_index=1, next_chunk_internal_link=link)
    return {
        "statement_id": SID,
        "status": {"state": "SUCCEEDED"},
        "manifest": {
            "format": "JSON_ARRAY",
            "schema": schema,
            "total_chunk_count": chunks,
            "total_row_count": len(rows),
            "truncated": False,
        },
        "result": result,
    }


@responses.activate
def test_pending_running_then_succeeded_with_several_chunks() -> None:
    responses.post(API, json={"statement_id": SID, "status": {"state": "PENDING"}})
    responses.get(f"{API}/{SID}", json={"statement_id": SID, "status": {"state": "RUNNING"}})
    link = f"/api/2.0/sql/statements/{SID}/result/chunks/1"
    schema = _columns(("s", "INT", "int"), ("v", "STRING", "string"))
    responses.get(f"{API}/{SID}", json=_succeeded(schema, [["0", "a"], ["0", "b"]], chunks=2, link=link))
    responses.get(
        f"{HOST}{link}",
        json={"chunk_index": 1, "row_offset": 2, "row_count": 1, "data_array": [["1", None]]},
    )
    engine = _engine()
    assert engine.query("SELECT 1") == [("0", "a"), ("0", "b"), ("1", None)]
    sent = json.loads(responses.calls[0].request.body)
    assert sent["warehouse_id"] == "abc123def456" and sent["format"] == "JSON_ARRAY"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer dapi-test"
    assert engine.bytes_received > 0


@responses.activate
def test_failed_statement_is_http_200_and_an_input_error() -> None:
    responses.post(
        API,
        json={
            "statement_id": SID,
            "status": {
                "state": "FAILED",
                "error": {
                    "error_code": "BAD_REQUEST",
                    "message": "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`x`.`y` cannot be found.",
                },
                "sql_state": "42P01",
            },
        },
    )
    with pytest.raises(InputError, match=r"TABLE_OR_VIEW_NOT_FOUND.*SQLSTATE 42P01"):
        _engine().query("SELECT * FROM `main`.`x`.`y`")


@responses.activate
def test_cancelled_statement_is_a_source_error() -> None:
    responses.post(API, json={"statement_id": SID, "status": {"state": "RUNNING"}})
    responses.get(f"{API}/{SID}", json={"statement_id": SID, "status": {"state": "CANCELED"}})
    with pytest.raises(SourceError, match="CANCELED"):
        _engine().query("SELECT 1")


@responses.activate
def test_timeout_cancels_the_statement() -> None:
    responses.post(API, json={"statement_id": SID, "status": {"state": "PENDING"}})
    responses.get(f"{API}/{SID}", json={"statement_id": SID, "status": {"state": "PENDING"}})
    cancel = responses.post(f"{API}/{SID}/cancel", json={})
    ticks = iter(range(0, 10_000, 100))
    engine = _engine(timeout=250, clock=lambda: float(next(ticks)))
    with pytest.raises(SourceError, match="cancelled"):
        engine.query("SELECT 1")
    assert cancel.call_count == 1


@responses.activate
def test_429_is_retried() -> None:
    responses.post(
        API,
        status=429,
        json={"error_code": "TOO_MANY_REQUESTS", "message": "rate limited"},
        headers={"Retry-After": "0"},
    )
    schema = _columns(("rows", "LONG", "bigint"))
    responses.post(API, json=_succeeded(schema, [["7"]]))
    assert _engine().query("SELECT count(*)") == [("7",)]


@responses.activate
def test_a_profile_from_string_values() -> None:
    """Every value arrives as a string: counts, numbers, arrays and timestamps are typed."""
    schema = _columns(
        ("id", "LONG", "bigint"), ("amount", "DOUBLE", "double"), ("ts", "TIMESTAMP", "timestamp")
    )
    responses.post(API, json=_succeeded(schema, []))  # the schema (LIMIT 0)
    pass1 = [
        [
            "4",
            "4",
            "4",
            "1",
            "4",
            "4",
            "2.5",
            "1.2909944487358056",  # id
            "3",
            "3",
            "2.0",
            "4.5",
            "3",
            "3.0",
            "1.3228756555322954",  # amount
            "4",
            "4",
            "2024-05-01T00:00:00.000Z",
            "2024-06-01T10:00:00.000Z",  # ts
        ]
    ]
    responses.post(API, json=_succeeded(_columns(), pass1))
    probs = [1, 1, 1, 2, 3, 4, 4] + [1] * 5 + [2] * 5 + [3] * 5 + [4] * 6
    quantiles = json.dumps([float(p) for p in probs])
    sample = [["4", quantiles, "3", json.dumps([2.0] * 7 + [2.0] * 7 + [3.0] * 7 + [4.5] * 7), "4"]]
    responses.post(API, json=_succeeded(_columns(), sample))
    pass2 = [["0", "1", "1", "4"], ["0", "2", "1", "4"], ["0", "3", "1", "4"], ["0", "4", "1", "4"]]
    responses.post(API, json=_succeeded(_columns(), pass2))
    engine = _engine()
    profile = profile_relation(engine, "`main`.`f`.`t`", PushdownOptions(columns=("id", "amount", "ts")))
    assert profile.engine == "databricks-sql" and profile.row_count == 4
    ident, amount, ts = profile.columns
    assert ident.min == 1 and ident.max == 4 and ident.mean == 2.5 and ident.distinct_count == 4
    assert ident.quantiles["p50"] == 2.0
    assert amount.null_count == 1 and amount.stddev == pytest.approx(1.3228756555322954)
    assert ts.max == "2024-06-01T10:00:00Z" and profile.newest_timestamp == "2024-06-01T10:00:00Z"


@responses.activate
def test_profile_command_on_a_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    """``featmesh profile main.f.t --engine databricks-sql``: a warehouse error is exit 2
    with the service's message and no token in the output."""
    from click.testing import CliRunner

    from featmesh.connector.cli import cli

    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-secret-value")
    monkeypatch.setenv("DATABRICKS_HOST", "dbc-1234abcd-5678.cloud.databricks.com")
    monkeypatch.setenv("DATABRICKS_WAREHOUSE_ID", "abc123def456")
    responses.post(
        "https://dbc-1234abcd-5678.cloud.databricks.com/api/2.0/sql/statements",
        json={
            "statement_id": SID,
            "status": {
                "state": "FAILED",
                "error": {"error_code": "BAD_REQUEST", "message": "[TABLE_OR_VIEW_NOT_FOUND] main.f.t"},
                "sql_state": "42P01",
            },
        },
    )
    result = CliRunner().invoke(cli, ["profile", "main.f.t", "--engine", "databricks-sql"])
    assert result.exit_code == 2, result.output
    assert "TABLE_OR_VIEW_NOT_FOUND" in result.output and "dapi-secret-value" not in result.output
    sent = json.loads(responses.calls[0].request.body)
    assert sent["statement"] == "SELECT * FROM `main`.`f`.`t` LIMIT 0"
