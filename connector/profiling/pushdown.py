"""Profile a table on the engine that holds it: only aggregates travel.

The same DatasetProfile as the pyarrow profiler, from three SQL queries:

1. **Pass 1**, one aggregate over the whole table: rows, non-null counts,
   ``approx_count_distinct`` (relative error ``dialect.distinct_error``), min and max,
   NaN-free mean and sample standard deviation, the newest timestamp and, when the
   previous profile of a numeric column is given, the exact count of rows in each of
   its histogram bins (drift computed on the engine against the previous bin edges).
2. **Sample pass**, over a seeded Bernoulli ``TABLESAMPLE`` of about ``sample_size``
   rows: quantiles and the equal-frequency histogram edges (``percentile_approx`` at
   ``accuracy``), and for string columns the number of sampled values matching each PII
   pattern (regular expression and, for cards and IBANs, the checksum, evaluated on the
   engine). A quantile's rank error is at most ``1/accuracy`` plus the sampling error
   (see ``quantile_rank_error``).
3. **Pass 2**, one ``GROUPING SETS`` query over the columns whose estimated distinct
   count is at most ``distinct_limit``: their exact distinct counts and exact top values,
   ranked on the engine so only ``top_k`` rows per column come back.

Quantiles are computed on the sample rather than in pass 1 because ``percentile_approx``
over every row dominates pass 1 on Spark (its summaries are built row by row per
partition); over a 100,000-row sample its cost is negligible and the rank error stays
well under a percent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol

from featmesh.connector.errors import InputError
from featmesh.connector.model import ColumnProfile, DatasetProfile, PiiMatch
from featmesh.connector.profiling.columns import MAX_TOP_VALUE_CHARS, QUANTILES, plain_value
from featmesh.connector.profiling.dialect import Dialect, quote
from featmesh.connector.profiling.pii import PATTERNS

HISTOGRAM_BINS = 20
_TIMESTAMP_NAMES = ("event_timestamp", "event_ts", "timestamp", "ts", "event_time")


class Engine(Protocol):
    """Where the SQL runs: DuckDB, a Spark session or a Databricks SQL warehouse."""

    dialect: Dialect
    bytes_received: int
    """Bytes of query results that reached this process so far."""

    def schema(self, relation: str) -> list[tuple[str, str]]:
        """``(column name, SQL type name)`` of ``relation``, in table order."""
        ...

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (values may arrive as strings)."""
        ...


@dataclass(frozen=True, kw_only=True)
class PushdownOptions:
    columns: tuple[str, ...] = ()
    timestamp_column: str | None = None
    distinct_limit: int = 100_000
    """Columns estimated to have at most this many distinct values get exact distinct
    counts and exact top values (pass 2)."""
    sample_size: int = 100_000
    """Rows in the Bernoulli sample behind quantiles, histogram edges and PII shares."""
    accuracy: int = 10_000
    """``percentile_approx`` accuracy on the sample: rank error at most 1/accuracy."""
    top_k: int = 10
    seed: int = 0
    now: datetime | None = None
    previous: DatasetProfile | None = None
    """The previous profile of the same table: drift bins are counted against its edges."""


@dataclass(frozen=True)
class _Column:
    index: int
    name: str
    dtype: str

    @property
    def q(self) -> str:
        return quote(self.name)

    @property
    def numeric(self) -> bool:
        return self.dtype.startswith(("int", "float")) or self.dtype == "decimal"

    @property
    def floating(self) -> bool:
        return self.dtype.startswith("float")

    @property
    def textual(self) -> bool:
        return self.dtype == "string"

    @property
    def ordered(self) -> bool:
        return self.numeric or self.textual or self.dtype in ("date", "timestamp", "bool")

    @property
    def counted(self) -> bool:
        """Has a distinct count (as the pyarrow profiler: ordered types and bytes)."""
        return self.ordered or self.dtype == "bytes"

    @property
    def counts_values(self) -> bool:
        return self.textual or self.dtype == "bool"


