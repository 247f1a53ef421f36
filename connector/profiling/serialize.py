"""DatasetProfile <-> JSON, for storing profiles with a run, and the compact
per-feature JSON pushed as the ``profile`` attribute of ``featmesh_feature``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from featmesh.connector.errors import InputError
from featmesh.connector.model import ColumnProfile, DatasetProfile, FeatureDrift, PiiMatch, to_dict

FORMAT_VERSION = 1
FEATURE_TOP_VALUES = 5


def profile_to_dict(profile: DatasetProfile) -> dict[str, Any]:
    body: dict[str, Any] = _finite(to_dict(profile))
    body["format_version"] = FORMAT_VERSION
    return body


def profile_to_json(profile: DatasetProfile) -> str:
    return json.dumps(profile_to_dict(profile), sort_keys=True, separators=(",", ":"), allow_nan=False)


def profile_from_dict(data: Mapping[str, Any]) -> DatasetProfile:
    """Rebuild a DatasetProfile from ``profile_to_dict`` output; InputError if malformed."""
    try:
        columns = tuple(_column(c) for c in data["columns"])
        return DatasetProfile(
            uri=data["uri"],
            row_count=int(data["row_count"]),
            columns=columns,
            profiled_at=data["profiled_at"],
            timestamp_column=data.get("timestamp_column"),
            newest_timestamp=data.get("newest_timestamp"),
            freshness_lag_seconds=data.get("freshness_lag_seconds"),
            sampled_rows=data.get("sampled_rows"),
            fingerprint=data.get("fingerprint"),
            engine=data.get("engine"),
            metrics_source=data.get("metrics_source"),
            metrics_refreshed_at=data.get("metrics_refreshed_at"),
            missing=tuple(str(m) for m in data.get("missing") or ()),
            drift=tuple(FeatureDrift(**d) for d in data.get("drift") or ()),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"not a stored dataset profile: {err!r}") from err


def profile_from_json(text: str) -> DatasetProfile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"stored profile is not JSON: {err.msg}", where=f"{err.lineno}") from err
    if not isinstance(data, dict):
        raise InputError("stored profile is not a JSON object")
    return profile_from_dict(data)


def _column(c: Mapping[str, Any]) -> ColumnProfile:
    return ColumnProfile(
        name=c["name"],
        dtype=c["dtype"],
        row_count=int(c["row_count"]),
        null_count=int(c["null_count"]),
        distinct_count=c.get("distinct_count"),
        distinct_exact=bool(c.get("distinct_exact", True)),
        distinct_error=c.get("distinct_error"),
        min=c.get("min"),
        max=c.get("max"),
        mean=c.get("mean"),
        stddev=c.get("stddev"),
        quantiles=dict(c.get("quantiles") or {}),
        top_values=tuple((str(v), int(n)) for v, n in c.get("top_values") or ()),
        top_values_exact=bool(c.get("top_values_exact", True)),
        histogram=tuple((float(b), int(n)) for b, n in c.get("histogram") or ()),
        pii=tuple(PiiMatch(**p) for p in c.get("pii") or ()),
        sample_size=c.get("sample_size"),
    )


def feature_profile_json(column: ColumnProfile, dataset: DatasetProfile | None = None) -> str:
    """The compact JSON text for a feature's ``profile`` attribute in the catalog.

    Counts, null fraction, distinct count, range, moments, median and p95, up to five
    top values and the PII patterns seen (names only), plus when the data was
    profiled and how fresh it was. Stable key order, no whitespace.
    """
    body: dict[str, Any] = {
        "rows": column.row_count,
        "nulls": column.null_count,
        "null_fraction": round(column.null_fraction, 6),
        "distinct": column.distinct_count,
        "distinct_exact": column.distinct_exact,
    }
    optional = {
        "min": column.min,
        "max": column.max,
        "mean": _round(column.mean),
        "stddev": _round(column.stddev),
        "p50": _round(column.quantiles.get("p50")),
        "p95": _round(column.quantiles.get("p95")),
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if column.top_values:
        body["top"] = [[v, n] for v, n in column.top_values[:FEATURE_TOP_VALUES]]
        body["top_exact"] = column.top_values_exact
    if column.pii:
        body["pii"] = sorted(p.pattern for p in column.pii)
    if dataset is not None:
        body["profiled_at"] = dataset.profiled_at
        if dataset.sampled_rows is not None:
            body["sampled_rows"] = dataset.sampled_rows
        if dataset.timestamp_column == column.name and dataset.freshness_lag_seconds is not None:
            body["freshness_lag_seconds"] = dataset.freshness_lag_seconds
    return json.dumps(_finite(body), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _round(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.6g}")
    return value


def _finite(value: Any) -> Any:
    """Non-finite floats become null: JSON has no NaN or infinity."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
