"""The engines the push-down profiler runs its SQL on, local ones here: DuckDB (in
process, for tests and as the benchmark's reference) and Spark (a local session or a
remote cluster through Spark Connect). Databricks SQL warehouses: ``statements.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from featmesh.connector.errors import InputError, MissingExtraError, SourceError
from featmesh.connector.profiling.dialect import DUCKDB, SPARK, Dialect, literal, quote, quote_table

ENGINES = ("local", "spark", "databricks-sql")
TABLE_NAME = re.compile(r"^`?[A-Za-z_][\w$-]*`?(\.`?[A-Za-z_][\w$-]*`?){1,2}$")


def is_table_name(text: str) -> bool:
    """``schema.table`` or ``catalog.schema.table`` rather than a path."""
    return bool(TABLE_NAME.match(text)) and not os.path.exists(text)


def _result_bytes(rows: list[tuple[Any, ...]]) -> int:
    return len(json.dumps(rows, default=str).encode("utf-8"))


class DuckDBEngine:
    """DuckDB in this process, reading Parquet, CSV or JSON files (the same SQL as Spark)."""

    dialect: Dialect = DUCKDB

    def __init__(self, connection: Any = None) -> None:
        try:
            import duckdb
        except ImportError as err:
            raise MissingExtraError("profiling with DuckDB", "dev", "duckdb") from err
        self.connection = connection or duckdb.connect()
        self.bytes_received = 0
        self._error = duckdb.Error

    def relation(self, uri: str, fmt: str | None = None) -> str:
        if is_table_name(uri):
            return quote_table(uri)
        path = Path(uri)
        if not path.exists():
            raise InputError(f"no such file or folder: {uri}")
        kind = fmt or _format_of(path)
        target = str(path / "**" / f"*.{kind}") if path.is_dir() else str(path)
        reader = {"parquet": "read_parquet", "csv": "read_csv_auto", "json": "read_json_auto"}.get(kind)
        if reader is None:
            raise InputError(f"DuckDB cannot profile {kind} data here", path=uri)
        return f"{reader}({literal(target, 'duckdb')})"

    def schema(self, relation: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.query(f"DESCRIBE SELECT * FROM {relation}")]

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            rows = self.connection.execute(sql).fetchall()
        except self._error as err:
            raise SourceError(f"DuckDB: {str(err).splitlines()[0]}") from err
        self.bytes_received += _result_bytes(rows)
        return [tuple(r) for r in rows]


def _format_of(path: Path) -> str:
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            return "parquet"  # a Delta table's data files (without its log: see README)
        for found in path.rglob("*"):
            if found.suffix in (".parquet", ".csv", ".json"):
                return found.suffix[1:]
        return "parquet"
    suffix = path.suffix.lower().lstrip(".")
    return {"jsonl": "json", "ndjson": "json"}.get(suffix, suffix or "parquet")


class SparkEngine:
    """A Spark session from pyspark: ``local[N]`` in this machine, or a remote cluster
    through Spark Connect (``sc://host:port``). Only the aggregates are collected."""

    dialect: Dialect = SPARK

    def __init__(
        self, master: str | None = None, *, session: Any = None, shuffle_partitions: int = 4
    ) -> None:
        self.bytes_received = 0
        self._views: dict[str, str] = {}
        if session is not None:
            self.session = session
            return
        try:
            from pyspark.sql import SparkSession
        except ImportError as err:
            raise MissingExtraError("profiling with Spark", "spark", "pyspark") from err
        master = master or os.environ.get("FEATMESH_SPARK_MASTER") or "local[2]"
        builder = SparkSession.builder.appName("featmesh-profile")
        if master.startswith("sc://"):
            builder = builder.remote(master)
        else:
            builder = (
                builder.master(master)
                .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                .config("spark.ui.enabled", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            )
        try:
            self.session = builder.getOrCreate()
        except Exception as err:  # the JVM or the remote cluster could not be reached
            raise SourceError(f"cannot start Spark ({master}): {str(err).splitlines()[0]}") from err
        if not master.startswith("sc://"):
            self.session.conf.set("spark.sql.session.timeZone", "UTC")

    def relation(self, uri: str, fmt: str | None = None) -> str:
        if is_table_name(uri):
            return quote_table(uri)
        path = Path(uri)
        local = path.exists()
        kind = fmt or (_format_of(path) if local else "parquet")
        if local and path.is_dir() and (path / "_delta_log").is_dir() and fmt is None:
            kind = "delta"
        key = f"{kind}:{uri}"
        if key not in self._views:
            name = "featmesh_profile_" + hashlib.sha256(key.encode()).hexdigest()[:16]
            try:
                frame = self.session.read.format(kind).load(str(path) if local else uri)
                frame.createOrReplaceTempView(name)
            except Exception as err:
                raise SourceError(f"Spark cannot read {uri}: {str(err).splitlines()[0]}") from err
            self._views[key] = name
        return quote(self._views[key])

    def schema(self, relation: str) -> list[tuple[str, str]]:
        try:
            return [(n, t) for n, t in self.session.sql(f"SELECT * FROM {relation}").dtypes]
        except Exception as err:
            raise SourceError(f"Spark: {str(err).splitlines()[0]}") from err

    def describe_detail(self, relation: str) -> dict[str, Any] | None:
        """``DESCRIBE DETAIL`` of a Delta table or path, None for other tables."""
        try:
            rows = self.session.sql(f"DESCRIBE DETAIL {relation}").collect()
        except Exception:  # not a Delta table, or no Delta extension in this session
            return None
        return dict(rows[0].asDict()) if rows else None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            rows = [tuple(r) for r in self.session.sql(sql).collect()]
        except Exception as err:
            raise SourceError(f"Spark: {str(err).splitlines()[0]}") from err
        self.bytes_received += _result_bytes(rows)
        return rows
