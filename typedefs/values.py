"""Checking entity and classification JSON against a resolved ``TypeSystem``.

Messages name the entity's type and the attribute, so a catalog can prefix them
with the entity's qualifiedName and show them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from featmesh.typedefs.typenames import PRIMITIVES, TypeRef

if TYPE_CHECKING:
    from featmesh.typedefs.system import AttributeDef, TypeSystem

INTEGER_BITS = {"byte": 8, "short": 16, "int": 32, "long": 64}
NUMBERS = frozenset({"float", "double", "bigdecimal"})


def describe(value: Any) -> str:
    """The JSON kind of ``value`` for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


class EntityChecker:
    """Checks Atlas JSON values against the types of one TypeSystem."""

    def __init__(self, types: TypeSystem):
        self.types = types

    # ------------------------------------------------------------------ entities

    def entity(self, entity: Any) -> list[str]:
        if not isinstance(entity, Mapping):
            return [f"an entity is a mapping with typeName and attributes, not {describe(entity)}"]
        type_name = entity.get("typeName")
        if not isinstance(type_name, str) or not type_name:
            return ["entity has no typeName"]
        entity_type = self.types.entity_type(type_name)
        if entity_type is None:
            if self.types.classification(type_name) is not None:
                return [f"'{type_name}' is a classification, not an entity type"]
            return [f"unknown entity type '{type_name}'"]
        messages: list[str] = []
        ends = self.types.relationship_ends(type_name)
        attributes = entity.get("attributes")
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, Mapping):
            messages.append(f"{type_name}: attributes must be a mapping, not {describe(attributes)}")
            attributes = {}
        for name in sorted(entity_type.required):
            if attributes.get(name) is None:
                messages.append(f"{type_name}: missing required attribute '{name}'")
        for name, value in attributes.items():
            attr = entity_type.attributes.get(name)
            if attr is None:
                if name in ends:
                    messages.append(
                        f"{type_name}: '{name}' is a relationship attribute; "
                        "give it under relationshipAttributes"
                    )
                else:
                    messages.append(f"{type_name}: attribute '{name}' is not defined on the type")
                continue
            if value is not None and not _plainly_valid(attr.type_ref, value):
                messages += self.value(attr.type_ref, value, f"{type_name}: attribute '{name}'")
        relations = entity.get("relationshipAttributes")
        if relations is None:
            relations = {}
        if not isinstance(relations, Mapping):
            messages.append(
                f"{type_name}: relationshipAttributes must be a mapping, not {describe(relations)}"
            )
            relations = {}
        for name, value in relations.items():
            end = ends.get(name)
            where = f"{type_name}: relationship attribute '{name}'"
            if end is None:
                hint = " (it is a plain attribute: give it under attributes)"
                known = hint if name in entity_type.attributes else ""
                messages.append(f"{where} is not defined on the type{known}")
                continue
            if value is None:
                continue
            if end.cardinality == "SINGLE":
                if isinstance(value, list):
                    messages.append(f"{where}: the end is SINGLE: give one reference, not a list")
                else:
                    messages += self.reference(value, end.end_type, where)
            elif not isinstance(value, list):
                messages.append(f"{where}: the end is SET: give a list of references, not {describe(value)}")
            else:
                for i, item in enumerate(value):
                    messages += self.reference(item, end.end_type, f"{where}[{i}]")
        business = entity.get("businessAttributes")
        if business is not None:
            messages += self.business_attributes(type_name, business)
        classifications = entity.get("classifications")
        if classifications is not None:
            if not isinstance(classifications, list):
                messages.append(
                    f"{type_name}: classifications must be a list, not {describe(classifications)}"
                )
            else:
                for item in classifications:
                    messages += self.classification(type_name, item)
        return messages

    def reference(self, value: Any, expected: str, where: str) -> list[str]:
        """Check an object id: {guid[, typeName]} or {typeName, uniqueAttributes}."""
        if not isinstance(value, Mapping):
            return [
                f"{where}: expected a reference to a {expected} "
                f"({{typeName, uniqueAttributes}} or {{guid}}), not {describe(value)}"
            ]
        type_name = value.get("typeName")
        guid = value.get("guid")
        if guid is not None and not isinstance(guid, str):
            return [f"{where}: guid must be a string, not {describe(guid)}"]
        if type_name is None:
            if guid is None:
                return [f"{where}: a reference needs a guid, or a typeName with uniqueAttributes"]
            return []
        if not isinstance(type_name, str) or self.types.entity_type(type_name) is None:
            return [f"{where}: references unknown entity type '{type_name}'"]
        if not self.types.is_a(type_name, expected):
            return [f"{where}: references a {type_name}, which is not a {expected} (nor a subtype)"]
        if guid is not None:
            return []
        unique = value.get("uniqueAttributes")
        if not isinstance(unique, Mapping) or not unique:
            return [f"{where}: a reference without guid needs uniqueAttributes (such as qualifiedName)"]
        target = self.types.entity_type(type_name)
        assert target is not None
        messages = []
        for name, unique_value in unique.items():
            if name not in target.unique:
                messages.append(f"{where}: '{name}' is not a unique attribute of {type_name}")
            elif not isinstance(unique_value, str) or not unique_value:
                messages.append(f"{where}: uniqueAttributes '{name}' must be a non-empty string")
        return messages

    # ------------------------------------------------------------------ business metadata

    def business_attributes(self, entity_type: str, values: Any) -> list[str]:
        """Business metadata on an entity: ``{group: {attribute: value}}``, each group and
        attribute one that applies to ``entity_type``, values of the attribute's type and no
        longer than its ``maxStrLength`` (messages as apache/atlas
        ``AtlasEntityStoreV2.validateBusinessAttributes`` words them)."""
        if not isinstance(values, Mapping):
            return [f"{entity_type}: businessAttributes must be a mapping, not {describe(values)}"]
        allowed = self.types.business_attributes(entity_type)
        messages: list[str] = []
        for group, attributes in values.items():
            defs = allowed.get(group)
            if defs is None:
                messages.append(f"{group}: invalid business-metadata for entity type {entity_type}")
                continue
            if not isinstance(attributes, Mapping):
                messages.append(f"{entity_type}.{group}: expected a mapping, got {describe(attributes)}")
                continue
            for name, value in attributes.items():
                found = defs.get(name)
                if found is not None and value is not None and _within(found, value):
                    continue
                where = f"{entity_type}.{group}.{name}"
                if found is None:
                    messages.append(
                        f"{where}: invalid business-metadata attribute for entity type {entity_type}"
                    )
                    continue
                if value is None:
                    continue
                messages += self.value(found.attribute.type_ref, value, where)
                if found.max_length is not None and isinstance(value, str) and len(value) > found.max_length:
                    messages.append(f"{where}:  Business attribute-value exceeds maximum length limit")
        return messages

    # ------------------------------------------------------------------ classifications

    def classification(self, entity_type: str, classification: Any) -> list[str]:
        if not isinstance(classification, Mapping):
            return [f"a classification is a mapping with typeName, not {describe(classification)}"]
        # an outcome met before on this type is valid again: a mesh's entities carry a few
        # outcomes many times over (each value's type is in the key: True == 1 in Python)
        name, attributes = classification.get("typeName"), classification.get("attributes")
        known: tuple[Any, ...] | None = None
        if isinstance(name, str) and isinstance(attributes, Mapping):
            try:
                known = (entity_type, name, *((k, type(v), v) for k, v in attributes.items()))
                if known in self.types.valid_classifications:
                    return []
            except TypeError:
                known = None  # a list or mapping among the values: checked every time
        messages = self._classification(entity_type, classification)
        if known is not None and not messages and len(self.types.valid_classifications) < 100_000:
            self.types.valid_classifications.add(known)
        return messages

    def _classification(self, entity_type: str, classification: Mapping[str, Any]) -> list[str]:
        name = classification.get("typeName")
        found = self.types.classification(name) if isinstance(name, str) else None
        if found is None:
            return [f"unknown classification '{name}'"]
        messages = []
        allowed = found.allowed_types
        if allowed and not any(self.types.is_a(entity_type, t) for t in allowed):
            messages.append(
                f"classification '{name}' cannot be applied to a {entity_type} "
                f"(its entityTypes: {', '.join(allowed)})"
            )
        attributes = classification.get("attributes")
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, Mapping):
            return [*messages, f"classification '{name}': attributes must be a mapping"]
        messages += self.attribute_map(
            found.attributes, found.required, attributes, f"classification '{name}'"
        )
        return messages

    # ------------------------------------------------------------------ values

    def attribute_map(
        self,
        defs: Mapping[str, AttributeDef],
        required: frozenset[str] | set[str],
        values: Mapping[str, Any],
        where: str,
    ) -> list[str]:
        messages = [
            f"{where}: missing required attribute '{name}'"
            for name in sorted(required)
            if values.get(name) is None
        ]
        for name, value in values.items():
            attr = defs.get(name)
            if attr is None:
                messages.append(f"{where}: attribute '{name}' is not defined")
            elif value is not None and not _plainly_valid(attr.type_ref, value):
                messages += self.value(attr.type_ref, value, f"{where}: attribute '{name}'")
        return messages

    def value(self, ref: TypeRef, value: Any, where: str) -> list[str]:
        if ref.kind == "array":
            assert ref.element is not None
            if not isinstance(value, list):
                return [f"{where}: expected a list, got {describe(value)}"]
            messages: list[str] = []
            for i, item in enumerate(value):
                if item is not None:
                    messages += self.value(ref.element, item, f"{where}[{i}]")
            return messages
        if ref.kind == "map":
            assert ref.element is not None
            if not isinstance(value, Mapping):
                return [f"{where}: expected a mapping, got {describe(value)}"]
            messages = []
            for key, item in value.items():
                if item is not None:
                    messages += self.value(ref.element, item, f"{where}['{key}']")
            return messages
        name = ref.name
        if name in PRIMITIVES:
            problem = primitive_problem(name, value)
            return [f"{where}: {problem}"] if problem else []
        values = self.types.enum_values(name)
        if values is not None:
            if not isinstance(value, str) or value not in values:
                return [f"{where}: expected one of {', '.join(values)}, got {value!r}"]
            return []
        struct = self.types.struct_attributes(name)
        if struct is not None:
            if not isinstance(value, Mapping):
                return [f"{where}: expected a {name} struct (a mapping), got {describe(value)}"]
            fields = value.get("attributes", value) if "typeName" in value else value
            if not isinstance(fields, Mapping):
                return [f"{where}: expected the {name} struct's attributes as a mapping"]
            required = {a.name for a in struct.values() if not a.optional}
            return self.attribute_map(struct, required, fields, where)
        return self.reference(value, name, where)


