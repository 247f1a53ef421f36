"""Integrity of definitions: one definition per set version, and a version that names
one definition only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featmesh.connector.model import PREVIOUS_HASH, FeatureSet, Origin
from featmesh.policies.context import CheckContext
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, Related, fail

CONFLICT = "definition_conflict"
"""``FeatureSet.extra`` key a reader fills when files of the store declare the same
set version with different definitions: the message names the files."""
CONFLICT_AT = "definition_conflict_at"
"""Beside it, ``[path, line]`` of each other file declaring the version (SARIF
``relatedLocations``)."""


@check("definition_consistent", dimension="standardization")
def definition_consistent(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """Every file that declares this set version declares the same definition.

    Fails:  two Azure ML asset files both say ``name: transactions``, ``version: "1"``
    but give different descriptions or entities (which one the store holds depends
    on which was applied last)
    Passes: several asset files for ``transactions:1`` that differ only in
    ``materialization_settings`` (merged: the last file's settings win)
    Fix: make the files agree on the definition, or give one of them a new ``version``.
    """
    conflict = fs.extra.get(CONFLICT)
    if conflict:
        related = tuple(
            Related(fs.qualified_name, Origin(path=str(path), line=line if isinstance(line, int) else None))
            for path, line in fs.extra.get(CONFLICT_AT) or ()
        )
        return fail(str(conflict), related)
    return PASS


@check("version_unchanged", dimension="standardization", versioned=True)
def version_unchanged(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """A set version keeps the definition it was first published with.

    A model trained on ``accounts:1`` cannot be reproduced when ``accounts:1`` later
    means something else: a changed definition needs a new version. Compared with the
    definition the catalog holds (``check --catalog``) or the last scan recorded.
    Fails:  ``accounts`` version 1 gains a feature and keeps ``version: "1"``
    Passes: the same change published as ``version: "2"``
    Fix: give the changed definition a new ``version`` (the old one stays reproducible).
    """
    previous = fs.extra.get(PREVIOUS_HASH)
    if previous and previous != fs.content_hash:
        version = fs.version or "latest"
        return fail(
            f"feature set '{fs.name}' version {version} changed its definition without a new "
            f"version (published {str(previous)[:12]}, now {fs.content_hash[:12]})"
        )
    return PASS
