"""Ownership: who answers for a feature set, and in which domain it lives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featmesh.connector.model import FeatureSet
from featmesh.policies.context import CheckContext
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail


@check("owner_present", dimension="ownership")
def owner_present(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set names an owner.

    Fails:  ``owner:`` left out (and no store-wide owner either).
    Passes: ``owner: payments-data@contoso.com``
    Fix: add ``owner:`` to the set, or once for every set to the store block (a team
    address or ``group:NAME``).
    """
    if fs.owner and fs.owner.strip():
        return PASS
    return fail(f"feature set '{fs.name}' has no owner")


@check(
    "owner_principal",
    dimension="ownership",
    params={
        "pattern": {
            "type": "string",
            "format": "regex",
            "default": r"^([\w.+-]+@[\w-]+(\.[\w-]+)+|(group|team|sp):[\w.-]+)$",
            "description": "A full match of the owner against this regex is required.",
        }
    },
)
def owner_principal(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The owner is a principal the directory knows (by default an e-mail or group:NAME).

    Fails:  ``owner: bob`` (a first name nobody can page)
    Passes: ``owner: payments-data@contoso.com`` or ``owner: group:payments-data``
    Not applicable when there is no owner (``owner_present`` reports that).
    Fix: set ``owner:`` to an address or group the directory knows
    (``payments-data@contoso.com``, ``group:payments-data``).
    """
    if not fs.owner:
        return PASS
    if p["pattern"].fullmatch(fs.owner.strip()):
        return PASS
    return fail(f"owner '{fs.owner}' does not match the principal pattern {p['pattern'].pattern}")


@check(
    "domain_declared",
    dimension="ownership",
    params={
        "accept": {
            "type": "array",
            "items": {"enum": ["config", "declared", "tag", "store"]},
            "default": ["config", "declared", "tag"],
            "description": "Which domain rules count as a declaration (see DESIGN 'Domains').",
        }
    },
)
def domain_declared(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """The feature set's domain is declared, not guessed from the store's name.

    Fails:  a set whose domain only comes from its store's grouping (rule ``store``)
    Passes: ``domain: payments`` in the manifest, a ``domain`` tag, or the config's mapping
    Fix: add ``domain:`` to the set or its store block, a ``domain`` tag, or map the
    source to its domain in featmesh.yaml (``domains:``).
    """
    if fs.domain and fs.domain_rule in p["accept"]:
        return PASS
    if not fs.domain:
        return fail(f"feature set '{fs.name}' has no domain")
    return fail(
        f"domain '{fs.domain}' of '{fs.name}' is guessed from its store "
        f"(rule '{fs.domain_rule}'), not declared"
    )
