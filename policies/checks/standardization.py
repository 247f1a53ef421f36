"""Standardization: names, types, keys, time semantics, versions and tags."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from featmesh.connector.model import (
    BATCH,
    DERIVED,
    PASSTHROUGH,
    SCALAR_DTYPES,
    STREAM,
    Feature,
    FeatureSet,
    is_known_dtype,
)
from featmesh.policies.context import CheckContext
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail, not_applicable

SNAKE_CASE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


@check(
    "set_naming",
    dimension="standardization",
    params={"pattern": {"type": "string", "format": "regex", "default": SNAKE_CASE}},
)
def set_naming(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set's name matches the naming pattern (snake_case by default).

    Fails:  ``name: CardTxn-7d``
    Passes: ``name: card_txn_7d``
    Fix: rename the set to match the pattern (``card_txn_7d``), as a new version if it
    is published.
    """
    if p["pattern"].fullmatch(fs.name):
        return PASS
    return fail(f"feature set name '{fs.name}' does not match {p['pattern'].pattern}")


@check(
    "feature_naming",
    target="feature",
    dimension="standardization",
    params={"pattern": {"type": "string", "format": "regex", "default": SNAKE_CASE}},
)
def feature_naming(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Iterator[tuple[str, Outcome]]:
    """Every feature's name matches the naming pattern (snake_case by default).

    Fails:  ``name: TxnCount``
    Passes: ``name: txn_count``
    Fix: rename the feature to match the pattern (``txn_count``).
    """
    match = p["pattern"].fullmatch
    for feature in fs.features:
        if not match(feature.name):
            yield (
                feature.name,
                fail(f"feature name '{feature.name}' does not match {p['pattern'].pattern}"),
            )


@cache
def _known(dtypes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for t in dtypes if is_known_dtype(t))


@check(
    "dtype_allowlist",
    target="feature",
    dimension="standardization",
    params={
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "default": [*SCALAR_DTYPES, *(f"array<{t}>" for t in SCALAR_DTYPES)],
            "description": "featmesh dtypes allowed for features; 'unknown' never is.",
        }
    },
)
def dtype_allowlist(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Iterator[tuple[str, Outcome]]:
    """Every feature has a known dtype from the allowlist (no map, struct or unknown by default).

    Fails:  ``dtype: struct`` or a store type featmesh could not map (``unknown``)
    Passes: ``dtype: float64``
    Fix: declare a scalar ``dtype:`` from the allowlist (split a struct into features of
    their own).
    """
    allowed = _known(p["allowed"])
    for feature in fs.features:
        dtype = feature.dtype
        if dtype in allowed:
            continue
        if untyped(feature):
            yield feature.name, not_applicable("the feature declares no type (rule feature-type-declared)")
            continue
        raw = f" (store type {feature.raw_type!r})" if feature.raw_type and dtype == "unknown" else ""
        yield feature.name, fail(f"feature '{feature.name}' has dtype '{dtype}'{raw}, not allowed")


def untyped(feature: Feature) -> bool:
    """The store declares no type for the feature (a Feathr feature without ``type``:
    Feathr infers it when the feature is computed), as opposed to a type featmesh
    cannot map."""
    return feature.dtype == "unknown" and not feature.raw_type


@check("feature_type_declared", target="feature", dimension="standardization")
def feature_type_declared(
    fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext
) -> Iterator[tuple[str, Outcome]]:
    """Every feature declares its type, so consumers know it before it is computed.

    Fails:  a Feathr feature ``f_trip_distance: {def: "trip_distance"}`` with no ``type``
    (Feathr infers it at run time)
    Passes: ``f_trip_distance: {def: "trip_distance", type: FLOAT}``
    Fix: declare the feature's ``type`` in its definition.
    """
    for feature in fs.features:
        if untyped(feature):
            yield feature.name, fail(f"feature '{feature.name}' declares no type")


@check("join_keys_typed", dimension="standardization")
def join_keys_typed(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set declares its join keys, each with a known type.

    Fails:  no ``entities:`` (no join key), or an entity key without ``dtype``
    Passes: ``entities: [customer]``, the entity ``customer`` having
    ``join_keys: [{name: customer_id, dtype: int64}]``
    Fix: list the set's ``entities:``, each entity's ``join_keys`` with a ``dtype``.
    """
    if not fs.join_keys:
        return fail(f"feature set '{fs.name}' declares no join key")
    untyped = [k.name for k in fs.join_keys if not is_known_dtype(k.dtype)]
    if untyped:
        return fail(f"join keys without a known type: {', '.join(untyped)}")
    return PASS


TIMED = (BATCH, STREAM, PASSTHROUGH, DERIVED)
"""Set kinds with event time: on-demand (request-time) sets have no timestamp or TTL."""


@check("timestamp_declared", dimension="standardization", kinds=TIMED)
def timestamp_declared(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set names its event timestamp field (point-in-time joins need it).

    Fails:  no ``timestamp_field``
    Passes: ``timestamp_field: event_ts``
    Fix: add ``timestamp_field:`` naming the event-time column of the set's source.
    """
    if fs.timestamp_field or any(s.timestamp_field for s in fs.sources):
        return PASS
    return fail(f"feature set '{fs.name}' declares no timestamp field")


@check(
    "ttl_declared",
    dimension="freshness",
    kinds=TIMED,
    params={
        "max_seconds": {
            "type": ["integer", "null"],
            "minimum": 1,
            "default": None,
            "description": "Longest TTL allowed (null: any).",
        }
    },
)
def ttl_declared(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set declares a TTL, no longer than the maximum when one is set.

    Fails:  no ``ttl``, or ``ttl: 365d`` with ``max_seconds: 2592000``
    Passes: ``ttl: 7d``
    Fix: add ``ttl:`` (``7d``), no longer than the pack's maximum.
    """
    if not fs.ttl_seconds:
        return fail(f"feature set '{fs.name}' declares no TTL")
    limit = p["max_seconds"]
    if limit is not None and fs.ttl_seconds > limit:
        return fail(f"TTL {fs.ttl_seconds}s is longer than the {limit}s allowed")
    return PASS


@check("version_present", dimension="standardization", versioned=True)
def version_present(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set carries a version, so consumers can pin it.

    Only for stores that version their sets (Azure ML, manifests); a Feast view or a
    Feathr anchor has no version to give, and featmesh's own revision names its
    definitions instead.

    Fails:  no ``version`` (the set is published as ``@latest``)
    Passes: ``version: 2``
    Fix: add ``version:`` to the set (``version: 1``).
    """
    if fs.version:
        return PASS
    return fail(f"feature set '{fs.name}' has no version")


@check(
    "tag_vocabulary",
    dimension="standardization",
    params={
        "keys": {
            "type": "array",
            "items": {"type": "string"},
            "default": [
                "domain",
                "pii",
                "pii_type",
                "team",
                "cost_center",
                "tier",
                "criticality",
                "unit",
                "semantic_type",
                "valid_min",
                "valid_max",
                "status",
            ],
            "description": "Tag keys allowed on feature sets and features.",
        },
        "values": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {"tier": ["bronze", "silver", "gold"], "pii": ["true", "false"]},
            "description": "For some keys, the values allowed.",
        },
    },
)
def tag_vocabulary(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """Tags on the set and its features come from the controlled vocabulary.

    Fails:  ``tags: {Team: payments}`` (unknown key) or ``tags: {tier: platinum}``
    Passes: ``tags: {team: payments, tier: gold}``
    Fix: use tag keys and values from the vocabulary in the pack (``tier: gold``), or
    add the term to the pack.
    """
    keys = frozenset(p["keys"])
    values: Mapping[str, list[str]] = p["values"]
    problems: list[str] = []
    for where, tags in [("set", fs.tags), *((f.name, f.tags) for f in fs.features)]:
        for key, value in tags.items():
            if key not in keys:
                problems.append(f"{where}: tag '{key}' is not in the vocabulary")
            elif key in values and value not in values[key]:
                problems.append(f"{where}: tag {key}={value!r} is not one of {values[key]}")
    if not problems:
        return PASS
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return fail("; ".join(problems[:3]) + more)
