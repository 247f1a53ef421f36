"""The SQL functions that differ between the engines the push-down profiler runs on.

Spark SQL and Databricks SQL share one dialect (Databricks SQL is Spark SQL); DuckDB
runs the same queries with its own names for a few aggregates. Every identifier is
quoted with backticks: in Spark SQL a double-quoted name is a string literal, and
DuckDB reads backticks as identifiers too.

Facts relied on:

* Spark ``approx_count_distinct(expr, relativeSD)`` is HyperLogLog++ with the stated
  relative standard deviation; ``percentile_approx(col, array(p...), accuracy)`` has a
  relative rank error of ``1 / accuracy``; ``TABLESAMPLE (x PERCENT)`` is a Bernoulli
  sample, ``TABLESAMPLE (n ROWS)`` the first n rows (Spark SQL reference, "SELECT" and
  "Built-in Functions" pages, spark.apache.org/docs/latest/sql-ref-syntax-qry-select-sampling.html).
* DuckDB ``approx_count_distinct`` is HyperLogLog, ``approx_quantile`` a T-Digest;
  ``USING SAMPLE x PERCENT (bernoulli, seed)`` a seeded Bernoulli sample
  (duckdb.org/docs/stable/sql/functions/aggregates, duckdb.org/docs/stable/sql/samples).
"""

from __future__ import annotations

from dataclasses import dataclass

from featmesh.connector.errors import InputError


def quote(name: str) -> str:
    """A backtick-quoted identifier (a backtick inside is doubled)."""
    if "\x00" in name:
        raise InputError(f"a column or table name cannot hold a NUL character: {name!r}")
    return "`" + name.replace("`", "``") + "`"


def quote_table(name: str) -> str:
    """``catalog.schema.table`` with every part quoted (parts already quoted kept)."""
    parts = _split_dotted(name)
    return ".".join(p if p.startswith("`") else quote(p) for p in parts)


