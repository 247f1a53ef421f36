"""The resolved type system: types with their inherited attributes and relationship ends.

``TypeSystem.from_documents`` validates the documents and resolves them; the
result answers the questions a catalog asks before it stores something: is this
entity (or classification) one Atlas would accept? The checks follow Atlas, but
are stricter on value kinds (Atlas also takes ``"5"`` for an int; featmesh wants
JSON numbers), so mistakes in featmesh's own mapping surface early.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from featmesh.typedefs.diff import refused_changes
from featmesh.typedefs.loader import SECTIONS
from featmesh.typedefs.typenames import TypeRef, parse_type
from featmesh.typedefs.validator import validate_document
from featmesh.typedefs.values import EntityChecker


@dataclass(frozen=True)
class AttributeDef:
    """One attribute. ``optional`` follows Atlas: an attribute without isOptional is mandatory."""

    name: str
    type_name: str
    optional: bool = True
    cardinality: str = "SINGLE"
    unique: bool = False

    @cached_property
    def type_ref(self) -> TypeRef:
        """The parsed ``type_name``, once per attribute (a write asks it of every value)."""
        return parse_type(self.type_name)


@dataclass(frozen=True)
class RelationshipEnd:
    """A relationship attribute of an entity type, as the entity sees it.

    ``end_type`` is the type at the OTHER side (what the attribute references);
    ``cardinality`` is SINGLE (one reference) or SET (a list); ``is_container`` says
    whether this entity is the container (the parent) of the other side.
    """

    relationship_type: str
    end_type: str
    cardinality: str
    is_container: bool


@dataclass(frozen=True)
class EntityType:
    """An entity type. ``super_types`` holds ALL its ancestors; ``attributes`` and
    ``required`` include the inherited ones."""

    name: str
    super_types: frozenset[str]
    attributes: Mapping[str, AttributeDef]
    required: frozenset[str]
    unique: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClassificationType:
    """A classification; ``entity_types`` as declared (empty: any entity type)."""

    name: str
    super_types: frozenset[str]
    attributes: Mapping[str, AttributeDef]
    required: frozenset[str]
    entity_types: tuple[str, ...] = ()
    allowed_types: tuple[str, ...] = field(default=(), repr=False)  # with inherited restrictions


@dataclass(frozen=True)
class BusinessAttribute:
    """One attribute of a business metadata group: where it applies and how long a string
    value may be (``options.applicableEntityTypes``, ``options.maxStrLength``)."""

    attribute: AttributeDef
    applicable_types: tuple[str, ...]
    max_length: int | None = None


def _business_attribute(raw: Mapping[str, Any]) -> BusinessAttribute:
    options = raw.get("options") or {}
    applicable = json.loads(options["applicableEntityTypes"]) if options.get("applicableEntityTypes") else []
    length = options.get("maxStrLength")
    return BusinessAttribute(
        attribute=_attribute(raw),
        applicable_types=tuple(applicable),
        max_length=int(length) if length else None,
    )


def _attribute(raw: Mapping[str, Any]) -> AttributeDef:
    return AttributeDef(
        name=raw["name"],
        type_name=raw["typeName"],
        optional=bool(raw.get("isOptional", False)),
        cardinality=raw.get("cardinality", "SINGLE"),
        unique=bool(raw.get("isUnique", False)),
    )


class TypeSystem:
    """Entity, classification, struct and enum types resolved from typedef documents."""

    def __init__(self) -> None:
        self._entities: dict[str, EntityType] = {}
        self._classifications: dict[str, ClassificationType] = {}
        self._structs: dict[str, Mapping[str, AttributeDef]] = {}
        self._enums: dict[str, tuple[str, ...]] = {}
        self._ends: dict[str, dict[str, RelationshipEnd]] = {}
        self._business: dict[str, dict[str, BusinessAttribute]] = {}
        self._business_of: dict[str, dict[str, dict[str, BusinessAttribute]]] = {}
        self.valid_classifications: set[tuple[Any, ...]] = set()
        """(entity type, classification as items) already found valid: most entities of a
        mesh carry one of a few outcomes, each checked once (see ``EntityChecker``)."""

    # ------------------------------------------------------------------ building

    @classmethod
    def from_documents(cls, base: Mapping[str, Any], *docs: Mapping[str, Any]) -> TypeSystem:
        """Validate each document (against ``base`` and the ones before it) and resolve them all.

        Raises ValueError listing every problem when a document is invalid. Extra
        documents can declare catalog types featmesh references but does not own.
        """
        known: dict[str, list[Any]] = {section: list(base.get(section) or []) for section in SECTIONS}
        for number, doc in enumerate(docs, start=1):
            problems = validate_document(doc, known)
            if problems:
                which = f"typedef document {number}" if len(docs) > 1 else "typedef document"
                lines = "\n  ".join(str(p) for p in problems)
                raise ValueError(f"invalid {which}:\n  {lines}")
            for section in SECTIONS:
                known[section].extend(doc.get(section) or [])
        system = cls()
        system._resolve(known)
        return system

    def _resolve(self, doc: Mapping[str, list[Any]]) -> None:
        raw: dict[str, Mapping[str, Any]] = {}
        for section in ("entityDefs", "classificationDefs"):
            for body in doc[section]:
                raw[body["name"]] = body
        for body in doc["enumDefs"]:
            self._enums[body["name"]] = tuple(e["value"] for e in body["elementDefs"])
        for body in doc["structDefs"]:
            self._structs[body["name"]] = {a["name"]: _attribute(a) for a in body.get("attributeDefs") or []}

        lineages: dict[str, list[str]] = {}

        def lineage(name: str) -> list[str]:
            """Ancestors, farthest first, each once (the documents have no cycles)."""
            if name not in lineages:
                order: list[str] = []
                for parent in raw[name].get("superTypes") or []:
                    for ancestor in [*lineage(parent), parent]:
                        if ancestor not in order:
                            order.append(ancestor)
                lineages[name] = order
            return lineages[name]

        def attributes(name: str) -> dict[str, AttributeDef]:
            merged: dict[str, AttributeDef] = {}
            for owner in [*lineage(name), name]:
                for a in raw[owner].get("attributeDefs") or []:
                    merged[a["name"]] = _attribute(a)
            return merged

        for body in doc["entityDefs"]:
            name = body["name"]
            attrs = attributes(name)
            self._entities[name] = EntityType(
                name=name,
                super_types=frozenset(lineage(name)),
                attributes=attrs,
                required=frozenset(a.name for a in attrs.values() if not a.optional),
                unique=frozenset(a.name for a in attrs.values() if a.unique),
            )
        for body in doc["classificationDefs"]:
            name = body["name"]
            attrs = attributes(name)
            declared = tuple(body.get("entityTypes") or ())
            allowed = declared
            for ancestor in reversed(lineage(name)):  # nearest restriction first
                if allowed:
                    break
                allowed = tuple(raw[ancestor].get("entityTypes") or ())
            self._classifications[name] = ClassificationType(
                name=name,
                super_types=frozenset(lineage(name)),
                attributes=attrs,
                required=frozenset(a.name for a in attrs.values() if not a.optional),
                entity_types=declared,
                allowed_types=allowed,
            )
        for body in doc["businessMetadataDefs"]:
            self._business[body["name"]] = {
                a["name"]: _business_attribute(a) for a in body.get("attributeDefs") or []
            }
        own_ends: dict[str, dict[str, RelationshipEnd]] = {}
        for body in doc["relationshipDefs"]:
            end1, end2 = body["endDef1"], body["endDef2"]
            for this, other in ((end1, end2), (end2, end1)):
                own_ends.setdefault(this["type"], {})[this["name"]] = RelationshipEnd(
                    relationship_type=body["name"],
                    end_type=other["type"],
                    cardinality=this.get("cardinality", "SINGLE"),
                    is_container=bool(this.get("isContainer", False)),
                )
        for name in self._entities:
            ends: dict[str, RelationshipEnd] = {}
            for owner in [*lineage(name), name]:
                ends.update(own_ends.get(owner, {}))
            self._ends[name] = ends

    # ------------------------------------------------------------------ lookups

    def entity_type(self, name: str) -> EntityType | None:
        return self._entities.get(name)

    def classification(self, name: str) -> ClassificationType | None:
        return self._classifications.get(name)

    def enum_values(self, name: str) -> tuple[str, ...] | None:
        return self._enums.get(name)

    def struct_attributes(self, name: str) -> Mapping[str, AttributeDef] | None:
        return self._structs.get(name)

    def business_attributes(self, entity_type: str) -> dict[str, dict[str, BusinessAttribute]]:
        """The business metadata an entity of ``entity_type`` can carry: group -> attribute
        -> definition, only the attributes applicable to the type or one of its ancestors."""
        found = self._business_of.get(entity_type)
        if found is not None:
            return found
        out: dict[str, dict[str, BusinessAttribute]] = {}
        for group, attributes in self._business.items():
            for name, attr in attributes.items():
                if any(self.is_a(entity_type, t) for t in attr.applicable_types):
                    out.setdefault(group, {})[name] = attr
        self._business_of[entity_type] = out
        return out

    def entity_type_names(self) -> list[str]:
        return sorted(self._entities)

    def is_a(self, type_name: str, ancestor: str) -> bool:
        """True when ``type_name`` is ``ancestor`` or a subtype of it (entity or classification)."""
        found = self._entities.get(type_name) or self._classifications.get(type_name)
        if found is None:
            return False
        return type_name == ancestor or ancestor in found.super_types

    def relationship_ends(self, entity_type: str) -> dict[str, RelationshipEnd]:
        """Relationship attributes of ``entity_type``, inherited ones included."""
        return dict(self._ends.get(entity_type, {}))

    # ------------------------------------------------------------------ checks

    def check_entity(self, entity: Any) -> list[str]:
        """Why Atlas would refuse this entity (Atlas JSON: typeName, attributes, ...); [] if none.

        Attributes must be defined on the type, required ones present, values of the
        right kind; relationshipAttributes must name ends of the type and reference
        entities of the end's type (or a subtype); classifications are checked too.
        """
        return EntityChecker(self).entity(entity)

    def check_classification(self, entity_type: str, classification: Any) -> list[str]:
        """Why this classification cannot be attached to an entity of ``entity_type``."""
        return EntityChecker(self).classification(entity_type, classification)

    def diff(self, old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> list[str]:
        """The changes from ``old_doc`` to ``new_doc`` that Atlas refuses on a typedef update."""
        return refused_changes(old_doc, new_doc)
