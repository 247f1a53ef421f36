"""Lineage: every feature set leads back to data it is computed from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featmesh.connector.model import BATCH, DERIVED, ON_DEMAND, PASSTHROUGH, STREAM, FeatureSet
from featmesh.policies.context import CheckContext, Mesh
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail, not_applicable


def resolves(fs: FeatureSet, mesh: Mesh, seen: frozenset[str] = frozenset()) -> bool:
    """True when the set has a source, or derives from a set in the mesh that resolves."""
    if fs.sources:
        return True
    seen = seen | {fs.qualified_name}
    for ref in fs.derived_from:
        qn = ref.qualified_name
        parent = mesh.by_qn.get(qn)
        if parent is not None and qn not in seen and resolves(parent, mesh, seen):
            return True
    return False


def request_time_only(fs: FeatureSet, mesh: Mesh, seen: frozenset[str] = frozenset()) -> bool:
    """True for a passthrough set, and for a derived set all of whose parents in the
    mesh are (computed from the observation data, so no dataset to lead back to)."""
    if fs.kind == PASSTHROUGH:
        return True
    if fs.sources or not fs.derived_from:
        return False
    seen = seen | {fs.qualified_name}
    parents = [mesh.by_qn.get(r.qualified_name) for r in fs.derived_from]
    return all(
        p is not None and p.qualified_name not in seen and request_time_only(p, mesh, seen) for p in parents
    )


@check("source_resolves", dimension="lineage", kinds=(BATCH, STREAM, ON_DEMAND, DERIVED))
def source_resolves(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set resolves to at least one source data product.

    Its own ``sources``, or (for a derived set) a parent in the mesh that resolves.
    Fails:  no ``sources`` and no ``derived_from``; or ``derived_from`` a set that has
    no sources itself
    Passes: ``sources: [{uri: "abfss://raw@lake.dfs.core.windows.net/cards/txn"}]``
    Fix: add ``sources:`` (the table or path the set is computed from), or
    ``derived_from:`` a set that has sources.
    """
    if resolves(fs, ctx.mesh):
        return PASS
    if request_time_only(fs, ctx.mesh):
        return not_applicable("derived only from passthrough sets (observation data), no source to resolve")
    if fs.derived_from:
        parents = ", ".join(r.qualified_name for r in fs.derived_from)
        return fail(f"no source data product is reachable through the parents ({parents})")
    return fail(f"feature set '{fs.name}' names no source and derives from no feature set")
