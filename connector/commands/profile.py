"""``featmesh profile PATH``: quality metrics, PII sampling and freshness of one dataset."""

from __future__ import annotations

import json
from typing import Any

import click

from featmesh.connector.cli import Handled
from featmesh.connector.errors import UsageError
from featmesh.connector.model import ColumnProfile, DatasetProfile
from featmesh.connector.profiling import ProfileOptions, profile_dataset, profile_to_dict
from featmesh.connector.progress import StderrProgress


@click.command(cls=Handled)
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print the profile as one JSON object.")
@click.option(
    "--sample-rows",
    type=int,
    default=None,
    metavar="N",
    help="Profile about N rows (random Parquet row groups, else the first N).",
)
@click.option("--columns", default=None, metavar="A,B", help="Only these columns.")
@click.option("--timestamp-column", default=None, help="The event-time column for freshness.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv", "json", "delta"]),
    default=None,
    help="The data format when the name does not tell.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark", "databricks-sql"]),
    default="local",
    show_default=True,
    help="Where to compute: here with pyarrow, or as SQL on Spark or a Databricks SQL warehouse.",
)
@click.option("--spark-master", default=None, help="local[N] or sc://host:port (FEATMESH_SPARK_MASTER).")
@click.option("--databricks-host", default=None, help="The workspace (DATABRICKS_HOST).")
@click.option("--warehouse-id", default=None, help="The SQL warehouse (DATABRICKS_WAREHOUSE_ID).")
@click.option("--no-progress", is_flag=True, help="No progress on stderr.")
def profile(
    path: str,
    as_json: bool,
    sample_rows: int | None,
    columns: str | None,
    timestamp_column: str | None,
    fmt: str | None,
    engine: str,
    spark_master: str | None,
    databricks_host: str | None,
    warehouse_id: str | None,
    no_progress: bool,
) -> None:
    """Profile one dataset (a Parquet, CSV or JSON-lines file or folder, a Delta table, or
    with --engine spark / databricks-sql a metastore table such as catalog.schema.table).

    Per column: rows, nulls, distinct values (exact up to 100,000, then estimated),
    min, max, mean, standard deviation, quantiles, top values of strings, PII
    patterns seen in a sample (names and shares, never values); the freshness of the
    timestamp column.
    """
    if sample_rows is not None and sample_rows <= 0:
        raise UsageError(f"--sample-rows must be a positive number, not {sample_rows}")
    wanted = tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else ()
    if engine != "local":
        if sample_rows is not None:
            raise UsageError("--sample-rows is for --engine local; a push-down profile reads every row")
        result = _pushed_down(
            path, engine, spark_master, databricks_host, warehouse_id, wanted, timestamp_column, fmt
        )
        text = json.dumps(profile_to_dict(result), indent=2, sort_keys=True) if as_json else render(result)
        click.echo(text)
        return
    progress = None if no_progress else StderrProgress()
    options = ProfileOptions(
        sample_rows=sample_rows,
        columns=wanted,
        timestamp_column=timestamp_column,
        format=fmt,
        progress=progress,
    )
    try:
        result = profile_dataset(path, options)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        click.echo(json.dumps(profile_to_dict(result), indent=2, sort_keys=True))
    else:
        click.echo(render(result))


def _pushed_down(
    path: str,
    engine: str,
    spark_master: str | None,
    databricks_host: str | None,
    warehouse_id: str | None,
    columns: tuple[str, ...],
    timestamp_column: str | None,
    fmt: str | None,
) -> DatasetProfile:
    from featmesh.connector.profiling.engines import is_table_name
    from featmesh.connector.profiling.monitoring import monitored_profile
    from featmesh.connector.profiling.pushdown import PushdownOptions, profile_relation
    from featmesh.connector.scan.engine import EngineChoice, open_engine

    runner = open_engine(
        EngineChoice(
            engine=engine,
            spark_master=spark_master,
            databricks_host=databricks_host,
            warehouse_id=warehouse_id,
        )
    )
    relation = runner.relation(path, fmt)
    options = PushdownOptions(columns=columns, timestamp_column=timestamp_column)
    if is_table_name(path) and hasattr(runner, "get"):  # a Unity Catalog table: its monitor first
        runner.schema(relation)  # a missing table or column grant fails here, before the monitor
        detail = runner.describe_detail(relation)
        found = monitored_profile(runner, path, relation, options, detail, path, engine)
        if found is not None:
            return found
    return profile_relation(runner, relation, options, uri=path, engine_name=engine)


def render(profile: DatasetProfile) -> str:
    lines = [f"{profile.uri}: {profile.row_count:,} rows, {len(profile.columns)} columns"]
    if profile.engine and profile.engine != "local":
        lines[0] += f" (computed on {profile.engine})"
    if profile.metrics_source:
        lines[0] = lines[0].replace(
            "(computed on",
            f"(from {profile.metrics_source}, refreshed {profile.metrics_refreshed_at}; rest on",
        )
        lines.extend(f"  {note}" for note in profile.missing)
    if profile.sampled_rows is not None:
        lines[0] += f" (sampled {profile.sampled_rows:,} rows)"
    if profile.timestamp_column:
        lag = profile.freshness_lag_seconds
        fresh = f", {_duration(lag)} ago" if lag is not None else ""
        lines.append(f"newest {profile.timestamp_column}: {profile.newest_timestamp}{fresh}")
    for column in profile.columns:
        lines.append("")
        lines.extend(_column_lines(column))
    return "\n".join(lines)


def _column_lines(c: ColumnProfile) -> list[str]:
    distinct = (
        "-"
        if c.distinct_count is None
        else (f"{c.distinct_count:,}" + ("" if c.distinct_exact else " (approx.)"))
    )
    out = [
        f"{c.name} ({c.dtype})",
        f"  nulls {c.null_count:,} ({100 * c.null_fraction:.2f}%)  distinct {distinct}",
    ]
    if c.min is not None or c.max is not None:
        out.append(f"  min {_fmt(c.min)}  max {_fmt(c.max)}")
    if c.mean is not None:
        std = _fmt(c.stddev) if c.stddev is not None else "-"
        out.append(f"  mean {_fmt(c.mean)}  stddev {std}")
    if c.quantiles:
        out.append("  " + "  ".join(f"{k} {_fmt(v)}" for k, v in c.quantiles.items()))
    if c.top_values:
        note = "" if c.top_values_exact else " (estimated from a sample)"
        shown = ", ".join(f"{v!r} {n:,}" for v, n in c.top_values[:5])
        out.append(f"  top{note}: {shown}")
    for match in c.pii:
        out.append(
            f"  PII: {match.pattern} in {100 * match.share:.1f}% of {match.sampled:,} "
            "sampled values (values withheld)"
        )
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"