def _split_dotted(name: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in name:
        if ch == "`":
            quoted = not quoted
            current += ch
        elif ch == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    if quoted or any(not p.strip() for p in parts):
        raise InputError(f"not a table name: {name!r}")
    return parts


def literal(text: str, dialect: str = "spark") -> str:
    """A single-quoted SQL string literal: Spark SQL reads backslash escapes in one,
    DuckDB (standard SQL) only a doubled quote."""
    if dialect == "duckdb":
        return "'" + text.replace("'", "''") + "'"
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Dialect:
    name: str
    distinct_error: float
    """The stated relative standard error of ``approx_distinct``."""

    def approx_distinct(self, expr: str) -> str:
        if self.name == "duckdb":
            return f"approx_count_distinct({expr})"
        return f"approx_count_distinct({expr}, {self.distinct_error})"

    def quantiles(self, expr: str, probabilities: list[float], accuracy: int) -> str:
        probs = ", ".join(repr(float(p)) for p in probabilities)
        if self.name == "duckdb":
            return f"approx_quantile({expr}, [{probs}])"
        return f"percentile_approx({expr}, array({probs}), {accuracy})"

    def is_nan(self, expr: str) -> str:
        if self.name == "duckdb":
            # DuckDB 2.0's isnan() and NaN = NaN answer false in a projection over Parquet
            # (a filter gets them right); not finite and not infinite is NaN everywhere
            return f"(NOT isfinite({expr}) AND NOT isinf({expr}))"
        return f"isnan({expr})"

    def sample(self, table: str, percent: float, seed: int) -> str:
        """``table`` restricted to a seeded Bernoulli sample of about ``percent`` %."""
        pct = f"{min(100.0, max(percent, 1e-6)):.6f}"
        if self.name == "duckdb":
            return f"{table} USING SAMPLE {pct} PERCENT (bernoulli, {seed})"
        # a seeded sample is REPEATABLE on Databricks; Spark's is seeded per query
        suffix = f" REPEATABLE ({seed})" if self.name == "databricks-sql" else ""
        return f"{table} TABLESAMPLE ({pct} PERCENT){suffix}"

    def regexp(self, expr: str, pattern: str) -> str:
        if self.name == "duckdb":
            return f"regexp_matches({expr}, {literal(pattern, self.name)})"
        return f"({expr} RLIKE {literal(pattern, self.name)})"

    def digits(self, expr: str) -> str:
        """The digits of a string as an array of integers, most significant first."""
        if self.name == "duckdb":
            return (
                f"list_transform(string_split(regexp_replace({expr}, '[^0-9]', '', 'g'), ''), "
                "lambda d: TRY_CAST(d AS INTEGER))"
            )
        return (
            f"transform(filter(split(regexp_replace({expr}, '[^0-9]', ''), ''), d -> d != ''), "
            "d -> TRY_CAST(d AS INT))"
        )

    def luhn_ok(self, expr: str) -> str:
        """True when the digits of ``expr`` pass the Luhn check (13 to 19 digits)."""
        digits = self.digits(expr)
        if self.name == "duckdb":
            doubled = (
                f"list_transform(list_reverse({digits}), lambda d, i: "
                "CASE WHEN i % 2 = 0 THEN (CASE WHEN d * 2 > 9 THEN d * 2 - 9 ELSE d * 2 END) ELSE d END)"
            )
            total = f"list_sum({doubled})"
            count = f"len({digits})"
        else:
            doubled = (
                f"transform(reverse({digits}), (d, i) -> "
                "CASE WHEN i % 2 = 1 THEN (CASE WHEN d * 2 > 9 THEN d * 2 - 9 ELSE d * 2 END) ELSE d END)"
            )
            total = f"aggregate({doubled}, 0, (a, x) -> a + x)"
            count = f"size({digits})"
        return f"({count} BETWEEN 13 AND 19 AND {total} % 10 = 0)"

    def iban_ok(self, expr: str) -> str:
        """True when ``expr`` (spaces removed, upper-cased) passes ISO 7064 mod-97."""
        compact = f"upper(replace({expr}, ' ', ''))"
        rearranged = f"concat(substr({compact}, 5), substr({compact}, 1, 4))"
        # letters are two digits (A=10 .. Z=35): fold each character into the remainder
        if self.name == "duckdb":
            chars = f"string_split({rearranged}, '')"
            codes = (
                f"list_transform({chars}, lambda c: CASE WHEN c BETWEEN 'A' AND 'Z' "
                "THEN ascii(c) - 55 ELSE TRY_CAST(c AS INTEGER) END)"
            )
            folded = (
                f"list_reduce(list_prepend(0, {codes}), "
                "lambda a, x: CASE WHEN x > 9 THEN (a * 100 + x) % 97 ELSE (a * 10 + x) % 97 END)"
            )
            size = f"length({compact})"
        else:
            chars = f"filter(split({rearranged}, ''), c -> c != '')"
            folded = (
                f"aggregate({chars}, 0, (a, c) -> CASE WHEN c BETWEEN 'A' AND 'Z' "
                "THEN (a * 100 + ascii(c) - 55) % 97 ELSE (a * 10 + TRY_CAST(c AS INT)) % 97 END)"
            )
            size = f"length({compact})"
        return f"({size} BETWEEN 15 AND 34 AND {folded} = 1)"

    def digit_count(self, expr: str) -> str:
        flags = ", 'g'" if self.name == "duckdb" else ""
        return f"length(regexp_replace({expr}, '[^0-9]', ''{flags}))"


SPARK = Dialect("spark", distinct_error=0.05)
"""5 %: HyperLogLog++ is an imperative aggregate, so its cost grows with its register
count. On local Spark (1 million rows x 20 columns, warm JVM, ``bench/pushdown_bench.py``'s
data) the 20 estimates took 10.0 s of JVM CPU time at 2 % and 3.8 s at 5 %, against 6.5 s
for all the other aggregates of pass 1 together. Low-cardinality columns get exact counts in
pass 2 anyway."""
DATABRICKS = Dialect("databricks-sql", distinct_error=0.02)
DUCKDB = Dialect("duckdb", distinct_error=0.03)
"""DuckDB's HyperLogLog has no accuracy parameter; 3 % is the bound its estimates
stay within on the test data (``tests/profiling/test_pushdown_duckdb.py``)."""

DIALECTS = {d.name: d for d in (SPARK, DATABRICKS, DUCKDB)}
