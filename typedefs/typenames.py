"""Atlas's naming rules and the grammar of attribute type names.

An attribute's ``typeName`` is a primitive, the name of an enum, struct or entity
type, or a container of those: ``array<T>`` or ``map<K,V>``, nested freely. Atlas
splits ``map<K,V>`` at the first comma, so a map key cannot itself be a map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PRIMITIVES = frozenset(
    {
        "boolean",
        "byte",
        "short",
        "int",
        "long",
        "float",
        "double",
        "biginteger",
        "bigdecimal",
        "string",
        "date",
    }
)

TYPE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_ ]*")
CLASSIFICATION_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_ .]*")
PURVIEW_CLASSIFICATION_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_.]*")
PURVIEW_RESERVED_PREFIX = "MICROSOFT."
ATTRIBUTE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")

CARDINALITIES = ("SINGLE", "LIST", "SET")
RELATIONSHIP_CATEGORIES = ("ASSOCIATION", "AGGREGATION", "COMPOSITION")
PROPAGATE_TAGS = ("NONE", "ONE_TO_TWO", "TWO_TO_ONE", "BOTH")


@dataclass(frozen=True)
class TypeRef:
    """A parsed attribute type: ``kind`` is 'name', 'array' or 'map'.

    For 'name', ``name`` is the primitive or type name; for 'array', ``element`` is
    set; for 'map', ``key`` and ``element`` (the value type) are set.
    """

    kind: str
    name: str = ""
    element: TypeRef | None = None
    key: TypeRef | None = None

    def names(self) -> list[str]:
        """Every plain type name the expression mentions, innermost last."""
        if self.kind == "name":
            return [self.name]
        found: list[str] = []
        if self.key is not None:
            found += self.key.names()
        if self.element is not None:
            found += self.element.names()
        return found

    @property
    def is_container(self) -> bool:
        return self.kind != "name"


def parse_type(text: str) -> TypeRef:
    """Parse an attribute ``typeName``; raise ValueError saying what is malformed."""
    if not isinstance(text, str) or not text:
        raise ValueError("typeName is empty")
    return _parsed(text)


@lru_cache(maxsize=1024)
def _parsed(text: str) -> TypeRef:
    """:func:`parse_type` of a non-empty text, once per text (a write checks every
    attribute of every entity against a few dozen type names)."""
    if text.startswith("array<"):
        if not text.endswith(">"):
            raise ValueError(f"'{text}' opens 'array<' without closing '>'")
        return TypeRef("array", element=parse_type(text[len("array<") : -1]))
    if text.startswith("map<"):
        if not text.endswith(">"):
            raise ValueError(f"'{text}' opens 'map<' without closing '>'")
        inner = text[len("map<") : -1]
        key, comma, value = inner.partition(",")
        if not comma:
            raise ValueError(f"'{text}' needs a key and a value type: map<K,V>")
        return TypeRef("map", key=parse_type(key), element=parse_type(value))
    if text != text.strip():
        raise ValueError(f"'{text}' has spaces around the type name")
    if "<" in text or ">" in text or "," in text:
        raise ValueError(f"'{text}' is not a type name, array<T> or map<K,V>")
    return TypeRef("name", name=text)


def matches(pattern: re.Pattern[str], name: object) -> bool:
    return isinstance(name, str) and pattern.fullmatch(name) is not None
