"""The typedef changes Atlas refuses when a type system is updated in place.

Atlas's typedef stores accept new types and new OPTIONAL attributes. They refuse:
adding a mandatory attribute to an existing type, removing an attribute (or
leaving it out of the update), changing an attribute's type, removing a
superType, changing a type's category, changing a relationship's category or
either end (its type, name, cardinality or isContainer), removing an entity type
from a classification's ``entityTypes`` (ATLAS-400-00-051) and removing one from a
business attribute's ``options.applicableEntityTypes`` (ATLAS-400-00-093; apache/atlas
``AtlasBusinessMetadataDefStoreV2.updateVertexPreUpdate``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from featmesh.typedefs.loader import SECTIONS

END_FIELDS = (("type", None), ("name", None), ("cardinality", "SINGLE"), ("isContainer", False))


def _index(doc: Mapping[str, Any]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    found: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for section in SECTIONS:
        for body in doc.get(section) or []:
            if isinstance(body, Mapping) and isinstance(body.get("name"), str):
                found.setdefault(body["name"], (section, body))
    return found


def _attributes(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        a["name"]: a
        for a in body.get("attributeDefs") or []
        if isinstance(a, Mapping) and isinstance(a.get("name"), str)
    }


def refused_changes(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> list[str]:
    """One message per change from ``old_doc`` to ``new_doc`` that Atlas would refuse."""
    old = _index(old_doc)
    messages: list[str] = []
    for name, (section, new) in _index(new_doc).items():
        if name not in old:
            continue
        old_section, before = old[name]
        if section != old_section:
            messages.append(f"{name}: moves from {old_section} to {section}; a type cannot change category")
            continue
        messages += _attribute_changes(name, before, new)
        removed = [s for s in before.get("superTypes") or [] if s not in (new.get("superTypes") or [])]
        messages += [f"{name}: superType '{s}' removed" for s in removed]
        if section == "relationshipDefs":
            messages += _relationship_changes(name, before, new)
        if section == "classificationDefs":
            messages += _entity_type_changes(name, before, new)
        if section == "businessMetadataDefs":
            messages += _applicable_type_changes(name, before, new)
    return messages


def _entity_type_changes(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """A classification's entityTypes may grow, never shrink; Atlas refuses clearing them too."""
    was, now = list(before.get("entityTypes") or []), set(after.get("entityTypes") or [])
    if was and not now:
        return [f"{name}: entityTypes cleared (they can only grow)"]
    return [f"{name}: entity type '{t}' removed from entityTypes" for t in was if t not in now]


def _applicable(attr: Mapping[str, Any]) -> list[str] | None:
    text = (attr.get("options") or {}).get("applicableEntityTypes")
    try:
        names = json.loads(text) if isinstance(text, str) and text.strip() else None
    except ValueError:
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _applicable_type_changes(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    messages = []
    new_attrs = _attributes(after)
    for attr, old in _attributes(before).items():
        new = new_attrs.get(attr)
        was, now = _applicable(old), _applicable(new) if new is not None else None
        if new is None or was is None or now is None:
            continue
        messages += [
            f"{name}: attribute '{attr}' no longer applies to '{t}' (applicableEntityTypes can only grow)"
            for t in was
            if t not in now
        ]
    return messages


def _attribute_changes(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    old_attrs, new_attrs = _attributes(before), _attributes(after)
    messages = []
    for attr, old in old_attrs.items():
        new = new_attrs.get(attr)
        if new is None:
            messages.append(f"{name}: attribute '{attr}' removed (an update must send every attribute)")
        elif new.get("typeName") != old.get("typeName"):
            messages.append(
                f"{name}: attribute '{attr}' changes type from {old.get('typeName')} to {new.get('typeName')}"
            )
    for attr, new in new_attrs.items():
        if attr not in old_attrs and not new.get("isOptional", False):
            messages.append(f"{name}: new attribute '{attr}' is mandatory; only optional ones can be added")
    return messages


def _relationship_changes(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    messages = []
    old_category = before.get("relationshipCategory", "ASSOCIATION")
    new_category = after.get("relationshipCategory", "ASSOCIATION")
    if old_category != new_category:
        messages.append(f"{name}: relationshipCategory changes from {old_category} to {new_category}")
    for key in ("endDef1", "endDef2"):
        old_end, new_end = before.get(key) or {}, after.get(key) or {}
        for field, default in END_FIELDS:
            was, now = old_end.get(field, default), new_end.get(field, default)
            if was != now:
                messages.append(f"{name}: {key}.{field} changes from {was} to {now}")
    return messages
