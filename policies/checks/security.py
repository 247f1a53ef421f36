"""Security: features that hold personal data must say so."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from featmesh.connector.model import Feature, FeatureSet
from featmesh.policies.context import CheckContext, tag_true
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, Outcome, fail, not_applicable

PII_NAMES = (
    r"(^|_)(e_?mail|phone|mobile|msisdn|ssn|social_security|passport|dob|birth_?date|"
    r"date_of_birth|first_?name|last_?name|full_?name|surname|street|address|post_?code|"
    r"zip_?code|ip_?addr(ess)?|iban|card_?number|national_id|tax_id|driver_?licen[cs]e)(_|$)"
)
TAG_KEYS = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 1,
    "default": ["pii", "pii_type"],
    "description": "Tag keys that mark a feature (or its whole set) as personal data.",
}


def _declared(feature: Feature, fs: FeatureSet, keys: list[str]) -> bool:
    """The feature carries a PII tag (true or false: a decision someone made), or its
    set says all of it is PII. A set-wide "false" does not vouch for each feature."""
    return any(k in feature.tags or tag_true(fs.tags, k) for k in keys)


def _marked(feature: Feature, fs: FeatureSet, keys: list[str]) -> bool:
    """A PII tag says yes on the feature or its set."""
    return any(tag_true(feature.tags, k) or tag_true(fs.tags, k) for k in keys)


@check(
    "pii_tagged_by_name",
    target="feature",
    dimension="security",
    params={
        "pattern": {
            "type": "string",
            "format": "regex",
            "default": PII_NAMES,
            "description": "Feature names (lower-cased) that look like personal data; searched.",
        },
        "tag_keys": TAG_KEYS,
    },
)
def pii_tagged_by_name(
    fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext
) -> Iterator[tuple[str, Outcome]]:
    """A feature whose name looks like personal data carries a PII tag.

    Fails:  ``name: customer_email`` without a ``pii`` tag
    Passes: ``name: customer_email``, ``tags: {pii: "true"}`` (or ``pii: "false"`` where
    the name misleads: an explicit tag is a decision someone made)
    Fix: add ``tags: {pii: "true"}`` to the feature, or ``pii: "false"`` where the name
    misleads.
    """
    search = p["pattern"].search
    keys = p["tag_keys"]
    for feature in fs.features:
        if search(feature.name.lower()) and not _declared(feature, fs, keys):
            yield (
                feature.name,
                fail(
                    f"feature '{feature.name}' looks like personal data by its name but has no "
                    f"{' or '.join(keys)} tag"
                ),
            )


@check(
    "pii_tagged_by_sample",
    target="feature",
    dimension="security",
    params={
        "min_share": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.1,
            "description": "Share of sampled values matching a PII pattern that counts.",
        },
        "tag_keys": TAG_KEYS,
    },
)
def pii_tagged_by_sample(
    fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext
) -> Outcome | Iterator[tuple[str, Outcome]]:
    """A feature whose sampled values look like personal data is tagged as PII.

    Fails:  a profile shows 80% of ``contact`` values match the e-mail pattern, and
    ``contact`` has no ``pii`` tag (or ``pii: "false"``)
    Passes: the same feature with ``tags: {pii: "true"}``
    Not applicable without a profile of the set's data.
    Fix: add ``tags: {pii: "true"}`` to the feature (and restrict who can read it).
    """
    columns = ctx.columns(fs)
    if columns is None:
        return not_applicable("no profile of the feature set's data")
    return _by_sample(fs, columns, p["min_share"], p["tag_keys"])


def _by_sample(
    fs: FeatureSet, columns: Mapping[str, Any], min_share: float, keys: list[str]
) -> Iterator[tuple[str, Outcome]]:
    for feature in fs.features:
        column = columns.get(feature.name)
        if column is None:
            yield feature.name, not_applicable("column not in the profile")
            continue
        hits = [m for m in column.pii if m.share >= min_share]
        if hits and not _marked(feature, fs, keys):
            seen = ", ".join(f"{m.pattern} {m.share:.0%} of {m.sampled}" for m in hits)
            yield (
                feature.name,
                fail(
                    f"feature '{feature.name}' holds values that look like personal data ({seen}) "
                    "but is not tagged as PII"
                ),
            )


_NON_WORD = re.compile(r"[^a-z0-9]+")


def _words(text: str) -> str:
    """Free text as one snake_case run (``"Date of birth"`` -> ``date_of_birth``), so
    the name patterns also find personal data a description speaks of."""
    return _NON_WORD.sub("_", text.lower()).strip("_")


@check(
    "pii_keys_tagged",
    dimension="security",
    params={
        "pattern": {
            "type": "string",
            "format": "regex",
            "default": PII_NAMES,
            "description": "Key, entity names and descriptions (lower-cased) that look like personal data.",
        },
        "min_share": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.1,
            "description": "Share of a key column's sampled values matching a PII pattern that counts.",
        },
        "tag_keys": TAG_KEYS,
    },
)
def pii_keys_tagged(fs: FeatureSet, p: Mapping[str, Any], ctx: CheckContext) -> Outcome:
    """A set keyed by personal data (its join keys, its entities) carries a PII tag.

    Looks at each join key's name and description, each entity's name and, with a
    profile, the key columns' sampled values. A PII tag on the set (true or false: a
    decision someone made) settles it.
    Fails:  a Feast view keyed by the entity ``dob_ssn`` ("date of birth and last four
    digits of the social security number") or by ``zipcode``, the view with no ``pii`` tag
    Passes: the same view with ``tags: {pii: "true"}``
    Fix: add ``tags: {pii: "true"}`` to the set (or ``pii: "false"`` when the key is not
    personal data).
    """
    keys = p["tag_keys"]
    if any(k in fs.tags for k in keys):
        return PASS
    search = p["pattern"].search
    columns = ctx.columns(fs) or {}
    seen: list[str] = []
    for key in fs.join_keys:
        profiled = columns[key.name].pii if key.name in columns else ()
        sampled = [m for m in profiled if m.share >= p["min_share"]]
        if search(key.name.lower()):
            seen.append(f"join key '{key.name}'")
        elif key.description and search(_words(key.description)):
            seen.append(f"join key '{key.name}' (by its description)")
        elif sampled:
            hits = ", ".join(f"{m.pattern} {m.share:.0%}" for m in sampled)
            seen.append(f"join key '{key.name}' (sampled values: {hits})")
    named = {k.name for k in fs.join_keys}
    for entity in fs.entities:
        if entity not in named and search(entity.lower()):
            seen.append(f"entity '{entity}'")
    if not seen:
        return PASS
    return fail(f"keyed by what looks like personal data: {', '.join(seen)}; no {' or '.join(keys)} tag")
