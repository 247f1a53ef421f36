"""Choosing where a profile is computed: ``local`` (pyarrow in this process), ``spark``
(a local Spark session or Spark Connect ``sc://host:port``) or ``databricks-sql`` (a SQL
warehouse through the Statement Execution API, the token from the environment or
azure-identity as the Databricks reader gets it)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
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
    env: tuple[tuple[str, str], ...] = ()
    """The source's ``env`` (variable a reader expects, variable holding it): the token
    for Databricks SQL is read through it, as the source's reader reads it."""
    named: bool = True
    """An engine was named (on the command line, for the source or under ``profiling``);
    False for the default, which Unity Catalog tables override when a warehouse is set."""


_KEYS = ("engine", "spark_master", "databricks_host", "warehouse_id")


@dataclass(frozen=True, kw_only=True)
class EnginePlan:
    """Where each source's feature sets are profiled: the source's own ``profiling`` keys
    over the top-level ones, the engine named by ``--profile-engine`` over both."""

    forced: EngineChoice | None = None
    default: EngineChoice = field(default_factory=lambda: EngineChoice(engine="local", named=False))
    by_source: Mapping[str, EngineChoice] = field(default_factory=dict)
    """Source URI (as ``SourceSpec.uri``) -> its choice, for sources with a ``profiling`` block."""

    def for_source(self, uri: str | None) -> EngineChoice:
        own = self.by_source.get(uri or "", self.default)
        if self.forced is not None:  # the command line names the engine; the other keys stay
            return replace(own, engine=self.forced.engine, named=True)
        return own


def engine_plan(flag: str | None, config: Any = None) -> EnginePlan:
    """The plan from ``--profile-engine`` (every source) or the config's top-level
    ``profiling`` keys and each source's ``profiling`` block (key by key)."""
    settings = {k: getattr(config, _ATTR[k], None) for k in _KEYS} if config is not None else {}
    default = _choice(settings)
    per_source = getattr(config, "source_profiling", None) or {}
    envs = {s.uri: tuple(sorted(s.options.get("env", {}).items())) for s in getattr(config, "sources", ())}
    by_source = {
        uri: replace(_choice({**settings, **dict(per_source.get(uri, {}))}), env=envs.get(uri, ()))
        for uri in {*per_source, *(u for u, e in envs.items() if e)}
    }
    forced = replace(default, engine=flag, named=True) if flag else None
    return EnginePlan(forced=forced, default=default, by_source=by_source)


_ATTR = {
    "engine": "profile_engine",
    "spark_master": "spark_master",
    "databricks_host": "databricks_host",
    "warehouse_id": "warehouse_id",
}


def _choice(settings: Mapping[str, Any]) -> EngineChoice:
    name = settings.get("engine")
    return EngineChoice(
        engine=name or "local",
        spark_master=settings.get("spark_master"),
        databricks_host=settings.get("databricks_host"),
        warehouse_id=settings.get("warehouse_id"),
        named=bool(name),
    )


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
        if choice.env:
            token = _through(token, dict(choice.env), hostname)
        return StatementEngine(hostname, warehouse, token)
    raise UsageError(f"unknown profiling engine {choice.engine!r}: one of {', '.join(ENGINES)}")


def _through(token: Callable[[], str], env: Mapping[str, str], what: str) -> Callable[[], str]:
    """``token`` read with the source's ``env`` aliases in place."""
    from featmesh.connector.sources import environment

    def read() -> str:
        with environment(env, what=what):
            return token()

    return read
