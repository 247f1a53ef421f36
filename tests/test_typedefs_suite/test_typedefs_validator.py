"""validate_document: one small broken typedef per Atlas rule, each with its precise message."""

# The expected messages stay whole on one line each, so a message can be grepped for.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from featmesh.typedefs import Problem, load_base_typedefs, load_typedefs, validate_document

Doc = dict[str, Any]


def attr(name: str, type_name: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "typeName": type_name,
        "isOptional": True,
        "cardinality": "SINGLE",
        **more,
    }


def minimal() -> Doc:
    """A small valid document using every kind of def."""
    return {
        "enumDefs": [
            {
                "name": "shop_grade",
                "elementDefs": [{"value": "A", "ordinal": 0}, {"value": "B", "ordinal": 1}],
            }
        ],
        "structDefs": [
            {"name": "shop_range", "attributeDefs": [attr("low", "double"), attr("high", "double")]}
        ],
        "entityDefs": [
            {
                "name": "shop_store",
                "superTypes": ["DataSet"],
                "attributeDefs": [attr("kind", "string")],
            },
            {
                "name": "shop_set",
                "superTypes": ["DataSet"],
                "attributeDefs": [
                    attr("grade", "shop_grade"),
                    attr("range", "shop_range"),
                    attr("keys", "array<string>", cardinality="SET"),
                    attr("stats", "map<string,array<shop_range>>"),
                    attr("parent", "shop_store"),
                ],
            },
        ],
        "relationshipDefs": [
            {
                "name": "shop_store_sets",
                "relationshipCategory": "COMPOSITION",
                "propagateTags": "NONE",
                "endDef1": {
                    "type": "shop_store",
                    "name": "sets",
                    "isContainer": True,
                    "cardinality": "SET",
                },
                "endDef2": {
                    "type": "shop_set",
                    "name": "store",
                    "isContainer": False,
                    "cardinality": "SINGLE",
                },
                "attributeDefs": [attr("since", "date"), attr("grade", "shop_grade")],
            }
        ],
        "classificationDefs": [
            {
                "name": "SHOP.GOOD",
                "entityTypes": ["shop_set"],
                "attributeDefs": [attr("score", "float")],
            }
        ],
        "businessMetadataDefs": [
            {
                "name": "shop_review",
                "attributeDefs": [
                    attr("rating", "int", options={"applicableEntityTypes": '["shop_set"]'}),
                    attr(
                        "note",
                        "string",
                        options={"applicableEntityTypes": '["shop_set", "DataSet"]', "maxStrLength": "200"},
                    ),
                ],
            }
        ],
    }


def bm_attr(doc: Doc, j: int) -> dict[str, Any]:
    body: dict[str, Any] = doc["businessMetadataDefs"][0]["attributeDefs"][j]
    return body


def entity(doc: Doc, i: int) -> dict[str, Any]:
    body: dict[str, Any] = doc["entityDefs"][i]
    return body


def rel(doc: Doc) -> dict[str, Any]:
    body: dict[str, Any] = doc["relationshipDefs"][0]
    return body


def add(section: str, body: Any) -> Callable[[Doc], None]:
    return lambda doc: doc[section].append(body)


def problems(doc: Any) -> list[str]:
    return [str(p) for p in validate_document(doc, load_base_typedefs())]


def test_the_minimal_document_is_valid() -> None:
    assert problems(minimal()) == []


def test_the_shipped_document_is_valid() -> None:
    assert problems(load_typedefs()) == []


def test_default_base_is_atlas_base_model() -> None:
    assert validate_document(load_typedefs()) == []


def test_problem_renders_pointer_name_and_message() -> None:
    assert str(Problem("entityDefs[3]", "x", "broken")) == "entityDefs[3] 'x': broken"
    assert str(Problem("junk", "", "unknown section")) == "junk: unknown section"