def quantile_rank_error(sample_rows: int, accuracy: int, confidence: float = 0.99) -> float:
    """An upper bound on a quantile's rank error (as a share of rows) with probability
    ``confidence``: the sketch's ``1/accuracy`` plus the Dvoretzky-Kiefer-Wolfowitz bound
    ``sqrt(ln(2/(1-confidence)) / (2n))`` of an n-row uniform sample (0 when the whole
    table was read)."""
    sketch = 1.0 / accuracy
    if sample_rows <= 0:
        return sketch
    return sketch + math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * sample_rows))


_SQL_INTS = {
    "tinyint": "int8",
    "byte": "int8",
    "smallint": "int16",
    "short": "int16",
    "int": "int32",
    "integer": "int32",
    "bigint": "int64",
    "long": "int64",
    "hugeint": "int64",
    "utinyint": "int16",
    "usmallint": "int32",
    "uinteger": "int64",
    "ubigint": "int64",
    "int1": "int8",
    "int2": "int16",
    "int4": "int32",
    "int8": "int64",
}


def sql_dtype(type_name: str) -> str:
    """The featmesh dtype of a Spark / Databricks / DuckDB type name."""
    t = type_name.strip().lower()
    if t.endswith("[]") or t.startswith("array"):
        inner = t[:-2] if t.endswith("[]") else t[6:-1]
        found = sql_dtype(inner)
        return f"array<{found}>" if "<" not in found else "array<unknown>"
    if t in _SQL_INTS:
        return _SQL_INTS[t]
    if t in ("double", "float8", "double precision"):
        return "float64"
    if t in ("float", "real", "float4"):
        return "float32"
    if t.startswith(("decimal", "numeric")):
        return "decimal"
    if t in ("string", "varchar", "text", "char", "uuid") or t.startswith(("varchar", "char(")):
        return "string"
    if t in ("binary", "blob", "bytea", "varbinary"):
        return "bytes"
    if t in ("boolean", "bool"):
        return "bool"
    if t == "date":
        return "date"
    if t.startswith("timestamp") or t == "datetime":
        return "timestamp"
    if t.startswith("map"):
        return "map"
    if t.startswith(("struct", "row")):
        return "struct"
    return "unknown"


def profile_relation(
    engine: Engine,
    relation: str,
    options: PushdownOptions | None = None,
    *,
    uri: str | None = None,
    engine_name: str | None = None,
) -> DatasetProfile:
    """Profile ``relation`` (a FROM expression, already quoted) on ``engine``."""
    options = options or PushdownOptions()
    schema = engine.schema(relation)
    names = [n for n, _ in schema]
    missing = [c for c in options.columns if c not in names]
    if missing:
        raise InputError(f"no such column(s): {', '.join(missing)}", path=uri or relation)
    types = dict(schema)
    wanted = list(options.columns) or names
    columns = [_Column(i, n, sql_dtype(types[n])) for i, n in enumerate(wanted)]
    ts_column = _timestamp_column(columns, options.timestamp_column, uri or relation)
    dialect = engine.dialect

    edges = _previous_edges(columns, options.previous)
    first = _pass1(engine, relation, columns, edges)
    rows = int(_number(first["rows"]) or 0)

    sampled = _sample_pass(engine, relation, columns, rows, options)
    low = [
        c
        for c in columns
        if c.counted
        and first.get(f"d{c.index}") is not None
        and (_number(first[f"d{c.index}"]) or 0) <= options.distinct_limit
    ]
    exact = _pass2(engine, relation, low, options.top_k) if low else {}

    out = []
    for c in columns:
        out.append(_column_profile(c, rows, first, sampled, exact, edges.get(c.name), dialect, options))
    now = options.now or datetime.now(timezone.utc)
    newest, lag = _freshness(out, ts_column, now)
    return DatasetProfile(
        uri=uri or relation,
        row_count=rows,
        columns=tuple(out),
        profiled_at=now.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        timestamp_column=ts_column,
        newest_timestamp=newest,
        freshness_lag_seconds=lag,
        engine=engine_name or dialect.name,
    )


