"""Data quality and freshness, from a profile of the data behind a feature set.

Every check here is not applicable (skipped, not failed) where no profile exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from featmesh.connector.model import ColumnProfile, Feature, FeatureSet
from featmesh.policies.context import CheckContext
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail, not_applicable

NO_PROFILE = "no profile of the feature set's data"
NOT_PROFILED = "column not in the profile"

FeatureResults = Iterator[tuple[str, Outcome]]


def _profiled(fs: FeatureSet, ctx: CheckContext) -> Iterator[tuple[Feature, ColumnProfile | None]] | None:
    columns = ctx.columns(fs)
    if columns is None:
        return None
    return ((f, columns.get(f.name)) for f in fs.features)


@check(
    "null_fraction",
    target="feature",
    dimension="quality",
    params={"max": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05}},
)
def null_fraction(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome | FeatureResults:
    """A feature's share of nulls stays under the maximum.

    Fails:  ``max: 0.05`` and the profile counts 1,200 nulls in 10,000 rows (12%)
    Passes: 300 nulls in 10,000 rows (3%)
    Fix: fill or filter the nulls upstream, or raise the rule's ``max`` in your pack
    where nulls are expected.
    """
    profiled = _profiled(fs, ctx)
    if profiled is None:
        return not_applicable(NO_PROFILE)
    return _null_fraction(profiled, p["max"])


def _null_fraction(profiled: Iterator[tuple[Feature, ColumnProfile | None]], limit: float) -> FeatureResults:
    for feature, column in profiled:
        if column is None or column.row_count == 0:
            yield feature.name, not_applicable(NOT_PROFILED)
        elif column.null_fraction > limit:
            yield (
                feature.name,
                fail(
                    f"feature '{feature.name}' is {column.null_fraction:.1%} null "
                    f"({column.null_count} of {column.row_count}), more than {limit:.1%}"
                ),
            )


@check(
    "distinct_values",
    target="feature",
    dimension="quality",
    params={
        "min_count": {
            "type": "integer",
            "minimum": 1,
            "default": 2,
            "description": "Fewest distinct non-null values (2: not a constant).",
        },
        "min_ratio": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0,
            "description": "Lowest distinct / non-null ratio (0: not checked).",
        },
    },
)
def distinct_values(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome | FeatureResults:
    """A feature is not constant, and its distinct ratio is at least the minimum.

    Fails:  every non-null value of ``is_active`` is ``true`` (1 distinct value)
    Passes: ``is_active`` holds both ``true`` and ``false``
    Fix: drop a feature that never varies, or check the pipeline that computes it.
    """
    profiled = _profiled(fs, ctx)
    if profiled is None:
        return not_applicable(NO_PROFILE)
    return _distinct(profiled, p["min_count"], p["min_ratio"])


def _distinct(
    profiled: Iterator[tuple[Feature, ColumnProfile | None]], min_count: int, min_ratio: float
) -> FeatureResults:
    for feature, column in profiled:
        ratio = column.distinct_ratio if column is not None else None
        if column is None or column.distinct_count is None or ratio is None:
            yield feature.name, not_applicable(NOT_PROFILED)
        elif column.distinct_count < min_count:
            yield (
                feature.name,
                fail(
                    f"feature '{feature.name}' has {column.distinct_count} distinct value(s), "
                    f"fewer than {min_count}"
                ),
            )
        elif ratio < min_ratio:
            yield (
                feature.name,
                fail(f"feature '{feature.name}' has a distinct ratio of {ratio:.4f}, under {min_ratio}"),
            )


def _expected_range(
    feature: Feature, ranges: Mapping[str, Mapping[str, float]]
) -> tuple[float | None, float | None]:
    low = high = None
    for pattern, bounds in ranges.items():
        if fnmatchcase(feature.name, pattern):
            low, high = bounds.get("min"), bounds.get("max")
            break
    try:
        if "valid_min" in feature.tags:
            low = float(feature.tags["valid_min"])
        if "valid_max" in feature.tags:
            high = float(feature.tags["valid_max"])
    except ValueError:
        pass  # a tag that is not a number states no range
    return low, high


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@check(
    "value_range",
    target="feature",
    dimension="quality",
    params={
        "ranges": {
            "type": "object",
            "description": "Feature name glob -> {min, max}. Tags valid_min/valid_max win.",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
            },
            "default": {},
        }
    },
)
def value_range(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome | FeatureResults:
    """A numeric feature's profiled min and max lie in its expected range.

    The range comes from the feature's ``valid_min`` / ``valid_max`` tags or the rule's
    ``ranges``; features with neither are not applicable.
    Fails:  ``tags: {valid_min: 0, valid_max: 1}`` and the profile's max is 3.5
    Passes: the profile's min is 0.0 and max 0.97
    Fix: fix the values upstream, or correct the feature's ``valid_min`` / ``valid_max``
    tags.
    """
    ranges = p["ranges"]
    if not ranges and not any("valid_min" in f.tags or "valid_max" in f.tags for f in fs.features):
        return not_applicable("no feature of the set has an expected range")
    profiled = _profiled(fs, ctx)
    if profiled is None:
        return not_applicable(NO_PROFILE)
    return _in_range(profiled, ranges)


def _in_range(
    profiled: Iterator[tuple[Feature, ColumnProfile | None]], ranges: Mapping[str, Any]
) -> FeatureResults:
    for feature, column in profiled:
        low, high = _expected_range(feature, ranges)
        if low is None and high is None:
            yield feature.name, not_applicable("no expected range")
            continue
        seen_low = _number(column.min) if column else None
        seen_high = _number(column.max) if column else None
        if column is None or (seen_low is None and seen_high is None):
            yield feature.name, not_applicable(NOT_PROFILED)
            continue
        problems = []
        if low is not None and seen_low is not None and seen_low < low:
            problems.append(f"min {seen_low:g} < {low:g}")
        if high is not None and seen_high is not None and seen_high > high:
            problems.append(f"max {seen_high:g} > {high:g}")
        if problems:
            yield (
                feature.name,
                fail(f"feature '{feature.name}' is out of its range: {', '.join(problems)}"),
            )


@check(
    "freshness_lag",
    dimension="freshness",
    params={
        "max_lag_seconds": {
            "type": ["integer", "null"],
            "minimum": 1,
            "default": None,
            "description": "Largest lag allowed; null: the set's TTL, else fallback_seconds.",
        },
        "fallback_seconds": {"type": "integer", "minimum": 1, "default": 172800},
    },
)
def freshness_lag(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The newest row of the set's data is recent enough (its TTL, or the limit given).

    Fails:  ``ttl: 1d`` and the newest ``event_ts`` in the data is 3 days old
    Passes: the newest ``event_ts`` is 2 hours old
    Fix: run the pipeline that materialises the set, or set a ``ttl`` that matches how
    often it runs.
    """
    profile = ctx.profile(fs)
    if profile is None:
        return not_applicable(NO_PROFILE)
    if profile.freshness_lag_seconds is None:
        return not_applicable("the profile has no timestamp to measure freshness by")
    limit = p["max_lag_seconds"] or fs.ttl_seconds or p["fallback_seconds"]
    lag = profile.freshness_lag_seconds
    if lag <= limit:
        return PASS
    return fail(f"newest data is {lag / 3600:.1f} h old, more than the {limit / 3600:.1f} h allowed")


