"""Per-column accumulators: fed whole record-batch columns, they give a ColumnProfile.

Exact from the stream: row, null, min, max, mean, standard deviation (batches merged
with Chan's parallel formula) and, while the column has at most ``distinct_limit``
distinct values, the distinct count and the top values. Estimated from the uniform
row sample: quantiles, histogram, PII shares, and the top values of a column with
more distinct values than the limit.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from featmesh.connector.model import ColumnProfile, PiiMatch
from featmesh.connector.profiling.pii import scan_pii
from featmesh.connector.profiling.sketches import DistinctCounter

QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
MAX_TOP_VALUE_CHARS = 200


def featmesh_dtype(kind: pa.DataType) -> str:
    """The featmesh dtype vocabulary (see ``connector.model``) for an Arrow type."""
    if pa.types.is_dictionary(kind):
        return featmesh_dtype(kind.value_type)
    if pa.types.is_boolean(kind):
        return "bool"
    if pa.types.is_integer(kind):
        width = min(kind.bit_width * (2 if pa.types.is_unsigned_integer(kind) else 1), 64)
        return f"int{width}"
    if pa.types.is_floating(kind):
        return "float64" if kind.bit_width == 64 else "float32"
    if pa.types.is_decimal(kind):
        return "decimal"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
        return "bytes"
    if pa.types.is_fixed_size_binary(kind):
        return "bytes"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        inner = featmesh_dtype(kind.value_type)
        return f"array<{inner}>" if "<" not in inner else "array<unknown>"
    if pa.types.is_map(kind):
        return "map"
    if pa.types.is_struct(kind):
        return "struct"
    return "unknown"


def plain_value(value: Any) -> Any:
    """A JSON-ready form of a pyarrow scalar's value."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return value + 0.0 if math.isfinite(value) else None  # -0.0 (Parquet minimums) is 0
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