def _within(found: Any, value: Any) -> bool:
    """A business attribute's value of its type and within its length, found quickly."""
    if not _plainly_valid(found.attribute.type_ref, value):
        return False
    return found.max_length is None or type(value) is not str or len(value) <= found.max_length


def _plainly_valid(ref: TypeRef, value: Any) -> bool:
    """A value of the primitive type that takes it, found without building the message
    context (most attributes of a large write): anything else goes through
    :meth:`EntityChecker.value`, which says what is wrong and where."""
    if ref.kind != "name":
        return False
    if type(value) is str and ref.name == "string":  # most of them: no call at all
        return True
    return ref.name in PRIMITIVES and primitive_problem(ref.name, value) is None


def primitive_problem(type_name: str, value: Any) -> str | None:
    """Why ``value`` is not a JSON value of the primitive ``type_name``; None if it is."""
    if type_name == "string":
        return None if isinstance(value, str) else f"expected a string, got {describe(value)}"
    if type_name == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, got {describe(value)}"
    if type_name == "date":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and _parses_as_date(value):
            return None
        return f"expected a date (epoch milliseconds or ISO 8601 text), got {value!r}"
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name in NUMBERS:
        return None if is_number else f"expected a number, got {describe(value)}"
    if not is_number or (isinstance(value, float) and not value.is_integer()):
        return f"expected an integer, got {describe(value) if not is_number else value}"
    bits = INTEGER_BITS.get(type_name)
    if bits is not None and not -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1):
        return f"{int(value)} does not fit in a {type_name} ({bits}-bit integer)"
    return None


def _parses_as_date(text: str) -> bool:
    candidate = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        datetime.fromisoformat(candidate)
    except ValueError:
        return False
    return True