# ----------------------------------------------------------------------- the SQL


def _value(c: _Column, dialect: Dialect) -> str:
    """The column as a NaN-free double (numbers) or as itself."""
    if not c.numeric:
        return c.q
    if c.floating:
        return f"CASE WHEN {dialect.is_nan(c.q)} THEN NULL ELSE CAST({c.q} AS DOUBLE) END"
    return f"CAST({c.q} AS DOUBLE)"


def pass1_sql(
    dialect: Dialect, relation: str, columns: Sequence[_Column], edges: dict[str, list[float]]
) -> tuple[str, list[str]]:
    """Pass 1's SQL and its output aliases."""
    parts = ["count(*) AS `rows`"]
    aliases = ["rows"]

    def add(expr: str, alias: str) -> None:
        parts.append(f"{expr} AS `{alias}`")
        aliases.append(alias)

    for c in columns:
        i = c.index
        add(f"count({c.q})", f"nn{i}")
        if c.counted:
            add(dialect.approx_distinct(c.q), f"d{i}")
        if c.ordered:
            v = _value(c, dialect)
            add(f"min({v})", f"min{i}")
            add(f"max({v})", f"max{i}")
        if c.numeric:
            v = _value(c, dialect)
            add(f"count({v})", f"nv{i}")
            add(f"avg({v})", f"mean{i}")
            add(f"stddev_samp({v})", f"sd{i}")
            for j, expr in enumerate(_bucket_conditions(v, edges.get(c.name) or [])):
                add(f"count(CASE WHEN {expr} THEN 1 END)", f"b{i}_{j}")
    return f"SELECT {', '.join(parts)} FROM {relation}", aliases


def _bucket_conditions(v: str, edges: list[float]) -> list[str]:
    """One condition per bin ``[e_j, e_j+1)``; the first takes everything below, the last
    everything above."""
    if len(edges) < 2:
        return []
    inner = edges[1:-1]
    if not inner:
        return [f"{v} IS NOT NULL"]
    out = [f"{v} < {inner[0]!r}"]
    out += [f"{v} >= {lo!r} AND {v} < {hi!r}" for lo, hi in pairwise(inner)]
    out.append(f"{v} >= {inner[-1]!r}")
    return out


def _pass1(
    engine: Engine, relation: str, columns: Sequence[_Column], edges: dict[str, list[float]]
) -> dict[str, Any]:
    sql, aliases = pass1_sql(engine.dialect, relation, columns, edges)
    rows = engine.query(sql)
    if len(rows) != 1:
        raise InputError(f"the profile's aggregate query returned {len(rows)} rows, not 1", path=relation)
    return dict(zip(aliases, rows[0], strict=True))


def _probabilities() -> list[float]:
    bins = [round(k / HISTOGRAM_BINS, 6) for k in range(HISTOGRAM_BINS + 1)]
    return list(QUANTILES.values()) + bins


def sample_sql(
    dialect: Dialect,
    relation: str,
    columns: Sequence[_Column],
    percent: float | None,
    options: PushdownOptions,
) -> tuple[str, list[str]] | None:
    parts, aliases = [], []

    def add(expr: str, alias: str) -> None:
        parts.append(f"{expr} AS `{alias}`")
        aliases.append(alias)

    for c in columns:
        if c.numeric:
            add(f"count({c.q})", f"sn{c.index}")
            add(dialect.quantiles(_value(c, dialect), _probabilities(), options.accuracy), f"q{c.index}")
        elif c.textual:
            trimmed = f"trim({c.q})"
            add(f"count({c.q})", f"sn{c.index}")
            for k, pattern in enumerate(PATTERNS):
                add(
                    f"count(CASE WHEN {_pii_condition(dialect, pattern.name, pattern.regex, trimmed)} "
                    "THEN 1 END)",
                    f"p{c.index}_{k}",
                )
        else:
            add(f"count({c.q})", f"sn{c.index}")
    if not parts:
        return None
    source = relation if percent is None else dialect.sample(relation, percent, options.seed)
    return f"SELECT {', '.join(parts)} FROM {source}", aliases


