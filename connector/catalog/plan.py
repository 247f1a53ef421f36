"""Plan, then apply: what a push would change in a catalog.

The plan compares the desired entities (from ``connector.mapping``) with what the
catalog holds, by (typeName, qualifiedName): each entity is created, updated,
unchanged, or, for entities featmesh wrote under a store scanned in this run that the
store no longer has, deleted. Classifications are planned apart, and only those
featmesh owns (``FEATMESH.*``) are ever added, updated or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from featmesh.connector.mapping.business import GROUP, owned_values

Key = tuple[str, str]
EntityJson = dict[str, Any]

OWNED_CLASSIFICATION_PREFIX = "FEATMESH."
RETIRED = "FEATMESH.RETIRED"
VOLATILE_CLASSIFICATION_ATTRIBUTES = frozenset({"evaluatedAt", "runId"})
"""Attributes that change with every run: a classification whose other attributes are
unchanged is not rewritten just because it was evaluated again."""


def key_of(entity: Mapping[str, Any]) -> Key:
    return entity["typeName"], entity["attributes"]["qualifiedName"]


def owned(classification_name: str) -> bool:
    return classification_name.startswith(OWNED_CLASSIFICATION_PREFIX)


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete | unchanged | retire (classified FEATMESH.RETIRED, kept)
    key: Key
    desired: EntityJson | None = None
    current: EntityJson | None = None
    fields: tuple[str, ...] = ()
    """For an update: the attributes and relationship attributes that differ."""


@dataclass(frozen=True)
class ClassificationChange:
    action: str  # add | update | remove
    key: Key
    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    classifications: list[ClassificationChange] = field(default_factory=list)
    kept: int = 0
    """Entities left out of the diff, known unchanged (the sets a scan did not map again),
    counted with the unchanged ones."""

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0, "unchanged": self.kept, "retire": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def classification_counts(self) -> dict[str, int]:
        counts = {"add": 0, "update": 0, "remove": 0}
        for change in self.classifications:
            counts[change.action] += 1
        return counts

    @property
    def writes(self) -> bool:
        counts = self.counts()
        return bool(
            counts["create"]
            or counts["update"]
            or counts["delete"]
            or counts["retire"]
            or self.classifications
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "classifications": self.classification_counts(),
            "changes": [
                {
                    "action": c.action,
                    "typeName": c.key[0],
                    "qualifiedName": c.key[1],
                    "fields": list(c.fields),
                }
                for c in self.changes
                if c.action != "unchanged"
            ],
        }


def compute_plan(
    desired: Iterable[EntityJson],
    current: Mapping[Key, EntityJson],
    *,
    delete_scope: Iterable[str] = (),
    protected: Iterable[str] = (),
    keep_deleted: bool = False,
    superseded: Iterable[Key] = (),
    retire_scope: Iterable[str] = (),
) -> Plan:
    """Diff ``desired`` against ``current``.

    ``current`` holds what the catalog has for the desired keys and for everything
    under ``delete_scope`` (qualifiedName prefixes of the stores read in this run).
    Entities under the scope that are not desired are deleted, except types in
    ``protected`` (placeholders other stores may share). With ``keep_deleted`` the
    catalog retires them instead, and entities already retired are left alone.

    ``superseded`` names placeholders whose real entity the desired lineage now reads:
    each one the catalog holds is deleted once nothing references it any more, this
    plan's changes counted (``retire_placeholders``); with ``keep_deleted`` it is
    retired (classified ``FEATMESH.RETIRED`` and kept) instead, once.

    Everything under ``retire_scope`` (the stores of sources no longer scanned, with
    ``scan --retire-removed``) is retired, whatever ``keep_deleted`` says; what is
    retired already is left alone.
    """
    plan = Plan()
    desired_keys: dict[Key, EntityJson] = {}
    for entity in desired:
        key = key_of(entity)
        desired_keys[key] = entity
        existing = current.get(key)
        if existing is None:
            plan.changes.append(Change("create", key, desired=entity))
            plan.classifications.extend(_classification_changes(key, entity, None))
            continue
        same = getattr(existing, "same_as", None)  # a stored entity compared as stored
        differing = () if same is not None and same(entity) else diff_fields(entity, existing)
        action = "update" if differing else "unchanged"
        plan.changes.append(Change(action, key, desired=entity, current=existing, fields=differing))
        plan.classifications.extend(_classification_changes(key, entity, existing))
    scopes = tuple(delete_scope)
    retiring = tuple(retire_scope)
    keep = set(protected)
    for key, existing in sorted(current.items()):
        if key in desired_keys or key[0] in keep:
            continue
        retired = any(c["typeName"] == RETIRED for c in existing.get("classifications", []))
        if any(key[1] == s or key[1].startswith(s + "/") for s in retiring):
            if not retired:
                plan.changes.append(Change("retire", key, current=existing))
            continue
        if keep_deleted and retired:
            continue
        if any(key[1] == s or key[1].startswith(s + "/") for s in scopes):
            plan.changes.append(Change("retire" if keep_deleted else "delete", key, current=existing))
    retire_placeholders(plan, superseded, desired_keys, current, keep=keep_deleted)
    return plan


REFERRING_ENDS = ("inputToProcesses", "outputFromProcesses")
"""A DataSet's relationship attributes naming the processes that read or write it."""