class ColumnAccumulator:
    """Statistics of one column over a stream of batches."""

    def __init__(
        self,
        name: str,
        kind: pa.DataType,
        *,
        distinct_limit: int,
        top_k: int,
        bounds: tuple[Any, Any] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.dtype = featmesh_dtype(kind)
        self.top_k = top_k
        value_type = kind.value_type if pa.types.is_dictionary(kind) else kind
        self.numeric = (
            pa.types.is_integer(value_type)
            or pa.types.is_floating(value_type)
            or pa.types.is_decimal(value_type)
        )
        self.textual = self.dtype == "string"
        self.ordered = self.numeric or self.textual or self.dtype in ("date", "timestamp", "bool")
        self.counts_values = self.textual or self.dtype == "bool"
        self.rows = 0
        self.nulls = 0
        self.min: Any = bounds[0] if bounds else None
        self.max: Any = bounds[1] if bounds else None
        self.bounds_known = bounds is not None
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.nan_seen = False
        self.distinct = DistinctCounter(distinct_limit) if self.ordered or self.dtype == "bytes" else None
        self.top: pa.Table | None = None
        self.top_exact = True
        self._counts: list[pa.Table] = []
        self._counted = 0

    # ----------------------------------------------------------------- streaming

    def add(self, arr: pa.Array) -> None:
        self.rows += len(arr)
        self.nulls += arr.null_count
        valid = len(arr) - arr.null_count
        if valid == 0:
            return
        if self.ordered and not self.bounds_known:
            self._min_max(arr)
        if self.numeric:
            self._moments(arr, valid)
        if self.counts_values and self.top_exact:
            counts = pc.value_counts(arr.drop_null() if arr.null_count else arr)
            if self.distinct is not None:
                self.distinct.add(counts.field(0), distinct=True)
            self._merge_counts(counts)
        elif self.distinct is not None:
            self.distinct.add(arr)

    def _min_max(self, arr: pa.Array) -> None:
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary.take(pc.unique(arr.indices).drop_null())
        result = pc.min_max(arr)
        low, high = result["min"], result["max"]
        if not low.is_valid:
            return
        if self.min is None or pc.less(low, self.min).as_py():
            self.min = low
        if self.max is None or pc.greater(high, self.max).as_py():
            self.max = high

    def _moments(self, arr: pa.Array, valid: int) -> None:
        values = arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr
        if pa.types.is_decimal(values.type):
            values = values.cast(pa.float64())
        mean = pc.mean(values).as_py()
        if mean is not None and math.isnan(mean) and pa.types.is_floating(values.type):
            self.nan_seen = True
            values = pc.if_else(pc.is_nan(values), None, values).drop_null()
            valid = len(values)
            if valid == 0:
                return
            mean = pc.mean(values).as_py()
        variance = pc.variance(values, ddof=0).as_py() or 0.0
        if mean is None or not math.isfinite(mean) or not math.isfinite(variance):
            return
        total = self.n + valid
        delta = mean - self.mean
        self.mean += delta * valid / total
        self.m2 += variance * valid + delta * delta * self.n * valid / total
        self.n = total

    def _merge_counts(self, counts: pa.StructArray) -> None:
        batch = pa.table({"value": counts.field(0), "count": counts.field(1)})
        if pa.types.is_dictionary(batch.schema.field("value").type):
            batch = batch.set_column(0, "value", batch.column("value").cast(self.kind.value_type))
        if self.distinct is not None and self.distinct.exceeded:
            self.top, self._counts, self._counted = None, [], 0
            self.top_exact = False
            return
        # per-batch counts are summed a few batches at a time (a group-by over all the
        # values seen so far is what costs)
        self._counts.append(batch)
        self._counted += batch.num_rows
        if self._counted > (self.distinct.limit if self.distinct is not None else 100_000):
            self._sum_counts()

    def _sum_counts(self) -> None:
        if not self._counts:
            return
        parts = ([self.top] if self.top is not None else []) + self._counts
        summed = pa.concat_tables(parts).group_by("value").aggregate([("count", "sum")])
        self.top = summed.rename_columns(["value", "count"])
        self._counts, self._counted = [], 0

    # ----------------------------------------------------------------- result

    def result(self, sample: pa.ChunkedArray | None, *, pii_sample: int) -> ColumnProfile:
        if self.top_exact:
            self._sum_counts()
        non_null = self.rows - self.nulls
        sample_values = _non_null(sample)
        quantiles: dict[str, Any] = {}
        histogram: tuple[tuple[float, int], ...] = ()
        if self.numeric and sample_values is not None and len(sample_values):
            numbers = np.asarray(
                sample_values.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
            )
            numbers = numbers[np.isfinite(numbers)]
            if numbers.size:
                quantiles = {
                    key: float(v)
                    for key, v in zip(QUANTILES, np.quantile(numbers, list(QUANTILES.values())), strict=True)
                }
                histogram = _histogram(numbers, non_null, self._float(self.min))
        pii: tuple[PiiMatch, ...] = ()
        if self.textual and sample_values is not None and len(sample_values):
            pii = scan_pii(sample_values.slice(0, pii_sample))
        top_values = self._top_values(sample_values, non_null)
        redact = bool(pii)
        return ColumnProfile(
            name=self.name,
            dtype=self.dtype,
            row_count=self.rows,
            null_count=self.nulls,
            distinct_count=self.distinct.count() if self.distinct is not None else None,
            distinct_exact=self.distinct.exact if self.distinct is not None else True,
            min=None if redact or self.min is None else plain_value(self.min.as_py()),
            max=None if redact or self.max is None else plain_value(self.max.as_py()),
            mean=self.mean if self.numeric and self.n else None,
            stddev=math.sqrt(self.m2 / (self.n - 1)) if self.numeric and self.n > 1 else None,
            quantiles=quantiles,
            top_values=() if redact else top_values,
            top_values_exact=self.top_exact,
            histogram=histogram,
            pii=pii,
            sample_size=len(sample_values) if sample_values is not None else None,
        )

    @staticmethod
    def _float(scalar: pa.Scalar | None) -> float | None:
        if scalar is None:
            return None
        value = scalar.as_py()
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    def _top_values(self, sample_values: pa.Array | None, non_null: int) -> tuple[tuple[str, int], ...]:
        if not self.counts_values:
            return ()
        if self.top is not None:
            table = self.top
            scale = 1.0
        elif sample_values is not None and len(sample_values):
            counts = pc.value_counts(sample_values)
            table = pa.table({"value": counts.field(0), "count": counts.field(1)})
            scale = non_null / len(sample_values)
        else:
            return ()
        if not len(table) or pc.max(table.column("count")).as_py() < 2:
            return ()  # no value repeats: nothing worth calling "top"
        order = pc.select_k_unstable(table, self.top_k, [("count", "descending")])
        top = table.take(order).sort_by([("count", "descending"), ("value", "ascending")])
        return tuple(
            (str(plain_value(v))[:MAX_TOP_VALUE_CHARS], round(c * scale))
            for v, c in zip(top.column("value").to_pylist(), top.column("count").to_pylist(), strict=True)
        )


def _non_null(sample: pa.ChunkedArray | None) -> pa.Array | None:
    if sample is None:
        return None
    arr = sample.combine_chunks() if isinstance(sample, pa.ChunkedArray) else sample
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr.drop_null() if arr.null_count else arr


def _histogram(
    numbers: np.ndarray, non_null: int, low: float | None, bins: int = 20
) -> tuple[tuple[float, int], ...]:
    """Equal-frequency bins from the sample, counts scaled to the column's non-null count.

    The first lower bound is the column's exact minimum; the last bin ends at its maximum.
    """
    edges = np.unique(np.quantile(numbers, np.linspace(0.0, 1.0, bins + 1)))
    if edges.size == 1:
        return ((float(low if low is not None else edges[0]), non_null),)
    counts, _ = np.histogram(numbers, bins=edges)
    scale = non_null / numbers.size
    lowers = edges[:-1].astype(float)
    if low is not None and math.isfinite(low):
        lowers[0] = min(low, lowers[0])
    return tuple((float(b), round(float(c) * scale)) for b, c in zip(lowers, counts, strict=True))
