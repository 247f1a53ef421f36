"""Check a typedef document against the rules Apache Atlas (and Purview) enforce.

``validate_document`` never raises on bad input: every problem becomes a
``Problem`` naming the def (``entityDefs[3]``, or deeper such as
``relationshipDefs[0].endDef2``), the def's name and what is wrong, so that one
run lists all of them. The rules follow Atlas's type registry and typedef stores:
name patterns, unique names, known types, superTypes of the same category without
cycles, no attribute redefined from a parent, enum elements, and the relationship
rules on categories, container ends and cardinalities.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from featmesh.typedefs.loader import SECTION_CATEGORY, SECTIONS, load_base_typedefs
from featmesh.typedefs.typenames import (
    ATTRIBUTE_NAME,
    CARDINALITIES,
    CLASSIFICATION_NAME,
    PRIMITIVES,
    PROPAGATE_TAGS,
    PURVIEW_CLASSIFICATION_NAME,
    PURVIEW_RESERVED_PREFIX,
    RELATIONSHIP_CATEGORIES,
    TYPE_NAME,
    matches,
    parse_type,
)

# What each section's types are called in messages.
KIND_WORD = {
    "enumDefs": "an enum",
    "structDefs": "a struct",
    "classificationDefs": "a classification",
    "entityDefs": "an entity type",
    "relationshipDefs": "a relationship",
    "businessMetadataDefs": "business metadata",
}
FLAGS = ("isOptional", "isUnique", "isIndexable", "includeInNotification")
COUNTS = ("valuesMinCount", "valuesMaxCount")


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (``entityDefs[3]``), which def, and what is wrong."""

    pointer: str
    name: str
    message: str

    def __str__(self) -> str:
        place = self.pointer or "(document)"
        return f"{place} '{self.name}': {self.message}" if self.name else f"{place}: {self.message}"


