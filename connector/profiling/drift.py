"""Drift between two profiles of the same data.

Numeric columns: the population stability index (PSI) over the previous profile's
histogram bins, the current column's share of each bin estimated by linear
interpolation within its own histogram. Categorical columns: the frequency shift,
the total variation distance between the two top-value distributions (with
everything else pooled as one "other" category), 0 (same) to 1 (disjoint).
"""

from __future__ import annotations

import math
from bisect import bisect_right

from featmesh.connector.model import ColumnProfile, DatasetProfile, FeatureDrift

EPSILON = 1e-4
"""Floor for a bin's share, so an empty bin does not make the PSI infinite."""
MAX_CATEGORY_DISTINCT_RATIO = 0.5
"""Above this share of distinct values a column is an identifier, not a category."""


def compute_drift(previous: DatasetProfile, current: DatasetProfile) -> list[FeatureDrift]:
    """Drift of every column profiled in both, in the current profile's column order."""
    drifts = []
    for column in current.columns:
        before = previous.column(column.name)
        if before is None:
            continue
        if before.histogram and column.histogram:
            value = psi(before, column)
            if value is not None:
                drifts.append(
                    FeatureDrift(
                        column=column.name,
                        metric="psi",
                        value=round(value, 6),
                        previous_profiled_at=previous.profiled_at,
                    )
                )
        elif before.top_values and column.top_values and _categorical(before) and _categorical(column):
            drifts.append(
                FeatureDrift(
                    column=column.name,
                    metric="frequency_shift",
                    value=round(frequency_shift(before, column), 6),
                    previous_profiled_at=previous.profiled_at,
                )
            )
    return drifts


def _categorical(column: ColumnProfile) -> bool:
    ratio = column.distinct_ratio
    return ratio is None or ratio <= MAX_CATEGORY_DISTINCT_RATIO or column.dtype == "bool"


def _edges(column: ColumnProfile) -> tuple[list[float], list[int]] | None:
    lowers = [b for b, _ in column.histogram]
    counts = [c for _, c in column.histogram]
    try:
        upper = float(column.max) if column.max is not None else lowers[-1]
    except (TypeError, ValueError):
        return None
    return [*lowers, max(upper, lowers[-1])], counts


def _cdf(edges: list[float], counts: list[int], x: float) -> float:
    """Share of values at or below ``x``, linear within each bin."""
    total = sum(counts)
    if total == 0 or x < edges[0]:
        return 0.0
    if x >= edges[-1]:
        return 1.0
    i = min(bisect_right(edges, x) - 1, len(counts) - 1)
    below = sum(counts[:i])
    width = edges[i + 1] - edges[i]
    inside = counts[i] * ((x - edges[i]) / width if width > 0 else 1.0)
    return (below + inside) / total


def psi(previous: ColumnProfile, current: ColumnProfile) -> float | None:
    """PSI of ``current`` against ``previous`` (None if either histogram is empty)."""
    before, after = _edges(previous), _edges(current)
    if before is None or after is None:
        return None
    edges, counts = before
    total = sum(counts)
    if total == 0 or sum(after[1]) == 0:
        return None
    value = 0.0
    cuts = [_cdf(after[0], after[1], e) for e in edges[1:-1]]
    shares = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
    for count, actual in zip(counts, shares, strict=True):
        expected = max(count / total, EPSILON)
        actual = max(actual, EPSILON)
        value += (actual - expected) * math.log(actual / expected)
    return value


def _shares(column: ColumnProfile) -> dict[str | None, float]:
    non_null = column.row_count - column.null_count
    if non_null <= 0:
        return {}
    shares: dict[str | None, float] = {v: n / non_null for v, n in column.top_values}
    shares[None] = max(0.0, 1.0 - sum(shares.values()))  # everything else
    return shares


def frequency_shift(previous: ColumnProfile, current: ColumnProfile) -> float:
    before, after = _shares(previous), _shares(current)
    keys = set(before) | set(after)
    return 0.5 * sum(abs(before.get(k, 0.0) - after.get(k, 0.0)) for k in keys)
