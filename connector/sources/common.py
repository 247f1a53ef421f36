"""Helpers every reader shares: source kinds from URIs, durations."""

from __future__ import annotations

import re

_SCHEMES = {
    "abfss": "adls",
    "abfs": "adls",
    "adl": "adls",
    "wasbs": "blob",
    "wasb": "blob",
    "s3": "s3",
    "s3a": "s3",
    "s3n": "s3",
    "gs": "gcs",
    "file": "file",
    "hdfs": "hdfs",
    "dbfs": "dbfs",
    "http": "http",
    "https": "http",
    "kafka": "kafka",
    "jdbc": "jdbc",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "redshift": "redshift",
}
_FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".avro", ".orc", ".txt", ".gz")
_TABLE = re.compile(r"^[A-Za-z_][\w$-]*(\.[A-Za-z_`][\w$`-]*){1,2}$")


def infer_source_kind(uri: str, fmt: str | None = None) -> str:
    """``abfss://...`` -> ``adls``; ``catalog.schema.table`` -> ``table`` (``delta`` when
    the format says so); a plain path -> ``file``."""
    scheme, sep, _ = uri.partition(":")
    if sep and scheme.lower() in _SCHEMES:
        kind = _SCHEMES[scheme.lower()]
        if kind == "http" and ".dfs.core.windows.net" in uri:
            return "adls"
        if kind == "http" and ".blob.core.windows.net" in uri:
            return "blob"
        return kind
    if _TABLE.match(uri) and "/" not in uri and not uri.lower().endswith(_FILE_SUFFIXES):
        return "delta" if (fmt or "").lower() == "delta" else "table"
    return "file"


_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


ATLAS_LONG_MAX = 2**63 - 1
"""The largest value of an Atlas ``long`` attribute (a Java long), such as ``ttlSeconds``."""


def parse_duration(value: int | str) -> int:
    """Seconds from ``3600``, ``"15m"``, ``"7d"`` or ``"P1DT2H"``. ValueError otherwise,
    and for a duration longer than a catalog's ``long`` holds."""
    return _bounded(_seconds(value), value)


def _bounded(seconds: int, value: object) -> int:
    if seconds > ATLAS_LONG_MAX:
        raise ValueError(
            f"duration {value!r} is {seconds} seconds, more than a catalog can hold "
            f"(at most {ATLAS_LONG_MAX} seconds, an Atlas long)"
        )
    return seconds


def _seconds(value: int | str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"negative duration: {value}")
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    if len(text) > 1 and text[:-1].isdigit() and text[-1] in _UNIT:
        return int(text[:-1]) * _UNIT[text[-1]]
    match = _ISO.match(text)
    if match and text not in ("P", "PT"):
        return sum(int(match[u] or 0) * _UNIT[u] for u in "wdhms")
    raise ValueError(f"not a duration: {value!r}")


def duration_from_parts(parts: dict[str, int] | None) -> int | None:
    """Seconds from an Azure-ML-style ``{days, hours, minutes, seconds}`` mapping."""
    if not parts:
        return None
    scale = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    return _bounded(sum(int(parts.get(unit) or 0) * factor for unit, factor in scale.items()), parts)