def _set(target: Callable[[Doc], dict[str, Any]], key: str, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        target(doc)[key] = value

    return change


def _end(key: str, field: str, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        rel(doc)[key][field] = value

    return change


def _attr(i: int, j: int, field: str, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        entity(doc, i)["attributeDefs"][j][field] = value

    return change


def _both(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for c in changes:
            c(doc)

    return change


E0 = "entityDefs[0] 'shop_store'"
E1 = "entityDefs[1] 'shop_set'"
R0 = "relationshipDefs[0] 'shop_store_sets'"
C0 = "classificationDefs[0] 'SHOP.GOOD'"
N0 = "enumDefs[0] 'shop_grade'"

CASES: list[tuple[str, Callable[[Doc], None], list[str]]] = [
    # ---- names
    (
        "type name with a symbol",
        add("entityDefs", {"name": "shop-item", "superTypes": ["DataSet"]}),
        [
            "entityDefs[2] 'shop-item': invalid type name: start with a letter, then letters, digits, '_' or ' '"
        ],
    ),
    (
        "type name starting with a digit",
        add("structDefs", {"name": "9lives", "attributeDefs": []}),
        ["structDefs[1] '9lives': invalid type name: start with a letter, then letters, digits, '_' or ' '"],
    ),
    (
        "dot in an entity type name",
        add("entityDefs", {"name": "shop.item", "superTypes": ["DataSet"]}),
        [
            "entityDefs[2] 'shop.item': invalid type name: start with a letter, then letters, digits, '_' or ' '"
        ],
    ),
    (
        "classification name starting with '_'",
        add("classificationDefs", {"name": "_PII"}),
        [
            "classificationDefs[1] '_PII': invalid classification name: start with a letter, "
            "then letters, digits, '_', '.' or ' '"
        ],
    ),
    (
        "space in a classification name (Purview)",
        add("classificationDefs", {"name": "SHOP BAD"}),
        [
            "classificationDefs[1] 'SHOP BAD': Purview accepts only letters, digits, '.' and '_' "
            "after the first letter"
        ],
    ),
    (
        "MICROSOFT. prefix (Purview)",
        add("classificationDefs", {"name": "MICROSOFT.PERSONAL.NAME"}),
        ["classificationDefs[1] 'MICROSOFT.PERSONAL.NAME': the prefix 'MICROSOFT.' is reserved by Purview"],
    ),
    (
        "duplicate name across sections",
        add("entityDefs", {"name": "shop_grade", "superTypes": ["DataSet"]}),
        ["entityDefs[2] 'shop_grade': duplicate type name: also defined at enumDefs[0]"],
    ),
    (
        "duplicate name in one section",
        add("entityDefs", {"name": "shop_set", "superTypes": ["DataSet"]}),
        ["entityDefs[2] 'shop_set': duplicate type name: also defined at entityDefs[1]"],
    ),
    (
        "redefining a base type",
        add("entityDefs", {"name": "DataSet", "superTypes": ["Asset"]}),
        ["entityDefs[2] 'DataSet': redefines Atlas's base type 'DataSet'"],
    ),
    (
        "a primitive's name",
        add("structDefs", {"name": "string"}),
        ["structDefs[1] 'string': 'string' is a primitive type; a type cannot take its name"],
    ),
    (
        "category of another section",
        _set(lambda d: entity(d, 0), "category", "STRUCT"),
        [f"{E0}: category 'STRUCT' does not belong in entityDefs (expected 'ENTITY')"],
    ),
    # ---- business metadata (apache/atlas AtlasBusinessMetadataType.resolveReferences)
    (
        "string business attribute without maxStrLength (ATLAS-400-00-02B)",
        lambda doc: bm_attr(doc, 1)["options"].pop("maxStrLength"),
        [
            "businessMetadataDefs[0].attributeDefs[1] 'shop_review': attribute 'note': a string business attribute needs options.maxStrLength"
        ],
    ),
    (
        "maxStrLength not a number",
        lambda doc: bm_attr(doc, 1)["options"].update(maxStrLength="long"),
        [
            "businessMetadataDefs[0].attributeDefs[1] 'shop_review': attribute 'note': options.maxStrLength must be a positive integer, not 'long'"
        ],
    ),
    (
        "applicableEntityTypes a list, not a JSON string",
        lambda doc: bm_attr(doc, 0).update(options={"applicableEntityTypes": ["shop_set"]}),
        [
            "businessMetadataDefs[0].attributeDefs[0] 'shop_review': attribute 'rating': options must map names to strings"
        ],
    ),
    (
        "applicableEntityTypes not JSON",
        lambda doc: bm_attr(doc, 0).update(options={"applicableEntityTypes": "shop_set"}),
        [
            "businessMetadataDefs[0].attributeDefs[0] 'shop_review': attribute 'rating': options.applicableEntityTypes must be a JSON list of entity type names (a string holding a list, such as [\"DataSet\"])"
        ],
    ),
    (
        "applicableEntityTypes names an unknown type (ATLAS-404-00-001)",
        lambda doc: bm_attr(doc, 0).update(options={"applicableEntityTypes": '["shop_thing"]'}),
        [
            "businessMetadataDefs[0].attributeDefs[0] 'shop_review': attribute 'rating': applicableEntityTypes names unknown type 'shop_thing'"
        ],
    ),
    (
        "applicableEntityTypes names a classification",
        lambda doc: bm_attr(doc, 0).update(options={"applicableEntityTypes": '["SHOP.GOOD"]'}),
        [
            "businessMetadataDefs[0].attributeDefs[0] 'shop_review': attribute 'rating': applicableEntityTypes names 'SHOP.GOOD', which is a classification, not an entity type"
        ],
    ),
    (
        "business attribute of a struct type (ATLAS-400-00-094)",
        lambda doc: bm_attr(doc, 0).update(typeName="shop_range"),
        [
            "businessMetadataDefs[0].attributeDefs[0] 'shop_review': attribute 'rating': type 'shop_range' is not allowed on business metadata (Atlas takes only primitives and enums there)"
        ],
    ),
    # ---- document shape
    (
        "unknown section",
        lambda doc: doc.update(businessDefs=[]),
        [
            "businessDefs: unknown section (expected enumDefs, structDefs, classificationDefs, "
            "entityDefs, relationshipDefs, businessMetadataDefs)"
        ],
    ),
    (
        "section not a list",
        lambda doc: doc.update(classificationDefs={}),
        ["classificationDefs: must be a list of type definitions"],
    ),
    ("def without name", add("structDefs", {"attributeDefs": []}), ["structDefs[1]: has no name"]),
    (
        "def not a mapping",
        add("structDefs", "shop_range"),
        ["structDefs[1]: a type definition must be a mapping"],
    ),
    # ---- relationships
    (
        "LIST end",
        _end("endDef1", "cardinality", "LIST"),
        [f"{R0.replace('[0]', '[0].endDef1')}: a relationship end cannot be LIST (use SET)"],
    ),
    (
        "both ends containers",
        _end("endDef2", "isContainer", True),
        [f"{R0}: both ends are containers; at most one end may be"],
    ),
    (
        "ASSOCIATION with a container",
        _set(rel, "relationshipCategory", "ASSOCIATION"),
        [
            f"{R0}: an ASSOCIATION cannot have a container end "
            "(make it an AGGREGATION or a COMPOSITION, or drop isContainer)"
        ],
    ),
    (
        "COMPOSITION without a container",
        _end("endDef1", "isContainer", False),
        [f"{R0}: a COMPOSITION needs exactly one end with isContainer: true"],
    ),
    (
        "AGGREGATION without a container",
        _both(_set(rel, "relationshipCategory", "AGGREGATION"), _end("endDef1", "isContainer", False)),
        [f"{R0}: a AGGREGATION needs exactly one end with isContainer: true"],
    ),
    (
        "COMPOSITION child end SET",
        _end("endDef2", "cardinality", "SET"),
        [
            "relationshipDefs[0].endDef2 'shop_store_sets': the child end of a COMPOSITION must be SINGLE: "
            "a child has one parent"
        ],
    ),
    (
        "AGGREGATION child end SET is fine",
        _both(_set(rel, "relationshipCategory", "AGGREGATION"), _end("endDef2", "cardinality", "SET")),
        [],
    ),
    (
        "unknown end type",
        _end("endDef2", "type", "shop_nope"),
        ["relationshipDefs[0].endDef2 'shop_store_sets': unknown end type 'shop_nope'"],
    ),
    (
        "end type not an entity",
        _end("endDef2", "type", "SHOP.GOOD"),
        [
            "relationshipDefs[0].endDef2 'shop_store_sets': end type 'SHOP.GOOD' is a classification, "
            "not an entity type"
        ],
    ),
    (
        "end without a name",
        _end("endDef1", "name", ""),
        [
            "relationshipDefs[0].endDef1 'shop_store_sets': end has no name "
            "(the attribute it adds to its end type)"
        ],
    ),
    (
        "missing end",
        lambda doc: rel(doc).pop("endDef2"),
        ["relationshipDefs[0].endDef2 'shop_store_sets': endDef2 is missing: a relationship needs two ends"],
    ),
    (
        "unknown relationship category",
        _set(rel, "relationshipCategory", "OWNERSHIP"),
        [f"{R0}: relationshipCategory 'OWNERSHIP' is not one of ASSOCIATION, AGGREGATION, COMPOSITION"],
    ),
    (
        "unknown propagateTags",
        _set(rel, "propagateTags", "ALL"),
        [f"{R0}: propagateTags 'ALL' is not one of NONE, ONE_TO_TWO, TWO_TO_ONE, BOTH"],
    ),
    (
        "relationship attribute not primitive",
        lambda doc: rel(doc)["attributeDefs"].append(attr("range", "shop_range")),
        [
            "relationshipDefs[0].attributeDefs[2] 'shop_store_sets': attribute 'range': type 'shop_range' "
            "is not allowed on a relationship (Atlas takes only primitives and enums there)"
        ],
    ),
    (
        "end name already an attribute",
        _end("endDef2", "name", "parent"),
        [
            "relationshipDefs[0].endDef2 'shop_store_sets': end name 'parent' is already an attribute of "
            "'shop_set' (rename the end, or set isLegacyAttribute: true to make that attribute the end)"
        ],
    ),
    (
        "end name already an inherited attribute",
        _end("endDef2", "name", "description"),
        [
            "relationshipDefs[0].endDef2 'shop_store_sets': end name 'description' is already an attribute "
            "of 'Asset' (rename the end, or set isLegacyAttribute: true to make that attribute the end)"
        ],
    ),
    (
        "legacy end over an attribute is fine",
        _both(_end("endDef2", "name", "parent"), _end("endDef2", "isLegacyAttribute", True)),
        [],
    ),
    (
        "end name given twice to one type",
        add(
            "relationshipDefs",
            {
                "name": "shop_set_owner",
                "relationshipCategory": "ASSOCIATION",
                "endDef1": {"type": "shop_set", "name": "store", "cardinality": "SINGLE"},
                "endDef2": {"type": "shop_store", "name": "owned", "cardinality": "SET"},
            },
        ),
        [
            "relationshipDefs[1].endDef1 'shop_set_owner': end name 'store' on 'shop_set' is already a "
            "relationship attribute of 'shop_set' from relationshipDefs[0] 'shop_store_sets'"
        ],
    ),
    (
        "symmetric relationship is fine",
        add(
            "relationshipDefs",
            {
                "name": "shop_set_peers",
                "endDef1": {"type": "shop_set", "name": "peers", "cardinality": "SET"},
                "endDef2": {"type": "shop_set", "name": "peers", "cardinality": "SET"},
            },
        ),
        [],
    ),
    # ---- classifications
    (
        "entityTypes unknown",
        _set(lambda d: d["classificationDefs"][0], "entityTypes", ["shop_set", "shop_item"]),
        [f"{C0}: entityTypes names unknown type 'shop_item'"],
    ),
    (
        "entityTypes not an entity",
        _set(lambda d: d["classificationDefs"][0], "entityTypes", ["shop_range"]),
        [f"{C0}: entityTypes names 'shop_range', which is a struct, not an entity type"],
    ),
    (
        "entityTypes base type is fine",
        _set(lambda d: d["classificationDefs"][0], "entityTypes", ["DataSet"]),
        [],
    ),
    (
        "classification superType is an entity",
        _set(lambda d: d["classificationDefs"][0], "superTypes", ["DataSet"]),
        [f"{C0}: superType 'DataSet' is an entity type; a superType must be a classification"],
    ),
    # ---- attributes
    (
        "unknown attribute type",
        _attr(0, 0, "typeName", "text"),
        ["entityDefs[0].attributeDefs[0] 'shop_store': attribute 'kind': unknown type 'text'"],
    ),
    (
        "unknown element type",
        _attr(1, 2, "typeName", "array<strin>"),
        ["entityDefs[1].attributeDefs[2] 'shop_set': attribute 'keys': unknown type 'strin'"],
    ),
    (
        "unknown map value type",
        _attr(1, 3, "typeName", "map<string,shop_nope>"),
        ["entityDefs[1].attributeDefs[3] 'shop_set': attribute 'stats': unknown type 'shop_nope'"],
    ),
    (
        "unclosed array",
        _attr(1, 2, "typeName", "array<string"),
        [
            "entityDefs[1].attributeDefs[2] 'shop_set': attribute 'keys': malformed typeName: "
            "'array<string' opens 'array<' without closing '>'"
        ],
    ),
    (
        "map without value type",
        _attr(1, 3, "typeName", "map<string>"),
        [
            "entityDefs[1].attributeDefs[3] 'shop_set': attribute 'stats': malformed typeName: "
            "'map<string>' needs a key and a value type: map<K,V>"
        ],
    ),
    (
        "attribute typed as a classification",
        _attr(0, 0, "typeName", "SHOP.GOOD"),
        [
            "entityDefs[0].attributeDefs[0] 'shop_store': attribute 'kind': 'SHOP.GOOD' is a classification; "
            "an attribute holds a primitive, an enum, a struct, an entity type, or array<>/map<> of those"
        ],
    ),
    (
        "attribute without typeName",
        lambda doc: entity(doc, 0)["attributeDefs"][0].pop("typeName"),
        ["entityDefs[0].attributeDefs[0] 'shop_store': attribute 'kind' has no typeName"],
    ),
    (
        "unknown cardinality",
        _attr(0, 0, "cardinality", "MANY"),
        [
            "entityDefs[0].attributeDefs[0] 'shop_store': attribute 'kind': cardinality 'MANY' "
            "is not one of SINGLE, LIST, SET"
        ],
    ),
    (
        "SET cardinality on a plain type",
        _attr(0, 0, "cardinality", "SET"),
        [
            "entityDefs[0].attributeDefs[0] 'shop_store': attribute 'kind': cardinality SET needs an array<...> typeName"
        ],
    ),
    (
        "isOptional not a boolean",
        _attr(0, 0, "isOptional", "yes"),
        [
            "entityDefs[0].attributeDefs[0] 'shop_store': attribute 'kind': isOptional must be "
            "true or false, not the string 'yes'"
        ],
    ),
    (
        "attribute name with a dash",
        _attr(0, 0, "name", "store-kind"),
        [
            "entityDefs[0].attributeDefs[0] 'shop_store': attribute 'store-kind': invalid name: "
            "start with a letter, then letters, digits or '_'"
        ],
    ),
    (
        "attribute defined twice",
        lambda doc: entity(doc, 0)["attributeDefs"].append(attr("kind", "string")),
        [
            "entityDefs[0].attributeDefs[1] 'shop_store': attribute 'kind' is defined twice (also attributeDefs[0])"
        ],
    ),
    (
        "attribute redefining an inherited one",
        lambda doc: entity(doc, 0)["attributeDefs"].append(attr("owner", "string")),
        [f"{E0}: attribute 'owner' redefines the one inherited from 'Asset'"],
    ),
    (
        "attribute redefining one of a document superType",
        add(
            "entityDefs",
            {
                "name": "shop_outlet",
                "superTypes": ["shop_store"],
                "attributeDefs": [attr("kind", "int")],
            },
        ),
        ["entityDefs[2] 'shop_outlet': attribute 'kind' redefines the one inherited from 'shop_store'"],
    ),
    (
        "attribute inherited from two parents",
        _both(
            add("entityDefs", {"name": "shop_mixed", "superTypes": ["shop_store", "shop_kind"]}),
            add(
                "entityDefs",
                {
                    "name": "shop_kind",
                    "superTypes": ["Referenceable"],
                    "attributeDefs": [attr("kind", "string")],
                },
            ),
        ),
        ["entityDefs[2] 'shop_mixed': inherits attribute 'kind' from both 'shop_store' and 'shop_kind'"],
    ),
    # ---- superTypes
    (
        "unknown superType",
        _set(lambda d: entity(d, 0), "superTypes", ["DataSet", "Dataset"]),
        [f"{E0}: unknown superType 'Dataset'"],
    ),
    (
        "superType of another category",
        _set(lambda d: entity(d, 0), "superTypes", ["shop_range"]),
        [f"{E0}: superType 'shop_range' is a struct; a superType must be an entity type"],
    ),
    (
        "superType listed twice",
        _set(lambda d: entity(d, 0), "superTypes", ["DataSet", "DataSet"]),
        [f"{E0}: superType 'DataSet' is listed twice"],
    ),
    (
        "own superType",
        _set(lambda d: entity(d, 0), "superTypes", ["shop_store"]),
        [f"{E0}: lists itself as a superType"],
    ),
    (
        "superType cycle",
        _both(
            _set(lambda d: entity(d, 0), "superTypes", ["shop_set"]),
            _set(lambda d: entity(d, 1), "superTypes", ["shop_store"]),
        ),
        [
            f"{E0}: superTypes form a cycle: shop_store -> shop_set -> shop_store",
            f"{E1}: superTypes form a cycle: shop_set -> shop_store -> shop_set",
        ],
    ),
    (
        "superTypes not a list",
        _set(lambda d: entity(d, 0), "superTypes", "DataSet"),
        [f"{E0}: superTypes must be a list of type names"],
    ),
    # ---- enums
    (
        "enum without elements",
        _set(lambda d: d["enumDefs"][0], "elementDefs", []),
        [f"{N0}: an enum needs elementDefs: a non-empty list of {{value, ordinal}}"],
    ),
    (
        "enum value twice",
        lambda doc: doc["enumDefs"][0]["elementDefs"].append({"value": "A", "ordinal": 2}),
        ["enumDefs[0].elementDefs[2] 'shop_grade': enum value 'A' is listed twice (also elementDefs[0])"],
    ),
    (
        "enum ordinal twice",
        lambda doc: doc["enumDefs"][0]["elementDefs"].append({"value": "C", "ordinal": 1}),
        ["enumDefs[0].elementDefs[2] 'shop_grade': ordinal 1 is used twice (also elementDefs[1])"],
    ),
    (
        "enum element without value",
        lambda doc: doc["enumDefs"][0]["elementDefs"].append({"ordinal": 2}),
        ["enumDefs[0].elementDefs[2] 'shop_grade': enum element has no value"],
    ),
    (
        "enum defaultValue not an element",
        _set(lambda d: d["enumDefs"][0], "defaultValue", "Z"),
        [f"{N0}: defaultValue 'Z' is not one of the enum's values"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_has_a_precise_message(change: Callable[[Doc], None], expected: list[str]) -> None:
    doc = minimal()
    change(doc)
    assert problems(doc) == expected


def test_every_problem_is_listed_at_once() -> None:
    doc = minimal()
    entity(doc, 0)["superTypes"] = ["Nope"]
    rel(doc)["endDef1"]["cardinality"] = "LIST"
    doc["enumDefs"][0]["elementDefs"] = []
    assert len(problems(doc)) == 3


@pytest.mark.parametrize("doc", [None, [], "entityDefs", 3])
def test_a_document_that_is_not_a_mapping(doc: Any) -> None:
    assert problems(doc) == [
        "(document): a typedef document is a mapping of enumDefs, structDefs, "
        "classificationDefs, entityDefs, relationshipDefs, businessMetadataDefs"
    ]


def test_garbage_inside_defs_never_raises() -> None:
    doc = {
        "entityDefs": [
            {
                "name": "a",
                "superTypes": [1],
                "attributeDefs": [None, {"name": 3}, {"name": "x", "typeName": 5}],
            },
            {"name": "b", "attributeDefs": "x"},
        ],
        "relationshipDefs": [
            {"name": "r", "endDef1": [], "endDef2": {"type": 1, "name": None, "isContainer": "no"}}
        ],
        "enumDefs": [{"name": "e", "elementDefs": [None, {"value": "v", "ordinal": "1"}]}],
        "classificationDefs": [{"name": "C", "entityTypes": "a"}],
    }
    assert problems(doc) == [
        "enumDefs[0].elementDefs[0] 'e': an enum element must be a mapping with value and ordinal",
        "enumDefs[0].elementDefs[1] 'e': ordinal must be an integer, not the string '1'",
        "classificationDefs[0] 'C': entityTypes must be a list of entity type names",
        "entityDefs[0] 'a': superTypes must be a list of type names",
        "entityDefs[0].attributeDefs[0] 'a': an attribute must be a mapping",
        "entityDefs[0].attributeDefs[1] 'a': attribute has no name",
        "entityDefs[0].attributeDefs[2] 'a': attribute 'x' has a typeName that is not text",
        "entityDefs[1] 'b': attributeDefs must be a list",
        "relationshipDefs[0].endDef1 'r': endDef1 must be a mapping with type, name and cardinality",
        "relationshipDefs[0].endDef2 'r': end has no type",
        "relationshipDefs[0].endDef2 'r': end has no name (the attribute it adds to its end type)",
        "relationshipDefs[0].endDef2 'r': isContainer must be true or false, not the string 'no'",
    ]