def retire_placeholders(
    plan: Plan,
    superseded: Iterable[Key],
    desired: Mapping[Key, EntityJson],
    current: Mapping[Key, EntityJson],
    *,
    keep: bool = False,
) -> None:
    """Delete each superseded placeholder no process references after
    ``plan``: a referrer the plan deletes or rewrites without it no longer counts, one
    outside the plan (another store's pipeline, anyone's) or unknown keeps it. With
    ``keep`` (``--keep-deleted``) the placeholder is retired instead, unless it already is."""
    going = {c.key for c in plan.changes if c.action in ("delete", "retire")}
    planned = going | set(desired)
    by_guid = {e["guid"]: k for k, e in current.items() if e.get("guid")}
    for key in dict.fromkeys(superseded):
        held = current.get(key)
        if held is None or key in planned:
            continue
        referrers = [
            _referrer_key(item, by_guid)
            for end in REFERRING_ENDS
            for item in _listed((held.get("relationshipAttributes") or {}).get(end))
        ]
        if any(_still_refers(r, key, going, desired) for r in referrers):
            continue
        if keep and any(c["typeName"] == RETIRED for c in held.get("classifications", [])):
            continue
        plan.changes.append(Change("retire" if keep else "delete", key, current=held))


def _listed(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, Mapping)]


def _referrer_key(item: Mapping[str, Any], by_guid: Mapping[str, Key]) -> Key | None:
    qn = (item.get("uniqueAttributes") or {}).get("qualifiedName")
    if qn and item.get("typeName"):
        return str(item["typeName"]), str(qn)
    guid = item.get("guid")
    return by_guid.get(guid) if isinstance(guid, str) else None


def _still_refers(referrer: Key | None, key: Key, going: set[Key], desired: Mapping[Key, EntityJson]) -> bool:
    if referrer is None:
        return True  # a process featmesh cannot name: keep the placeholder
    if referrer in going:
        return False
    wanted = desired.get(referrer)
    if wanted is None:
        return True
    attributes = wanted.get("attributes", {})
    return any(
        key_of({"typeName": r.get("typeName"), "attributes": r.get("uniqueAttributes") or {}}) == key
        for name in ("inputs", "outputs")
        for r in _listed(attributes.get(name))
        if (r.get("uniqueAttributes") or {}).get("qualifiedName")
    )


def diff_fields(desired: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of the attributes, relationship attributes and featmesh business metadata
    (``business:featmesh``) whose values differ.

    Only what featmesh sets is compared: attributes a catalog adds (defaults, system
    attributes) do not make an entity differ; a value featmesh no longer sets does.
    """
    names = []
    want = desired.get("attributes", {})
    have = current.get("attributes", {})
    for name in sorted(set(want) | set(have)):
        if _norm(want.get(name)) != _norm(have.get(name)) and (
            name in want or _norm(have.get(name)) is not None
        ):
            names.append(name)
    want_rel = desired.get("relationshipAttributes", {})
    have_rel = current.get("relationshipAttributes", {})
    for name in sorted(want_rel):
        if _norm_ref(want_rel[name]) != _norm_ref(have_rel.get(name)):
            names.append(f"relationship:{name}")
    wanted = owned_values(desired)
    if wanted is not None and _norm(wanted) != _norm(owned_values(current)):
        names.append(BUSINESS_FIELD)
    return tuple(names)


BUSINESS_FIELD = f"business:{GROUP}"
"""The field an update names when featmesh's business metadata differs (its volatile
``evaluatedAt`` aside); other groups (a steward's managed attributes) are never compared."""


def _norm(value: Any) -> Any:
    if value in ("", [], {}):
        return None
    if isinstance(value, list):
        return sorted((_norm(v) for v in value), key=repr)
    if isinstance(value, dict):
        if "uniqueAttributes" in value:
            return _norm_ref(value)
        return {k: _norm(v) for k, v in value.items()}
    return value


def _norm_ref(value: Any) -> Any:
    """A reference by its (typeName, qualifiedName); lists compare as sets."""
    if value is None or value == []:
        return None
    if isinstance(value, list):
        return sorted(_norm_ref(v) for v in value)
    if isinstance(value, dict):
        qn = (value.get("uniqueAttributes") or {}).get("qualifiedName") or value.get("qualifiedName")
        return (value.get("typeName"), qn or value.get("guid"))
    return value


def _stable(attributes: Mapping[str, Any]) -> Any:
    return _norm({k: v for k, v in attributes.items() if k not in VOLATILE_CLASSIFICATION_ATTRIBUTES})


def _classification_changes(
    key: Key, desired: Mapping[str, Any], current: Mapping[str, Any] | None
) -> list[ClassificationChange]:
    want = {
        c["typeName"]: c.get("attributes", {})
        for c in desired.get("classifications", [])
        if owned(c["typeName"])
    }
    have = {}
    if current is not None:
        have = {
            c["typeName"]: c.get("attributes", {})
            for c in current.get("classifications", [])
            if owned(c["typeName"])
        }
    changes = []
    for name, attributes in sorted(want.items()):
        if name not in have:
            changes.append(ClassificationChange("add", key, name, attributes))
        elif attributes != have[name] and _stable(attributes) != _stable(have[name]):
            changes.append(ClassificationChange("update", key, name, attributes))
    for name in sorted(set(have) - set(want)):
        changes.append(ClassificationChange("remove", key, name))
    return changes