_DATE_OR_DECIMAL = (
    r"^[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}$|^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4}$|^-?[0-9]+\.[0-9]+$"
)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^({_OCTET}\.){{3}}{_OCTET}$"
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV6 = rf"^({_HEX}:){{7}}{_HEX}$|^(({_HEX}:){{0,6}}{_HEX})?::(({_HEX}:){{0,6}}{_HEX})?$"


def _pii_condition(dialect: Dialect, name: str, regex: str, v: str) -> str:
    """The pattern's regular expression and its validation, as one SQL condition (the
    validators of ``pii.py`` written for the engine)."""
    match = dialect.regexp(v, regex)
    if name == "card_number":
        return f"({match} AND {dialect.luhn_ok(v)})"
    if name == "iban":
        return f"({match} AND {dialect.iban_ok(v)})"
    if name == "ip_address":
        return f"({match} AND ({dialect.regexp(v, _IPV4)} OR {dialect.regexp(v, _IPV6)}))"
    if name == "phone_number":
        digits = dialect.digit_count(v)
        bare = dialect.regexp(v, r"^[0-9]+$")
        leading_zero = dialect.regexp(v, r"^0[1-9]")
        national = f"({leading_zero} AND length({v}) BETWEEN 10 AND 11) OR {dialect.regexp(v, '^00')}"
        return (
            f"({match} AND {digits} BETWEEN 7 AND 15 AND NOT {dialect.regexp(v, _DATE_OR_DECIMAL)} "
            f"AND NOT {dialect.regexp(v, _IPV4)} AND NOT {dialect.luhn_ok(v)} "
            f"AND (NOT {bare} OR {national}))"
        )
    return match


def _sample_pass(
    engine: Engine, relation: str, columns: Sequence[_Column], rows: int, options: PushdownOptions
) -> dict[str, Any]:
    if rows == 0:
        return {}
    percent = None if rows <= options.sample_size else 100.0 * options.sample_size / rows
    built = sample_sql(engine.dialect, relation, columns, percent, options)
    if built is None:
        return {}
    sql, aliases = built
    result = engine.query(sql)
    values = dict(zip(aliases, result[0], strict=True)) if result else {}
    values["__percent"] = percent
    return values


def pass2_sql(dialect: Dialect, relation: str, columns: Sequence[_Column], top_k: int) -> str:
    """Exact distinct counts and top values of ``columns`` in one GROUPING SETS query,
    ranked on the engine: ``top_k`` rows per column come back, each with the column's
    distinct count."""
    which = " ".join(f"WHEN grouping({c.q}) = 0 THEN {n}" for n, c in enumerate(columns))
    value = " ".join(f"WHEN grouping({c.q}) = 0 THEN CAST({c.q} AS STRING)" for c in columns)
    sets = ", ".join(f"({c.q})" for c in columns)
    return (
        f"WITH `g` AS (SELECT CASE {which} END AS `s`, CASE {value} END AS `v`, count(*) AS `n` "
        f"FROM {relation} GROUP BY GROUPING SETS ({sets})), "
        "`r` AS (SELECT `s`, `v`, `n`, count(*) OVER (PARTITION BY `s`) AS `d`, "
        "row_number() OVER (PARTITION BY `s` ORDER BY `n` DESC, `v`) AS `k` FROM `g` WHERE `v` IS NOT NULL) "
        f"SELECT `s`, `v`, `n`, `d` FROM `r` WHERE `k` <= {int(top_k)} ORDER BY `s`, `k`"
    )