@check(
    "feature_drift",
    target="feature",
    dimension="quality",
    params={
        "max_psi": {
            "type": "number",
            "minimum": 0,
            "default": 0.25,
            "description": "Largest population stability index of a numeric feature (0.25: a major shift).",
        },
        "max_shift": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.2,
            "description": "Largest frequency shift (0..1) of a categorical feature.",
        },
    },
)
def feature_drift(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome | FeatureResults:
    """A feature's distribution did not shift between its last two profiles.

    Fails:  ``amount_eur`` has a population stability index of 0.41 against the previous
    profile (``max_psi: 0.25``), or ``channel``'s category shares moved by 0.35
    Passes: PSI 0.03; a frequency shift of 0.05
    Not applicable without two profiles of the set's data.
    Fix: check the upstream data and the pipeline for the shift; retrain what reads the
    feature if the shift is real.
    """
    drifts = ctx.feature_drift(fs)
    if not drifts:
        return not_applicable("no earlier profile to compare with")
    return _drift(fs, {d.column: d for d in drifts}, p["max_psi"], p["max_shift"])


def _drift(fs: FeatureSet, by_column: Mapping[str, Any], max_psi: float, max_shift: float) -> FeatureResults:
    for feature in fs.features:
        column = (feature.source_columns or (feature.name,))[0]
        drift = by_column.get(column) or by_column.get(feature.name)
        if drift is None:
            yield feature.name, not_applicable("no drift measured for this column")
            continue
        limit = max_psi if drift.metric == "psi" else max_shift
        if drift.value > limit:
            yield (
                feature.name,
                fail(
                    f"feature '{feature.name}' drifted: {drift.metric} {drift.value:.3f} against the "
                    f"profile of {drift.previous_profiled_at}, more than {limit}"
                ),
            )
        else:
            yield feature.name, PASS
