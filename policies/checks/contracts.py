"""A feature set against the data contracts of the products it reads (ODCS v3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featmesh.connector.model import FeatureSet
from featmesh.policies.context import CheckContext
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail, not_applicable

_INTS = ("int8", "int16", "int32", "int64")
_FLOATS = ("float32", "float64", "decimal")


def compatible(column: str, feature: str) -> bool:
    """Can a feature of dtype ``feature`` hold a column of dtype ``column`` unchanged?
    The same dtype, or a numeric widening (an integer into a wider integer or any float)."""
    if "unknown" in (column, feature) or column == feature:
        return True
    if column in _INTS and feature in _INTS:
        return _INTS.index(feature) >= _INTS.index(column)
    if column in _INTS and feature in _FLOATS:
        return True
    return column in _FLOATS and feature in _FLOATS and feature != "float32"


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@check("contract_conformance", dimension="lineage")
def contract_conformance(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set reads its sources as their data contracts promise them.

    For each source a contract covers (matched on the contract's ``physicalName``): the
    columns read exist in the contract; a feature passing a column through unchanged (same
    name, no transformation) can hold the column's type; the set's TTL is no shorter than the
    contract's freshness promise; the contract is not deprecated or retired.
    Fails:  reads ``channel`` from ``main.payments.card_transactions``, whose contract has
    no such column; or a TTL of ``12h`` on a product promising freshness within ``1d``
    Passes: every column read is in the active contract, types fit, TTL ``2d`` >= ``1d``
    Not applicable when no contract covers any of the set's sources.
    Fix: read only columns the contract lists, cast where the types differ, set a TTL of
    at least the contract's freshness, or move to the contract's active version.
    """
    covered = [(s, ctx.contracts[s.uri]) for s in fs.sources if s.uri in ctx.contracts]
    if not covered:
        return not_applicable("no data contract covers its sources")
    problems = []
    for source, terms in covered:
        named = f"contract {terms.contract} {terms.version}"
        if terms.status in ("deprecated", "retired"):
            problems.append(f"{source.uri}: {named} is {terms.status}")
        read = list(dict.fromkeys(source.columns))
        if len(fs.sources) == 1:
            read += [c for f in fs.features for c in f.source_columns if c not in read]
        missing = [c for c in read if c not in terms.columns]
        if missing:
            problems.append(f"{source.uri}: reads {', '.join(missing)}, which {named} does not promise")
        for feature in fs.features:
            if tuple(feature.source_columns) != (feature.name,) or feature.transformation:
                continue  # only a feature that passes a column through unchanged
            column = feature.name
            dtype = terms.columns.get(column)
            if dtype is not None and not compatible(dtype, feature.dtype):
                problems.append(
                    f"{source.uri}: feature {feature.name} ({feature.dtype}) cannot hold column "
                    f"{column} ({dtype}) of {named}"
                )
        if (
            terms.freshness_seconds
            and fs.ttl_seconds is not None
            and fs.ttl_seconds < terms.freshness_seconds
        ):
            problems.append(
                f"{source.uri}: TTL {_duration(fs.ttl_seconds)} is shorter than the freshness "
                f"{_duration(terms.freshness_seconds)} {named} promises "
                "(rows expire before newer data is due)"
            )
    return fail("; ".join(problems)) if problems else PASS
