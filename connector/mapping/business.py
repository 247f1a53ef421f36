"""featmesh's business metadata: the policy verdict as managed attributes.

Purview's portal does not show a classification's attributes, so the verdict a
``FEATMESH.COMPLIANT`` / ``FEATMESH.NON_COMPLIANT`` classification carries is also
written as the ``featmesh`` business metadata group (``typedefs/business_metadata.json``),
which stewards see on the asset and filter on in search: whether it is compliant, its
score and grade, the pack(s) and version(s) evaluated and when. Entities carry it as
Atlas's ``businessAttributes``: ``{"featmesh": {"score": 87.5, ...}}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

GROUP = "featmesh"
"""The business metadata group featmesh owns (the only one it writes or compares)."""
COMPLIANT = "FEATMESH.COMPLIANT"
VERDICTS = (COMPLIANT, "FEATMESH.NON_COMPLIANT")
COPIED = ("score", "grade", "policyPack", "policyPackVersion", "evaluatedAt")
"""The verdict classification's attributes the group repeats."""
VOLATILE = frozenset({"evaluatedAt"})
"""Changes with every run: a group whose other values are unchanged is not rewritten."""


def verdict_metadata(classifications: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """The ``businessAttributes`` of an entity with these classifications, or None when
    none of them is a featmesh verdict.

    >>> verdict_metadata([{"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": 90.0}}])
    {'featmesh': {'compliant': True, 'score': 90.0}}
    """
    for classification in classifications:
        name = classification.get("typeName")
        if name not in VERDICTS:
            continue
        attributes = classification.get("attributes") or {}
        values: dict[str, Any] = {"compliant": name == COMPLIANT}
        values.update({k: attributes[k] for k in COPIED if attributes.get(k) is not None})
        return {GROUP: values}
    return None


def owned_values(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The featmesh group an entity (desired or held) carries, volatile values left out."""
    group = (entity.get("businessAttributes") or {}).get(GROUP)
    if not isinstance(group, Mapping):
        return None
    return {k: v for k, v in group.items() if k not in VOLATILE and v is not None}
