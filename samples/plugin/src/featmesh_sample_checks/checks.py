"""Two checks a platform team might add to its mesh."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featmesh.connector.model import FeatureSet
from featmesh.policies import PASS, Outcome, check, fail
from featmesh.policies.context import CheckContext


@check("consumers_declared", dimension="lineage")
def consumers_declared(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set names at least one consumer (a model, a service or a job).

    Fails:  no ``consumers:``
    Passes: ``consumers: [fraud-scoring-service]``
    """
    if fs.consumers:
        return PASS
    return fail(f"feature set '{fs.name}' names no consumer; nobody will be told when it changes")


@check(
    "cost_center_tagged",
    dimension="ownership",
    params={"pattern": {"type": "string", "format": "regex", "default": ".+"}},
)
def cost_center_tagged(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set carries a ``cost_center`` tag in the finance department's format.

    Fails:  no ``cost_center`` tag, or ``cost_center: payments`` with pattern ``^[0-9]{4}$``
    Passes: ``tags: {cost_center: "4711"}``
    """
    value = fs.tags.get("cost_center")
    if value is None:
        return fail(f"feature set '{fs.name}' has no cost_center tag")
    if not p["pattern"].fullmatch(value):
        return fail(f"cost_center '{value}' does not match {p['pattern'].pattern}")
    return PASS