def _pass2(
    engine: Engine, relation: str, columns: Sequence[_Column], top_k: int
) -> dict[str, tuple[int, list[tuple[str, int]]]]:
    rows = engine.query(pass2_sql(engine.dialect, relation, columns, top_k))
    out: dict[str, tuple[int, list[tuple[str, int]]]] = {c.name: (0, []) for c in columns}
    for s, v, n, d in rows:
        c = columns[int(_number(s) or 0)]
        _, top = out[c.name]
        top.append((str(v), int(_number(n) or 0)))
        out[c.name] = (int(_number(d) or 0), top)
    return out


# ----------------------------------------------------------------------- results


def _column_profile(
    c: _Column,
    rows: int,
    first: dict[str, Any],
    sampled: dict[str, Any],
    exact: dict[str, tuple[int, list[tuple[str, int]]]],
    edges: list[float] | None,
    dialect: Dialect,
    options: PushdownOptions,
) -> ColumnProfile:
    i = c.index
    non_null = int(_number(first[f"nn{i}"]) or 0)
    distinct: int | None = None
    distinct_exact = True
    distinct_error: float | None = None
    top: tuple[tuple[str, int], ...] = ()
    top_exact = True
    if c.name in exact:
        distinct, found = exact[c.name]
        if c.counts_values and found and max(n for _, n in found) >= 2:
            top = tuple((_label(c, v)[:MAX_TOP_VALUE_CHARS], n) for v, n in found)
    elif c.counted and first.get(f"d{i}") is not None:
        distinct = int(_number(first[f"d{i}"]) or 0)
        distinct_exact = False
        distinct_error = dialect.distinct_error
        top_exact = not c.counts_values
    low = _typed(c, first.get(f"min{i}"))
    high = _typed(c, first.get(f"max{i}"))
    mean = sd = None
    quantiles: dict[str, Any] = {}
    histogram: tuple[tuple[float, int], ...] = ()
    if c.numeric:
        valid = int(_number(first[f"nv{i}"]) or 0)
        mean = _number(first.get(f"mean{i}")) if valid else None
        sd = _number(first.get(f"sd{i}")) if valid > 1 else None
        probs = _probabilities()
        values = _array(sampled.get(f"q{i}"))
        if values and len(values) == len(probs):
            quantiles = dict(zip(QUANTILES, values[: len(QUANTILES)], strict=True))
            bins = values[len(QUANTILES) :]
            histogram = (
                _counted_histogram(first, i, edges, low)
                if edges
                else _rank_histogram(bins, probs[len(QUANTILES) :], non_null, low)
            )
    pii: tuple[PiiMatch, ...] = ()
    sample_size = _number(sampled.get(f"sn{i}"))
    if c.textual and sample_size:
        found_pii = []
        for k, pattern in enumerate(PATTERNS):
            hits = int(_number(sampled.get(f"p{i}_{k}")) or 0)
            if hits:
                found_pii.append(
                    PiiMatch(
                        pattern=pattern.name, share=round(hits / sample_size, 4), sampled=int(sample_size)
                    )
                )
        pii = tuple(found_pii)
    redact = bool(pii)
    return ColumnProfile(
        name=c.name,
        dtype=c.dtype,
        row_count=rows,
        null_count=rows - non_null,
        distinct_count=distinct,
        distinct_exact=distinct_exact,
        distinct_error=distinct_error,
        min=None if redact else low,
        max=None if redact else high,
        mean=mean,
        stddev=sd,
        quantiles=quantiles,
        top_values=() if redact else top,
        top_values_exact=top_exact,
        histogram=histogram,
        pii=pii,
        sample_size=int(sample_size) if sample_size is not None else None,
    )


