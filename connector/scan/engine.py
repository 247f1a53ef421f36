"""Choosing where a profile is computed: ``local`` (pyarrow in this process), ``spark``
(a local Spark session or Spark Connect ``sc://host:port``) or ``databricks-sql`` (a SQL
warehouse through the Statement Execution API, the token from the environment or
azure-identity as the Databricks reader gets it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from featmesh.connector.errors import UsageError

ENGINES = ("local", "spark", "databricks-sql")
HOST_ENV = "DATABRICKS_HOST"
WAREHOUSE_ENV = "DATABRICKS_WAREHOUSE_ID"
SPARK_ENV = "FEATMESH_SPARK_MASTER"


@dataclass(frozen=True, kw_only=True)
class EngineChoice:
    engine: str = "local"
    spark_master: str | None = None
    databricks_host: str | None = None
    warehouse_id: str | None = None


def open_engine(choice: EngineChoice) -> Any:
    """The engine object for a push-down choice (never ``local``)."""
    if choice.engine == "spark":
        from featmesh.connector.profiling.engines import SparkEngine

        return SparkEngine(choice.spark_master or os.environ.get(SPARK_ENV) or "local[2]")
    if choice.engine == "databricks-sql":
        from featmesh.connector.profiling.statements import StatementEngine
        from featmesh.connector.sources.databricks.auth import token_provider

        host = choice.databricks_host or os.environ.get(HOST_ENV, "")
        warehouse = choice.warehouse_id or os.environ.get(WAREHOUSE_ENV, "")
        if not host or not warehouse:
            raise UsageError(
                "--engine databricks-sql needs the workspace and the SQL warehouse: "
                f"--databricks-host / {HOST_ENV} and --warehouse-id / {WAREHOUSE_ENV}"
            )
        hostname = host.removeprefix("https://").rstrip("/")
        token, _ = token_provider(hostname)
        return StatementEngine(hostname, warehouse, token)
    raise UsageError(f"unknown profiling engine {choice.engine!r}: one of {', '.join(ENGINES)}")


def engine_choice(flag: str | None, config: Any = None) -> EngineChoice | None:
    """The engine from ``--profile-engine`` or ``profiling.engine`` (None for local)."""
    name = flag or (getattr(config, "profile_engine", None) if config is not None else None) or "local"
    if name == "local":
        return None
    return EngineChoice(
        engine=name,
        spark_master=getattr(config, "spark_master", None),
        databricks_host=getattr(config, "databricks_host", None),
        warehouse_id=getattr(config, "warehouse_id", None),
    )