def validate_document(doc: Any, base: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every way ``doc`` breaks Atlas's typedef rules; empty when Atlas would accept it.

    ``base`` holds the types ``doc`` may build on without defining them (Atlas's base
    model by default).
    """
    return _Validator(doc, load_base_typedefs() if base is None else base).run()


@dataclass(frozen=True)
class _Def:
    section: str
    pointer: str
    body: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.body["name"])


class _Validator:
    def __init__(self, doc: Any, base: Mapping[str, Any]):
        self.doc = doc
        self.problems: list[Problem] = []
        self.types: dict[str, _Def] = {}  # every named type: base first, then doc
        self.base_names: set[str] = set()
        self.own: list[_Def] = []  # the doc's defs that have a name, in order
        for section in SECTIONS:
            for i, body in enumerate(base.get(section) or []):
                if isinstance(body, Mapping) and isinstance(body.get("name"), str):
                    self.types[body["name"]] = _Def(section, f"base {section}[{i}]", body)
                    self.base_names.add(body["name"])

    def report(self, where: _Def | str, message: str) -> None:
        if isinstance(where, _Def):
            self.problems.append(Problem(where.pointer, where.name, message))
        else:
            self.problems.append(Problem(where, "", message))

    def at(self, d: _Def, suffix: str, message: str) -> None:
        self.problems.append(Problem(d.pointer + suffix, d.name, message))

    # ------------------------------------------------------------------ driver

    def run(self) -> list[Problem]:
        if not self.read_shape():
            return self.problems
        for d in self.own:
            self.check_name(d)
        for d in self.own:
            check = getattr(self, "check_" + d.section)
            check(d)
        self.check_cycles()
        self.check_end_names()
        return self.problems

    def read_shape(self) -> bool:
        if not isinstance(self.doc, Mapping):
            self.report("", "a typedef document is a mapping of " + ", ".join(SECTIONS))
            return False
        for key in self.doc:
            if key not in SECTIONS:
                self.report(str(key), "unknown section (expected " + ", ".join(SECTIONS) + ")")
        for section in SECTIONS:
            items = self.doc.get(section)
            if items is None:
                continue
            if not isinstance(items, list):
                self.report(section, "must be a list of type definitions")
                continue
            for i, body in enumerate(items):
                pointer = f"{section}[{i}]"
                if not isinstance(body, Mapping):
                    self.report(pointer, "a type definition must be a mapping")
                elif not isinstance(body.get("name"), str) or not body["name"]:
                    self.report(pointer, "has no name")
                else:
                    self.own.append(_Def(section, pointer, body))
        return True

    # ------------------------------------------------------------------ names

    def check_name(self, d: _Def) -> None:
        name = d.name
        if d.section == "classificationDefs":
            if not matches(CLASSIFICATION_NAME, name):
                self.report(
                    d,
                    "invalid classification name: start with a letter, then letters, digits, '_', '.' or ' '",
                )
            elif not matches(PURVIEW_CLASSIFICATION_NAME, name):
                self.report(d, "Purview accepts only letters, digits, '.' and '_' after the first letter")
            if name.upper().startswith(PURVIEW_RESERVED_PREFIX):
                self.report(d, f"the prefix '{PURVIEW_RESERVED_PREFIX}' is reserved by Purview")
        elif not matches(TYPE_NAME, name):
            self.report(d, "invalid type name: start with a letter, then letters, digits, '_' or ' '")
        category = d.body.get("category")
        expected = SECTION_CATEGORY[d.section]
        if category is not None and category != expected:
            self.report(d, f"category '{category}' does not belong in {d.section} (expected '{expected}')")
        if name in PRIMITIVES:
            self.report(d, f"'{name}' is a primitive type; a type cannot take its name")
        elif name in self.base_names:
            self.report(d, f"redefines Atlas's base type '{name}'")
        elif name in self.types:
            first = self.types[name]
            self.report(d, f"duplicate type name: also defined at {first.pointer}")
        else:
            self.types[name] = d

    def is_own(self, d: _Def) -> bool:
        """True for the def that holds its name (not a duplicate)."""
        return self.types.get(d.name) is d

    # ------------------------------------------------------------------ sections

    def check_entityDefs(self, d: _Def) -> None:
        self.check_super_types(d)
        self.check_attributes(d)
        if self.is_own(d):
            self.check_inherited_attributes(d)
        self.check_schema_option(d)

    def check_schema_attributes(self, d: _Def, value: str | None) -> None:
        """``options.schemaAttributes``: the attributes a schema element shows in its
        parent's schema tab, a JSON list of names (``"[\"data_type\"]"``) or one name."""
        if value is None:
            return
        try:
            names = json.loads(value) if value.lstrip().startswith("[") else [value]
        except ValueError:
            self.report(d, "options.schemaAttributes is not a JSON list of attribute names")
            return
        if not _is_list_of_str(names) or not names:
            self.report(d, "options.schemaAttributes must list attribute names")
            return
        own = {a.get("name") for a in d.body.get("attributeDefs") or [] if isinstance(a, Mapping)}
        for name in names:
            if name not in own and name not in ("name", "description", "qualifiedName"):
                self.report(d, f"options.schemaAttributes names '{name}', not an attribute of {d.name}")

    def check_schema_option(self, d: _Def) -> None:
        """Purview's ``options.schemaElementsAttribute`` (its schema tab and column-level
        lineage): a string naming a relationship end of this type holding many entities
        (an array, as ``columns`` on ``azure_sql_table``)."""
        options = d.body.get("options")
        if options is None:
            return
        if not isinstance(options, Mapping) or not all(isinstance(v, str) for v in options.values()):
            self.report(d, "options must map names to strings")
            return
        self.check_schema_attributes(d, options.get("schemaAttributes"))
        name = options.get("schemaElementsAttribute")
        if name is None:
            return
        if not name:
            self.report(d, "options.schemaElementsAttribute must name a relationship attribute")
            return
        for other in self.types.values():
            if other.section != "relationshipDefs":
                continue
            for end in (other.body.get("endDef1"), other.body.get("endDef2")):
                if isinstance(end, Mapping) and end.get("type") == d.name and end.get("name") == name:
                    if end.get("cardinality") not in ("SET", "LIST"):
                        self.report(
                            d,
                            f"options.schemaElementsAttribute '{name}' is a single reference "
                            f"({other.name}); the schema is a list of elements",
                        )
                    return
        self.report(
            d, f"options.schemaElementsAttribute '{name}' is not a relationship attribute of {d.name}"
        )

    def check_classificationDefs(self, d: _Def) -> None:
        self.check_super_types(d)
        self.check_attributes(d)
        if self.is_own(d):
            self.check_inherited_attributes(d)
        entity_types = d.body.get("entityTypes")
        if entity_types is None:
            return
        if not _is_list_of_str(entity_types):
            self.report(d, "entityTypes must be a list of entity type names")
            return
        for type_name in entity_types:
            other = self.types.get(type_name)
            if other is None:
                self.report(d, f"entityTypes names unknown type '{type_name}'")
            elif other.section != "entityDefs":
                self.report(
                    d,
                    f"entityTypes names '{type_name}', which is "
                    f"{KIND_WORD[other.section]}, not an entity type",
                )

    def check_businessMetadataDefs(self, d: _Def) -> None:
        """Business metadata (Purview's managed attributes): a struct-like group whose
        attributes each say, in ``options``, the entity types they apply to
        (``applicableEntityTypes``, a JSON list of type names as a string) and, for
        strings, the longest value (``maxStrLength``). Atlas refuses entity, struct,
        classification and business-metadata attribute types (ATLAS-400-00-094), a
        string attribute without ``maxStrLength`` (ATLAS-400-00-02B) and an unknown
        applicable type (ATLAS-404-00-001): apache/atlas ``AtlasBusinessMetadataType``."""
        if d.body.get("superTypes"):
            self.report(d, "business metadata has no superTypes")
        self.check_attributes(d, primitives_only=True, where="business metadata")
        for j, attr in enumerate(d.body.get("attributeDefs") or []):
            if isinstance(attr, Mapping) and isinstance(attr.get("name"), str):
                self.check_business_attribute(d, f".attributeDefs[{j}]", attr)

    def check_business_attribute(self, d: _Def, suffix: str, attr: Mapping[str, Any]) -> None:
        label = f"attribute '{attr['name']}'"
        options = attr.get("options")
        if options is None:
            options = {}
        if not isinstance(options, Mapping) or not all(isinstance(v, str) for v in options.values()):
            self.at(d, suffix, f"{label}: options must map names to strings")
            return
        if attr.get("typeName") == "string":
            length = options.get("maxStrLength")
            if length is None:
                self.at(d, suffix, f"{label}: a string business attribute needs options.maxStrLength")
            elif not length.isdigit() or int(length) < 1:
                self.at(
                    d, suffix, f"{label}: options.maxStrLength must be a positive integer, not '{length}'"
                )
        applicable = options.get("applicableEntityTypes")
        if applicable is None:
            return
        try:
            names = json.loads(applicable)
        except ValueError:
            names = None
        if not _is_list_of_str(names):
            self.at(
                d,
                suffix,
                f"{label}: options.applicableEntityTypes must be a JSON list of entity type names "
                '(a string holding a list, such as ["DataSet"])',
            )
            return
        for type_name in names:
            other = self.types.get(type_name)
            if other is None:
                self.at(d, suffix, f"{label}: applicableEntityTypes names unknown type '{type_name}'")
            elif other.section != "entityDefs":
                self.at(
                    d,
                    suffix,
                    f"{label}: applicableEntityTypes names '{type_name}', which is "
                    f"{KIND_WORD[other.section]}, not an entity type",
                )

    def check_structDefs(self, d: _Def) -> None:
        if d.body.get("superTypes"):
            self.report(d, "a struct has no superTypes")
        self.check_attributes(d)

    def check_enumDefs(self, d: _Def) -> None:
        elements = d.body.get("elementDefs")
        if not isinstance(elements, list) or not elements:
            self.report(d, "an enum needs elementDefs: a non-empty list of {value, ordinal}")
            return
        values: dict[str, int] = {}
        ordinals: dict[int, int] = {}
        for k, element in enumerate(elements):
            suffix = f".elementDefs[{k}]"
            if not isinstance(element, Mapping):
                self.at(d, suffix, "an enum element must be a mapping with value and ordinal")
                continue
            value = element.get("value")
            if not isinstance(value, str) or not value:
                self.at(d, suffix, "enum element has no value")
            elif value in values:
                self.at(
                    d,
                    suffix,
                    f"enum value '{value}' is listed twice (also elementDefs[{values[value]}])",
                )
            else:
                values[value] = k
            ordinal = element.get("ordinal")
            if ordinal is None:
                continue
            if not _is_int(ordinal):
                self.at(d, suffix, f"ordinal must be an integer, not {_describe(ordinal)}")
            elif ordinal in ordinals:
                self.at(
                    d,
                    suffix,
                    f"ordinal {ordinal} is used twice (also elementDefs[{ordinals[ordinal]}])",
                )
            else:
                ordinals[ordinal] = k
        default = d.body.get("defaultValue")
        if default is not None and default not in values:
            self.report(d, f"defaultValue '{default}' is not one of the enum's values")

    def check_relationshipDefs(self, d: _Def) -> None:
        category = d.body.get("relationshipCategory", "ASSOCIATION")
        if category not in RELATIONSHIP_CATEGORIES:
            self.report(
                d,
                f"relationshipCategory '{category}' is not one of " + ", ".join(RELATIONSHIP_CATEGORIES),
            )
            category = None
        propagate = d.body.get("propagateTags")
        if propagate is not None and propagate not in PROPAGATE_TAGS:
            self.report(d, f"propagateTags '{propagate}' is not one of " + ", ".join(PROPAGATE_TAGS))
        self.check_attributes(d, primitives_only=True)
        end1, end2 = self.check_end(d, "endDef1"), self.check_end(d, "endDef2")
        if end1 is None or end2 is None:
            return
        ends = (end1, end2)
        containers = [bool(end.get("isContainer", False)) for end in ends]
        if all(containers):
            self.report(d, "both ends are containers; at most one end may be")
        elif any(containers):
            if category == "ASSOCIATION":
                self.report(
                    d,
                    "an ASSOCIATION cannot have a container end "
                    "(make it an AGGREGATION or a COMPOSITION, or drop isContainer)",
                )
        elif category in ("COMPOSITION", "AGGREGATION"):
            self.report(d, f"a {category} needs exactly one end with isContainer: true")
        if category == "COMPOSITION" and any(containers) and not all(containers):
            for key, end, container in zip(("endDef1", "endDef2"), ends, containers, strict=True):
                if not container and end.get("cardinality", "SINGLE") == "SET":
                    self.at(
                        d,
                        f".{key}",
                        "the child end of a COMPOSITION must be SINGLE: a child has one parent",
                    )

    def check_end(self, d: _Def, key: str) -> Mapping[str, Any] | None:
        """Check one end; return it when it is usable for the rules between ends."""
        end = d.body.get(key)
        suffix = f".{key}"
        if end is None:
            self.at(d, suffix, f"{key} is missing: a relationship needs two ends")
            return None
        if not isinstance(end, Mapping):
            self.at(d, suffix, f"{key} must be a mapping with type, name and cardinality")
            return None
        usable = True
        type_name = end.get("type")
        if not isinstance(type_name, str) or not type_name:
            self.at(d, suffix, "end has no type")
        else:
            other = self.types.get(type_name)
            if other is None:
                self.at(d, suffix, f"unknown end type '{type_name}'")
            elif other.section != "entityDefs":
                self.at(
                    d,
                    suffix,
                    f"end type '{type_name}' is {KIND_WORD[other.section]}, not an entity type",
                )
        name = end.get("name")
        if not isinstance(name, str) or not name:
            self.at(d, suffix, "end has no name (the attribute it adds to its end type)")
        elif not matches(ATTRIBUTE_NAME, name):
            self.at(d, suffix, f"end name '{name}': start with a letter, then letters, digits or '_'")
        cardinality = end.get("cardinality", "SINGLE")
        if cardinality == "LIST":
            self.at(d, suffix, "a relationship end cannot be LIST (use SET)")
            usable = False
        elif cardinality not in ("SINGLE", "SET"):
            self.at(d, suffix, f"cardinality '{cardinality}' is not SINGLE or SET")
            usable = False
        for flag in ("isContainer", "isLegacyAttribute"):
            if flag in end and not isinstance(end[flag], bool):
                self.at(d, suffix, f"{flag} must be true or false, not {_describe(end[flag])}")
                usable = False
        return end if usable else None

    # ------------------------------------------------------------------ attributes

    def check_attributes(
        self, d: _Def, *, primitives_only: bool = False, where: str = "a relationship"
    ) -> None:
        attrs = d.body.get("attributeDefs")
        if attrs is None:
            return
        if not isinstance(attrs, list):
            self.report(d, "attributeDefs must be a list")
            return
        seen: dict[str, int] = {}
        for j, attr in enumerate(attrs):
            suffix = f".attributeDefs[{j}]"
            if not isinstance(attr, Mapping):
                self.at(d, suffix, "an attribute must be a mapping")
                continue
            name = attr.get("name")
            if not isinstance(name, str) or not name:
                self.at(d, suffix, "attribute has no name")
                continue
            label = f"attribute '{name}'"
            if not matches(ATTRIBUTE_NAME, name):
                self.at(
                    d,
                    suffix,
                    f"{label}: invalid name: start with a letter, then letters, digits or '_'",
                )
            if name in seen:
                self.at(d, suffix, f"{label} is defined twice (also attributeDefs[{seen[name]}])")
            else:
                seen[name] = j
            is_array = self.check_attribute_type(
                d, suffix, label, attr.get("typeName"), primitives_only, where
            )
            cardinality = attr.get("cardinality", "SINGLE")
            if cardinality not in CARDINALITIES:
                self.at(
                    d,
                    suffix,
                    f"{label}: cardinality '{cardinality}' is not one of " + ", ".join(CARDINALITIES),
                )
            elif cardinality != "SINGLE" and is_array is False:
                self.at(d, suffix, f"{label}: cardinality {cardinality} needs an array<...> typeName")
            for flag in FLAGS:
                if flag in attr and not isinstance(attr[flag], bool):
                    self.at(
                        d,
                        suffix,
                        f"{label}: {flag} must be true or false, not {_describe(attr[flag])}",
                    )
            for count in COUNTS:
                if count in attr and not _is_int(attr[count]):
                    self.at(
                        d,
                        suffix,
                        f"{label}: {count} must be an integer, not {_describe(attr[count])}",
                    )

    def check_attribute_type(
        self, d: _Def, suffix: str, label: str, type_name: Any, primitives_only: bool, where: str
    ) -> bool | None:
        """Report an unusable attribute type; return whether it is an array (None: unknown)."""
        if not isinstance(type_name, str) or not type_name:
            problem = "has no typeName" if not type_name else "has a typeName that is not text"
            self.at(d, suffix, f"{label} {problem}")
            return None
        try:
            ref = parse_type(type_name)
        except ValueError as err:
            self.at(d, suffix, f"{label}: malformed typeName: {err}")
            return None
        if primitives_only:
            element = ref.element if ref.kind == "array" and where != "a relationship" else ref
            if element is None or element.is_container or not self.is_primitive_or_enum(element.name):
                self.at(
                    d,
                    suffix,
                    f"{label}: type '{type_name}' is not allowed on {where} "
                    "(Atlas takes only primitives and enums there)",
                )
            return ref.kind == "array"
        for name in ref.names():
            if name in PRIMITIVES:
                continue
            other = self.types.get(name)
            if other is None:
                self.at(d, suffix, f"{label}: unknown type '{name}'")
            elif other.section in ("classificationDefs", "relationshipDefs"):
                self.at(
                    d,
                    suffix,
                    f"{label}: '{name}' is {KIND_WORD[other.section]}; an attribute holds a "
                    "primitive, an enum, a struct, an entity type, or array<>/map<> of those",
                )
        return ref.kind == "array"

    def is_primitive_or_enum(self, name: str) -> bool:
        other = self.types.get(name)
        return name in PRIMITIVES or (other is not None and other.section == "enumDefs")

    # ------------------------------------------------------------------ inheritance

    def check_super_types(self, d: _Def) -> None:
        supers = d.body.get("superTypes")
        if supers is None:
            return
        if not _is_list_of_str(supers):
            self.report(d, "superTypes must be a list of type names")
            return
        seen: set[str] = set()
        for super_name in supers:
            other = self.types.get(super_name)
            if super_name in seen:
                self.report(d, f"superType '{super_name}' is listed twice")
            elif super_name == d.name:
                self.report(d, "lists itself as a superType")
            elif other is None:
                self.report(d, f"unknown superType '{super_name}'")
            elif other.section != d.section:
                self.report(
                    d,
                    f"superType '{super_name}' is {KIND_WORD[other.section]}; "
                    f"a superType must be {KIND_WORD[d.section]}",
                )
            seen.add(super_name)

    def parents(self, name: str) -> list[str]:
        """Direct superTypes of ``name`` that exist and have the same category."""
        d = self.types.get(name)
        if d is None:
            return []
        supers = d.body.get("superTypes")
        if supers is None or not _is_list_of_str(supers):
            return []
        return [s for s in supers if s != name and s in self.types and self.types[s].section == d.section]

    def ancestors(self, name: str) -> list[str]:
        """All superTypes of ``name``, nearest first, each once; safe on cycles."""
        found: list[str] = []
        queue = self.parents(name)
        while queue:
            current = queue.pop(0)
            if current in found or current == name:
                continue
            found.append(current)
            queue.extend(self.parents(current))
        return found

    def check_cycles(self) -> None:
        for d in self.own:
            if d.section not in ("entityDefs", "classificationDefs") or not self.is_own(d):
                continue
            path = self.cycle_from(d.name)
            if path:
                self.report(d, "superTypes form a cycle: " + " -> ".join(path))

    def cycle_from(self, start: str) -> list[str]:
        """A path start -> ... -> start through superTypes, or [] when there is none."""
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        visited: set[str] = set()
        while stack:
            current, path = stack.pop()
            for parent in self.parents(current):
                if parent == start:
                    return [*path, start]
                if parent not in visited:
                    visited.add(parent)
                    stack.append((parent, [*path, parent]))
        return []

    def attribute_names(self, name: str) -> list[str]:
        d = self.types.get(name)
        attrs = d.body.get("attributeDefs") if d else None
        if not isinstance(attrs, list):
            return []
        return [a["name"] for a in attrs if isinstance(a, Mapping) and isinstance(a.get("name"), str)]

    def check_inherited_attributes(self, d: _Def) -> None:
        ancestors = self.ancestors(d.name)
        for attr in self.attribute_names(d.name):
            for ancestor in ancestors:
                if attr in self.attribute_names(ancestor):
                    self.report(d, f"attribute '{attr}' redefines the one inherited from '{ancestor}'")
                    break
        origin: dict[str, str] = {}
        for ancestor in ancestors:
            for attr in self.attribute_names(ancestor):
                first = origin.setdefault(attr, ancestor)
                if first == ancestor or first in self.ancestors(ancestor):
                    continue
                if ancestor in self.ancestors(first):
                    continue
                self.report(d, f"inherits attribute '{attr}' from both '{first}' and '{ancestor}'")

    # ------------------------------------------------------------------ relationship ends

    def check_end_names(self) -> None:
        """An end's name becomes an attribute of its end type: it must not clash."""
        taken: dict[tuple[str, str], _Def] = {}
        for d in self.own:
            if d.section != "relationshipDefs" or not self.is_own(d):
                continue
            own_ends: set[tuple[str, str]] = set()
            for key in ("endDef1", "endDef2"):
                end = d.body.get(key)
                if not isinstance(end, Mapping):
                    continue
                type_name, name = end.get("type"), end.get("name")
                if not isinstance(type_name, str) or not isinstance(name, str):
                    continue
                if type_name not in self.types or self.types[type_name].section != "entityDefs":
                    continue
                lineage = [type_name, *self.ancestors(type_name)]
                owner = next((t for t in lineage if name in self.attribute_names(t)), None)
                if owner is not None and not end.get("isLegacyAttribute", False):
                    self.at(
                        d,
                        f".{key}",
                        f"end name '{name}' is already an attribute of '{owner}' "
                        "(rename the end, or set isLegacyAttribute: true "
                        "to make that attribute the end)",
                    )
                if (type_name, name) in own_ends:
                    continue  # a symmetric relationship names one attribute from both ends
                own_ends.add((type_name, name))
                for (other_type, other_name), other in taken.items():
                    if other_name != name:
                        continue
                    if other_type in lineage or type_name in self.ancestors(other_type):
                        self.at(
                            d,
                            f".{key}",
                            f"end name '{name}' on '{type_name}' is already a relationship "
                            f"attribute of '{other_type}' from {other.pointer} '{other.name}'",
                        )
                        break
            for pair in own_ends:
                taken.setdefault(pair, d)


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    """A value's JSON kind and, when short, the value itself, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