def _rank_histogram(
    edges: list[float], probs: list[float], non_null: int, low: Any
) -> tuple[tuple[float, int], ...]:
    """Equal-frequency bins from the sample's quantiles: a bin's count is its share of
    ranks (edges that coincide, a value repeated, merge their bins)."""
    merged: list[tuple[float, float]] = []  # (lower edge, probability where it starts)
    for edge, p in zip(edges, probs, strict=True):
        if not merged or edge > merged[-1][0]:
            merged.append((float(edge), p))
    lowest = float(low) if isinstance(low, (int, float)) and math.isfinite(float(low)) else merged[0][0]
    if len(merged) == 1:
        return ((min(lowest, merged[0][0]), non_null),)
    starts = [p for _, p in merged[:-1]]
    ends = [p for _, p in merged[1:]]
    ends[-1] = 1.0
    starts[0] = 0.0
    out = [(e, round(non_null * (hi - lo))) for (e, _), lo, hi in zip(merged[:-1], starts, ends, strict=True)]
    out[0] = (min(lowest, out[0][0]), out[0][1])
    return tuple(out)


def _counted_histogram(
    first: dict[str, Any], i: int, edges: list[float], low: Any
) -> tuple[tuple[float, int], ...]:
    """The exact counts of the previous profile's bins (pass 1)."""
    counts = [int(_number(first.get(f"b{i}_{j}")) or 0) for j in range(len(edges) - 1)]
    lowers = list(edges[:-1])
    if isinstance(low, (int, float)) and math.isfinite(float(low)):
        lowers[0] = min(float(low), lowers[0])
    return tuple(zip(lowers, counts, strict=True))


def _previous_edges(columns: Sequence[_Column], previous: DatasetProfile | None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    if previous is None:
        return out
    for c in columns:
        before = previous.column(c.name)
        if not c.numeric or before is None or not before.histogram:
            continue
        lowers = [float(b) for b, _ in before.histogram]
        try:
            upper = float(before.max) if before.max is not None else lowers[-1]
        except (TypeError, ValueError):
            continue
        edges = [*lowers, max(upper, lowers[-1])]
        if all(math.isfinite(e) for e in edges):
            out[c.name] = edges
    return out


def _timestamp_column(columns: Sequence[_Column], wanted: str | None, where: str) -> str | None:
    if wanted:
        if wanted not in {c.name for c in columns}:
            raise InputError(f"no timestamp column {wanted!r}", path=where)
        return wanted
    stamps = [c.name for c in columns if c.dtype == "timestamp"]
    preferred = [n for n in stamps if n.lower() in _TIMESTAMP_NAMES]
    found = preferred or stamps
    return found[0] if found else None


def _freshness(
    columns: Sequence[ColumnProfile], ts_column: str | None, now: datetime
) -> tuple[str | None, float | None]:
    column = next((c for c in columns if c.name == ts_column), None)
    if column is None or column.max is None:
        return None, None
    newest = column.max
    if column.dtype == "timestamp" and isinstance(newest, str):
        stamp = datetime.fromisoformat(newest.replace("Z", "+00:00"))
        return newest, round((now - stamp).total_seconds(), 3)
    return newest, None


# ----------------------------------------------------------------------- values


def _number(value: Any) -> float | None:
    """A number from an engine value (Databricks sends every value as a string)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if isinstance(value, str) and re.fullmatch(r"-?\d+", value) else number


def _array(value: Any) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, (list, tuple)):
        return None
    numbers = [_number(v) for v in value]
    if any(n is None for n in numbers):
        return None
    return [float(n) for n in numbers if n is not None]


_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _typed(c: _Column, value: Any) -> Any:
    """An engine value as the pyarrow profiler writes it (``plain_value``)."""
    if value is None:
        return None
    if c.dtype.startswith("int"):
        return int(_number(value) or 0)
    if c.numeric and c.dtype != "decimal":
        number = _number(value)
        return plain_value(float(number)) if number is not None else None
    if c.dtype == "decimal":
        return str(value)
    if c.dtype == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if c.dtype == "timestamp":
        if isinstance(value, str) and _STAMP.match(value.strip()):
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T"))
        return plain_value(value)
    if c.dtype == "date":
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    return plain_value(value)


def _label(c: _Column, value: str) -> str:
    """A top value as the pyarrow profiler labels it (``str`` of the Python value)."""
    if c.dtype == "bool":
        return "True" if value.lower() == "true" else "False"
    return value
