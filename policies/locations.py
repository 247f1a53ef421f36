"""Where a finding is fixed: the key of the definition each built-in check is about.

A result is placed at that key (``owner``, ``ttl``, ``features.NAME.dtype``) when the
reader recorded its line, else at the feature's own line (a feature rule), else at the
set's (its key ``""`` where the definition is written apart from the file it was read
from: a Feast view's call in the repo's Python). A key a set inherits (a manifest store
block's ``owner``) is recorded with the inherited line, so the finding points at the block
to change.
"""

from __future__ import annotations

from featmesh.connector.model import Origin

KEY_OF_CHECK = {
    "set_description": "description",
    "feature_description": "description",
    "owner_present": "owner",
    "owner_principal": "owner",
    "domain_declared": "domain",
    "source_resolves": "sources",
    "stale_derived": "derived_from",
    "set_naming": "name",
    "feature_naming": "name",
    "dtype_allowlist": "dtype",
    "join_keys_typed": "entities",
    "join_key_type_consistent": "entities",
    "timestamp_declared": "timestamp_field",
    "freshness_lag": "timestamp_field",
    "ttl_declared": "ttl",
    "version_present": "version",
    "tag_vocabulary": "tags",
    "pii_tagged_by_name": "tags",
    "pii_tagged_by_sample": "tags",
    "feature_meaning_conflict": "dtype",
    "duplicate_engineering": "source_columns",
}


def place(origin: Origin | None, check: str, feature: str | None) -> Origin | None:
    """``origin`` moved to the line where a finding of ``check`` is fixed."""
    if origin is None or not origin.keys:
        return origin
    key = KEY_OF_CHECK.get(check, "")
    if feature is not None:
        prefix = f"features.{feature}"
        return origin.at(*((f"{prefix}.{key}",) if key else ()), prefix, "")
    return origin.at(key, "") if key else origin.at("")
