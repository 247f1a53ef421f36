"""Profiles read from a Databricks Lakehouse Monitoring monitor instead of computed.

A Unity Catalog table with a monitor already has its statistics in two Delta tables
the monitor refreshes (docs.databricks.com/aws/en/lakehouse-monitoring/monitor-output):

* ``{output_schema}.{table}_profile_metrics``: one row per window, slice and column
  (``column_name`` ``:table`` for the table itself) with ``count``, ``num_nulls``,
  ``distinct_count``, ``min``, ``max``, ``avg``, ``stddev``, ``median``, ``quantiles``,
  ``frequent_items`` (``array<struct<item, count>>``), ``log_type`` (``INPUT`` for the
  monitored table) and ``window`` (``struct<start, end>``);
* ``{output_schema}.{table}_drift_metrics``: per window and column, ``drift_type``
  (``CONSECUTIVE``: against the previous window), ``window_cmp``,
  ``population_stability_index``, ``tv_distance``, ``js_distance``, ``ks_test``...

The monitor is found with ``GET /api/2.1/unity-catalog/tables/{full_name}/monitor``
(``status``, ``profile_metrics_table_name``, ``drift_metrics_table_name``, and one of
``snapshot``, ``time_series``, ``inference_log``), its last refresh with
``GET .../monitor/refreshes`` (``refreshes[]``: ``state``, ``start_time_ms``,
``end_time_ms``). Only snapshot monitors are read: a time-series monitor's windows are
slices of time, not the whole table.

What the tables lack is computed on the warehouse, and the profile says so in
``missing``: quantiles other than the median, histograms and PII shares come from the
push-down profiler's bounded sample pass; the newest timestamp from one ``max()``; a
column the monitor does not cover from pass 1 over that column alone. The min and max
of non-numeric columns are absent (the tables hold doubles).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import quote as url_quote

from featmesh.connector.errors import InputError
from featmesh.connector.model import ColumnProfile, DatasetProfile, FeatureDrift, PiiMatch
from featmesh.connector.profiling.columns import MAX_TOP_VALUE_CHARS, QUANTILES
from featmesh.connector.profiling.dialect import literal, quote, quote_table
from featmesh.connector.profiling.pii import PATTERNS
from featmesh.connector.profiling.pushdown import (
    Engine,
    PushdownOptions,
    _array,
    _Column,
    _column_profile,
    _freshness,
    _label,
    _number,
    _pass1,
    _probabilities,
    _rank_histogram,
    _sample_pass,
    _timestamp_column,
    _typed,
    sql_dtype,
)

log = logging.getLogger(__name__)

SOURCE = "lakehouse-monitoring"
MONITOR_PATH = "/api/2.1/unity-catalog/tables/{}/monitor"
TABLE_ROW = ":table"


class MonitorApi(Engine, Protocol):
    """A warehouse engine that can also call the workspace's REST API."""

    def get(self, path: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Monitor:
    table: str
    profile_table: str
    drift_table: str | None
    refreshed_at: datetime


def find_monitor(api: MonitorApi, full_name: str) -> tuple[Monitor | None, str | None]:
    """The table's usable monitor, or None and why not (None, None: no monitor)."""
    path = MONITOR_PATH.format(url_quote(full_name, safe=""))
    info = api.get(path)
    if not info:
        return None, None
    status = str(info.get("status") or "")
    if status and status != "MONITOR_STATUS_ACTIVE":
        return None, f"its monitor is {status}"
    if "snapshot" not in info:
        return None, "its monitor profiles time windows, not the whole table"
    profile_table = info.get("profile_metrics_table_name")
    if not profile_table:
        return None, "its monitor names no profile metrics table"
    refreshes = (api.get(path + "/refreshes") or {}).get("refreshes") or []
    done = [
        r
        for r in refreshes
        if isinstance(r, dict) and str(r.get("state") or "").endswith("SUCCESS") and r.get("end_time_ms")
    ]
    if not done:
        return None, "its monitor has no successful refresh"
    end = max(int(r["end_time_ms"]) for r in done)
    return (
        Monitor(
            table=full_name,
            profile_table=str(profile_table),
            drift_table=info.get("drift_metrics_table_name") or None,
            refreshed_at=datetime.fromtimestamp(end / 1000, tz=timezone.utc),
        ),
        None,
    )


def stale(monitor: Monitor, detail: dict[str, Any] | None) -> bool:
    """The table was written after the monitor's last refresh (``DESCRIBE DETAIL``'s
    ``lastModified``)."""
    modified = _stamp((detail or {}).get("lastModified"))
    return modified is not None and modified > monitor.refreshed_at


def monitored_profile(
    engine: Any,
    table: str,
    relation: str,
    options: PushdownOptions,
    detail: dict[str, Any] | None,
    uri: str,
    engine_name: str = "databricks-sql",
) -> DatasetProfile | None:
    """The profile from the table's monitor, or None (no usable monitor, or metrics older
    than the table's last write; logged): then it is computed."""
    monitor, why = find_monitor(engine, table)
    if monitor is None:
        if why:
            log.info("%s: profiled on the warehouse: %s", table, why)
        return None
    if stale(monitor, detail):
        log.info("%s: the monitor's metrics predate the last write; profiled on the warehouse", table)
        return None
    return monitor_profile(engine, monitor, relation, options, uri=uri, engine_name=engine_name)


_METRICS = (
    "column_name",
    "count",
    "num_nulls",
    "distinct_count",
    "min",
    "max",
    "avg",
    "stddev",
    "median",
)


def profile_metrics_sql(table: str, columns: list[str]) -> str:
    """The latest whole-table (unsliced) INPUT rows of the monitor's profile metrics."""
    t = quote_table(table)
    names = ", ".join(literal(n) for n in [TABLE_ROW, *columns])
    picked = ", ".join(quote(m) for m in _METRICS)
    unsliced = f"{quote('slice_key')} IS NULL AND {quote('log_type')} = 'INPUT'"
    return (
        f"SELECT {picked}, to_json({quote('frequent_items')}) AS {quote('frequent_items')} FROM {t} "
        f"WHERE {unsliced} AND {quote('column_name')} IN ({names}) "
        f"AND {quote('window')}.{quote('end')} = (SELECT max({quote('window')}.{quote('end')}) FROM {t} "
        f"WHERE {unsliced})"
    )


def drift_metrics_sql(table: str, columns: list[str]) -> str:
    """The latest unsliced CONSECUTIVE drift rows (against the previous refresh)."""
    t = quote_table(table)
    names = ", ".join(literal(n) for n in columns)
    where = f"{quote('slice_key')} IS NULL AND {quote('drift_type')} = 'CONSECUTIVE'"
    return (
        f"SELECT {quote('column_name')}, {quote('population_stability_index')}, {quote('tv_distance')}, "
        f"CAST({quote('window_cmp')}.{quote('end')} AS STRING) FROM {t} "
        f"WHERE {where} AND {quote('column_name')} IN ({names}) "
        f"AND {quote('window')}.{quote('end')} = (SELECT max({quote('window')}.{quote('end')}) FROM {t} "
        f"WHERE {where})"
    )


def monitor_profile(
    engine: Engine,
    monitor: Monitor,
    relation: str,
    options: PushdownOptions | None = None,
    *,
    uri: str | None = None,
    engine_name: str = "databricks-sql",
) -> DatasetProfile:
    """The table's profile from the monitor's tables, the rest computed on ``engine``."""
    options = options or PushdownOptions()
    schema = engine.schema(relation)
    types = dict(schema)
    missing_columns = [c for c in options.columns if c not in types]
    if missing_columns:
        raise InputError(f"no such column(s): {', '.join(missing_columns)}", path=uri or relation)
    wanted = list(options.columns) or [n for n, _ in schema]
    columns = [_Column(i, n, sql_dtype(types[n])) for i, n in enumerate(wanted)]
    ts_column = _timestamp_column(columns, options.timestamp_column, uri or relation)

    metrics = {
        str(r[0]): dict(zip((*_METRICS, "frequent_items"), r, strict=True))
        for r in engine.query(profile_metrics_sql(monitor.profile_table, wanted))
    }
    table_row = metrics.get(TABLE_ROW)
    rows = int(_number(table_row["count"]) or 0) if table_row else 0
    if not table_row:
        counted = [int(_number(m["count"]) or 0) for m in metrics.values()]
        rows = max(counted, default=0)
    uncovered = [c for c in columns if c.name not in metrics]
    if not metrics:
        raise InputError(f"the monitor's table {monitor.profile_table} has no whole-table rows", path=uri)

    first = _pass1(engine, relation, uncovered, {}) if uncovered else {}
    sampled = _sample_pass(engine, relation, columns, rows, options)
    newest = _newest(engine, relation, ts_column)
    out = []
    for c in columns:
        if c.name in metrics:
            out.append(_from_monitor(c, rows, metrics[c.name], sampled, options))
        else:
            out.append(_column_profile(c, rows, first, sampled, {}, None, engine.dialect, options))
    if ts_column is not None and newest is not None:
        out = [_with_max(p, newest) if p.name == ts_column and not p.pii else p for p in out]
    now = options.now or datetime.now(timezone.utc)
    newest_stamp, lag = _freshness(out, ts_column, now)
    drift = _drift(engine, monitor, columns) if monitor.drift_table else ()
    return DatasetProfile(
        uri=uri or relation,
        row_count=rows,
        columns=tuple(out),
        profiled_at=_iso(now),
        timestamp_column=ts_column,
        newest_timestamp=newest_stamp,
        freshness_lag_seconds=lag,
        engine=engine_name,
        metrics_source=SOURCE,
        metrics_refreshed_at=_iso(monitor.refreshed_at),
        missing=_missing(columns, uncovered, ts_column, sampled),
        drift=drift,
    )


def _from_monitor(
    c: _Column, rows: int, m: dict[str, Any], sampled: dict[str, Any], options: PushdownOptions
) -> ColumnProfile:
    i = c.index
    nulls = int(_number(m.get("num_nulls")) or 0)
    distinct = _number(m.get("distinct_count"))
    low = _typed(c, m.get("min")) if c.numeric else None
    high = _typed(c, m.get("max")) if c.numeric else None
    quantiles: dict[str, Any] = {}
    histogram: tuple[tuple[float, int], ...] = ()
    probs = _probabilities()
    values = _array(sampled.get(f"q{i}")) if c.numeric else None
    if values and len(values) == len(probs):
        quantiles = dict(zip(QUANTILES, values[: len(QUANTILES)], strict=True))
        histogram = _rank_histogram(values[len(QUANTILES) :], probs[len(QUANTILES) :], rows - nulls, low)
    median = _number(m.get("median"))
    if c.numeric and median is not None and quantiles:
        quantiles["p50"] = median
    top: tuple[tuple[str, int], ...] = ()
    if c.counts_values:
        items = _items(m.get("frequent_items"))
        top = tuple((_label(c, v)[:MAX_TOP_VALUE_CHARS], n) for v, n in items[: options.top_k] if n >= 2)
    sample_size = _number(sampled.get(f"sn{i}"))
    pii: tuple[PiiMatch, ...] = ()
    if c.textual and sample_size:
        pii = tuple(
            PiiMatch(pattern=p.name, share=round(hits / sample_size, 4), sampled=int(sample_size))
            for k, p in enumerate(PATTERNS)
            if (hits := int(_number(sampled.get(f"p{i}_{k}")) or 0))
        )
    return ColumnProfile(
        name=c.name,
        dtype=c.dtype,
        row_count=rows,
        null_count=nulls,
        distinct_count=int(distinct) if distinct is not None and c.counted else None,
        distinct_exact=False,
        distinct_error=None,
        min=None if pii else low,
        max=None if pii else high,
        mean=_number(m.get("avg")) if c.numeric else None,
        stddev=_number(m.get("stddev")) if c.numeric else None,
        quantiles=quantiles,
        top_values=() if pii else top,
        top_values_exact=not c.counts_values,
        histogram=histogram,
        pii=pii,
        sample_size=int(sample_size) if sample_size is not None else None,
    )


def _with_max(profile: ColumnProfile, newest: Any) -> ColumnProfile:
    from dataclasses import replace

    return replace(profile, max=newest)


def _newest(engine: Engine, relation: str, ts_column: str | None) -> Any:
    """The newest event time (the monitor's tables hold no timestamps)."""
    if ts_column is None:
        return None
    rows = engine.query(f"SELECT max({quote(ts_column)}) FROM {relation}")
    value = rows[0][0] if rows else None
    return _typed(_Column(0, ts_column, "timestamp"), value) if value is not None else None


def _drift(engine: Engine, monitor: Monitor, columns: list[_Column]) -> tuple[FeatureDrift, ...]:
    """The monitor's consecutive drift: PSI for numbers, total variation distance (what
    featmesh calls the frequency shift) for categories."""
    assert monitor.drift_table is not None
    by_name = {c.name: c for c in columns}
    out = []
    for name, psi, tv, previous in engine.query(drift_metrics_sql(monitor.drift_table, list(by_name))):
        c = by_name.get(str(name))
        if c is None:
            continue
        value, metric = (_number(psi), "psi") if c.numeric else (_number(tv), "frequency_shift")
        if value is None:
            continue
        out.append(
            FeatureDrift(
                column=c.name,
                metric=metric,
                value=round(float(value), 6),
                previous_profiled_at=_iso(_stamp(previous) or monitor.refreshed_at),
            )
        )
    return tuple(out)


def _missing(
    columns: list[_Column], uncovered: list[_Column], ts_column: str | None, sampled: dict[str, Any]
) -> tuple[str, ...]:
    notes = []
    if sampled:
        percent = sampled.get("__percent")
        where = f"a {float(percent):.4g}% sample" if percent else "every row"
        notes.append(
            "quantiles (but the median), histograms and PII shares: not in the monitor's tables; "
            f"computed on the warehouse over {where}"
        )
    if any(not c.numeric for c in columns if c not in uncovered):
        notes.append("min and max of non-numeric columns: not in the monitor's tables; absent")
    notes.append("distinct counts: the monitor's estimates, with no stated error")
    if ts_column:
        notes.append(f"newest {ts_column}: computed on the warehouse (max)")
    if uncovered:
        notes.append(
            "columns the monitor does not profile: "
            + ", ".join(c.name for c in uncovered)
            + ": computed on the warehouse (pass 1)"
        )
    return tuple(notes)


def _items(value: Any) -> list[tuple[str, int]]:
    """``frequent_items`` (as JSON text: ``[{"item": .., "count": ..}, ...]``), most frequent first."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    found = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and entry.get("item") is not None:
            found.append((str(entry["item"]), int(_number(entry.get("count")) or 0)))
    return sorted(found, key=lambda e: (-e[1], e[0]))


def _stamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        stamp = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
