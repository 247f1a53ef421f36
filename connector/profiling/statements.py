"""The push-down profiler's SQL on a Databricks SQL warehouse, through the Statement
Execution API.

The protocol (docs.databricks.com/api/statement-execution/v1/statement-execution):

* ``POST /api/2.0/sql/statements`` with ``warehouse_id``, ``statement``,
  ``wait_timeout`` (0s, or 5s to 50s), ``on_wait_timeout`` (CONTINUE | CANCEL),
  ``disposition`` INLINE and ``format`` JSON_ARRAY answers a StatementResponse:
  ``statement_id`` and ``status.state`` (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED,
  CLOSED).
* ``GET /api/2.0/sql/statements/{statement_id}`` polls it. A statement in a terminal
  state (CANCELED, CLOSED, FAILED) still comes back as HTTP 200 with the state set and
  ``status.error`` (``error_code``, ``message``) and ``status.sql_state``; only a
  statement removed from the warehouse (12 hours later) is a 404.
* On SUCCEEDED the response carries ``manifest`` (``schema.columns`` with ``name``,
  ``type_name``, ``type_text``, ``position``; ``total_chunk_count``) and ``result``,
  the first chunk: ``data_array`` (rows of values, every value a string or null),
  ``next_chunk_index`` and ``next_chunk_internal_link``, the path of the next chunk
  (``GET /api/2.0/sql/statements/{id}/result/chunks/{index}``, the same shape).
* ``POST /api/2.0/sql/statements/{statement_id}/cancel`` cancels it.

Throttling (HTTP 429) and 5xx answers are retried with ``connector.http``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from featmesh.connector.errors import InputError, SourceError
from featmesh.connector.http import RetryPolicy, call_with_retry
from featmesh.connector.profiling.dialect import DATABRICKS, Dialect

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
_INPUT_CODES = ("BAD_REQUEST", "NOT_FOUND")


class StatementEngine:
    """Runs SQL on one warehouse; values come back as strings (JSON_ARRAY)."""

    dialect: Dialect = DATABRICKS

    def __init__(
        self,
        host: str,
        warehouse_id: str,
        token: Callable[[], str],
        *,
        timeout: float = 900.0,
        poll: float = 2.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not warehouse_id:
            raise InputError("profiling on Databricks SQL needs a warehouse id (profiling.warehouse_id)")
        self.base = host if host.startswith("https://") else f"https://{host}"
        self.base = self.base.rstrip("/")
        self.warehouse_id = warehouse_id
        self.token = token
        self.timeout = timeout
        self.poll = poll
        self.http = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.bytes_received = 0

    # ------------------------------------------------------------------ HTTP

    def get(self, path: str) -> dict[str, Any] | None:
        """GET a workspace REST path (a Unity Catalog API) with the same credentials;
        None when it answers 404 (no such object)."""
        return self._call("GET", path, allow_missing=True)

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, allow_missing: bool = False
    ) -> Any:
        url = path if path.startswith("https://") else self.base + path

        def send() -> requests.Response:
            return self.http.request(
                method, url, json=body, headers={"Authorization": f"Bearer {self.token()}"}, timeout=60
            )

        try:
            response = call_with_retry(
                send, policy=self.retry, what=f"Databricks SQL {method} {path}", sleep=self.sleep
            )
        except requests.RequestException as err:
            raise SourceError(f"Databricks SQL: {type(err).__name__} calling {path}") from err
        self.bytes_received += len(response.content or b"")
        if response.status_code in (401, 403):
            raise SourceError(
                f"Databricks SQL: HTTP {response.status_code} on {path}: the token may not use "
                f"warehouse {self.warehouse_id} (CAN USE) or read the table (SELECT)"
            )
        if response.status_code == 404 and allow_missing:
            return None
        if response.status_code >= 400:
            raise SourceError(f"Databricks SQL: HTTP {response.status_code} on {path}: {_message(response)}")
        try:
            data = response.json()
        except ValueError as err:
            raise SourceError(f"Databricks SQL: {path} did not answer JSON") from err
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ statements

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        rows, _ = self._run(sql)
        return rows

    def schema(self, relation: str) -> list[tuple[str, str]]:
        _, columns = self._run(f"SELECT * FROM {relation} LIMIT 0")
        return columns

    def describe_detail(self, relation: str) -> dict[str, Any] | None:
        """``DESCRIBE DETAIL`` of a Delta table (its ``lastModified``, ``numFiles``,
        ``sizeInBytes``...), None when the table is not Delta."""
        try:
            rows, columns = self._run(f"DESCRIBE DETAIL {relation}")
        except (InputError, SourceError):
            return None
        return dict(zip((n for n, _ in columns), rows[0], strict=False)) if rows else None

    def relation(self, uri: str, fmt: str | None = None) -> str:
        from featmesh.connector.profiling.dialect import quote, quote_table
        from featmesh.connector.profiling.engines import is_table_name

        if is_table_name(uri):
            return quote_table(uri)
        return f"{fmt or 'delta'}.{quote(uri)}"  # a path the warehouse reads: delta.`abfss://...`

    def _run(self, sql: str) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
        started = self.clock()
        answer = self._call(
            "POST",
            "/api/2.0/sql/statements",
            {
                "warehouse_id": self.warehouse_id,
                "statement": sql,
                "wait_timeout": "30s",
                "on_wait_timeout": "CONTINUE",
                "disposition": "INLINE",
                "format": "JSON_ARRAY",
            },
        )
        statement = str(answer.get("statement_id") or "")
        if not statement:
            raise SourceError("Databricks SQL: the statement was not accepted (no statement_id)")
        while _state(answer) not in TERMINAL:
            if self.clock() - started > self.timeout:
                self._call("POST", f"/api/2.0/sql/statements/{statement}/cancel")
                raise SourceError(
                    f"Databricks SQL: statement {statement} still {_state(answer)} after "
                    f"{self.timeout:.0f}s; cancelled"
                )
            self.sleep(self.poll)
            answer = self._call("GET", f"/api/2.0/sql/statements/{statement}")
        state = _state(answer)
        if state != "SUCCEEDED":
            status = answer.get("status") or {}
            error = status.get("error") or {}
            code = error.get("error_code") or state
            text = (
                f"Databricks SQL: statement {statement} {state}: {code}: {error.get('message') or ''}".rstrip(
                    ": "
                )
            )
            if status.get("sql_state"):
                text += f" (SQLSTATE {status['sql_state']})"
            raise (InputError if code in _INPUT_CODES and state == "FAILED" else SourceError)(text)
        manifest = answer.get("manifest") or {}
        columns = [
            (str(c.get("name")), str(c.get("type_text") or c.get("type_name") or ""))
            for c in sorted(
                (manifest.get("schema") or {}).get("columns") or [], key=lambda c: c.get("position", 0)
            )
        ]
        rows: list[tuple[Any, ...]] = []
        chunk = answer.get("result") or {}
        while True:
            rows.extend(tuple(r) for r in chunk.get("data_array") or [])
            link = chunk.get("next_chunk_internal_link")
            if not link:
                break
            chunk = self._call("GET", str(link))
        return rows, columns


def _state(answer: dict[str, Any]) -> str:
    return str((answer.get("status") or {}).get("state") or "PENDING")


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_code") or "")
    return ""
