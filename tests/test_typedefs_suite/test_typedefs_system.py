"""TypeSystem: resolution of the shipped types, and the entity / classification checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from featmesh.typedefs import RelationshipEnd, TypeSystem, load_base_typedefs, load_typedefs

SET_QN = "featmesh://manifest/s/fs@1"
FS = "featmesh_feature: relationship attribute 'featureSet'"


@pytest.fixture(scope="module")
def ts() -> TypeSystem:
    return TypeSystem.from_documents(load_base_typedefs(), load_typedefs())


def feature(**changes: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "typeName": "featmesh_feature",
        "attributes": {"qualifiedName": f"{SET_QN}#f", "name": "f", "dataType": "int64"},
        "relationshipAttributes": {
            "featureSet": {
                "typeName": "featmesh_feature_set",
                "uniqueAttributes": {"qualifiedName": SET_QN},
            }
        },
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if value is ...:
            del entity[section][name]
        else:
            entity[section][name] = value
    return entity


def test_shipped_types_resolve_with_inherited_attributes(ts: TypeSystem) -> None:
    feature_type = ts.entity_type("featmesh_feature")
    assert feature_type is not None
    assert feature_type.super_types == {"DataSet", "Asset", "Referenceable"}
    assert feature_type.required == {"qualifiedName", "name"}
    assert feature_type.attributes["qualifiedName"].unique
    assert feature_type.attributes["tags"].type_name == "map<string,string>"
    assert ts.entity_type("no_such_type") is None


def test_is_a_follows_all_ancestors(ts: TypeSystem) -> None:
    assert ts.is_a("featmesh_feature_pipeline", "Process")
    assert ts.is_a("featmesh_feature_pipeline", "Referenceable")
    assert ts.is_a("featmesh_feature", "featmesh_feature")
    assert not ts.is_a("featmesh_feature", "Process")
    assert not ts.is_a("unknown", "DataSet")


def test_relationship_ends_from_both_sides(ts: TypeSystem) -> None:
    store_ends = ts.relationship_ends("featmesh_feature_store")
    assert store_ends["featureSets"] == RelationshipEnd(
        "featmesh_feature_store_feature_sets", "featmesh_feature_set", "SET", True
    )
    set_ends = ts.relationship_ends("featmesh_feature_set")
    assert set_ends["store"].end_type == "featmesh_feature_store"
    assert set_ends["store"].cardinality == "SINGLE"
    assert not set_ends["store"].is_container
    assert set(set_ends) == {"store", "features", "entities"}


def test_relationship_ends_are_inherited() -> None:
    doc = load_typedefs()
    doc["entityDefs"].append(
        {"name": "special_feature", "superTypes": ["featmesh_feature"], "attributeDefs": []}
    )
    ts = TypeSystem.from_documents(load_base_typedefs(), doc)
    assert ts.relationship_ends("special_feature")["featureSet"].end_type == "featmesh_feature_set"
    special = feature()
    special["typeName"] = "special_feature"
    assert ts.check_entity(special) == []


def test_classification_lookup(ts: TypeSystem) -> None:
    compliant = ts.classification("FEATMESH.COMPLIANT")
    assert compliant is not None
    assert compliant.entity_types == ("featmesh_feature_set", "featmesh_feature")
    assert compliant.attributes["score"].type_name == "float"
    assert ts.classification("NOPE") is None


def test_an_invalid_document_is_refused_with_every_problem() -> None:
    doc = load_typedefs()
    doc["entityDefs"][0]["superTypes"] = ["Nope"]
    doc["relationshipDefs"][0]["endDef1"]["cardinality"] = "LIST"
    with pytest.raises(ValueError) as err:
        TypeSystem.from_documents(load_base_typedefs(), doc)
    text = str(err.value)
    assert "entityDefs[0] 'featmesh_feature_store': unknown superType 'Nope'" in text
    assert "relationshipDefs[0].endDef1" in text and "cannot be LIST" in text


def test_extra_documents_declare_catalog_types() -> None:
    adls = {"entityDefs": [{"name": "azure_datalake_gen2_path", "superTypes": ["DataSet"]}]}
    ts = TypeSystem.from_documents(load_base_typedefs(), load_typedefs(), adls)
    pipeline = {
        "typeName": "featmesh_feature_pipeline",
        "attributes": {
            "qualifiedName": "featmesh://manifest/s/fs@1/pipeline",
            "name": "fs",
            "inputs": [
                {
                    "typeName": "azure_datalake_gen2_path",
                    "uniqueAttributes": {"qualifiedName": "https://a/b"},
                }
            ],
            "outputs": [{"typeName": "featmesh_feature_set", "uniqueAttributes": {"qualifiedName": SET_QN}}],
        },
    }
    assert ts.check_entity(pipeline) == []


# --------------------------------------------------------------------------- check_entity


def test_the_atlas_json_of_a_feature_is_accepted(ts: TypeSystem) -> None:
    assert ts.check_entity(feature()) == []


def test_a_reference_by_guid_is_accepted(ts: TypeSystem) -> None:
    entity = feature(relationshipAttributes__featureSet={"guid": "-1001", "typeName": "featmesh_feature_set"})
    assert ts.check_entity(entity) == []
    assert ts.check_entity(feature(relationshipAttributes__featureSet={"guid": "abc"})) == []


def test_a_full_entity_with_classification_is_accepted(ts: TypeSystem) -> None:
    entity = {
        "typeName": "featmesh_feature_set",
        "attributes": {
            "qualifiedName": SET_QN,
            "name": "fs",
            "ttlSeconds": 86400,
            "joinKeys": ["user_id:int64"],
            "tags": {"team": "risk"},
        },
        "relationshipAttributes": {
            "store": {
                "typeName": "featmesh_feature_store",
                "uniqueAttributes": {"qualifiedName": "featmesh://manifest/s"},
            },
            "features": [
                {
                    "typeName": "featmesh_feature",
                    "uniqueAttributes": {"qualifiedName": f"{SET_QN}#f"},
                }
            ],
        },
        "classifications": [
            {
                "typeName": "FEATMESH.COMPLIANT",
                "attributes": {
                    "score": 92.5,
                    "grade": "A",
                    "evaluatedAt": "2024-05-01T10:00:00Z",
                    "errorCount": 0,
                },
            }
        ],
    }
    assert ts.check_entity(entity) == []


ENTITY_CASES = [
    (
        "unknown type",
        {"typeName": "featmesh_nope", "attributes": {}},
        "unknown entity type 'featmesh_nope'",
    ),
    (
        "classification as entity",
        {"typeName": "FEATMESH.COMPLIANT"},
        "'FEATMESH.COMPLIANT' is a classification, not an entity type",
    ),
    ("no typeName", {"attributes": {}}, "entity has no typeName"),
    (
        "missing qualifiedName",
        feature(attributes__qualifiedName=...),
        "featmesh_feature: missing required attribute 'qualifiedName'",
    ),
    (
        "missing name",
        feature(attributes__name=None),
        "featmesh_feature: missing required attribute 'name'",
    ),
    (
        "undefined attribute",
        feature(attributes__colour="red"),
        "featmesh_feature: attribute 'colour' is not defined on the type",
    ),
    (
        "relationship attribute under attributes",
        feature(attributes__featureSet={"guid": "g"}),
        "featmesh_feature: 'featureSet' is a relationship attribute; give it under relationshipAttributes",
    ),
    (
        "number for string",
        feature(attributes__dataType=64),
        "featmesh_feature: attribute 'dataType': expected a string, got a number",
    ),
    (
        "string for list",
        feature(attributes__sourceColumns="a,b"),
        "featmesh_feature: attribute 'sourceColumns': expected a list, got a string",
    ),
    (
        "wrong list element",
        feature(attributes__sourceColumns=["a", 2]),
        "featmesh_feature: attribute 'sourceColumns'[1]: expected a string, got a number",
    ),
    (
        "list for map",
        feature(attributes__tags=["a"]),
        "featmesh_feature: attribute 'tags': expected a mapping, got a list",
    ),
    (
        "wrong map value",
        feature(attributes__tags={"team": 3}),
        "featmesh_feature: attribute 'tags'['team']: expected a string, got a number",
    ),
    (
        "unknown relationship attribute",
        feature(relationshipAttributes__parent={"guid": "g"}),
        "featmesh_feature: relationship attribute 'parent' is not defined on the type",
    ),
    (
        "plain attribute under relationshipAttributes",
        feature(relationshipAttributes__dataType="int64"),
        "featmesh_feature: relationship attribute 'dataType' is not defined on the type "
        "(it is a plain attribute: give it under attributes)",
    ),
    (
        "wrong end type",
        feature(
            relationshipAttributes__featureSet={
                "typeName": "featmesh_feature_store",
                "uniqueAttributes": {"qualifiedName": "featmesh://manifest/s"},
            }
        ),
        f"{FS}: references a featmesh_feature_store, which is not a featmesh_feature_set (nor a subtype)",
    ),
    (
        "unknown referenced type",
        feature(
            relationshipAttributes__featureSet={
                "typeName": "fs",
                "uniqueAttributes": {"qualifiedName": "q"},
            }
        ),
        f"{FS}: references unknown entity type 'fs'",
    ),
    (
        "list on a SINGLE end",
        feature(relationshipAttributes__featureSet=[{"guid": "g"}]),
        f"{FS}: the end is SINGLE: give one reference, not a list",
    ),
    (
        "reference without guid or uniqueAttributes",
        feature(relationshipAttributes__featureSet={"typeName": "featmesh_feature_set"}),
        f"{FS}: a reference without guid needs uniqueAttributes (such as qualifiedName)",
    ),
    (
        "non-unique attribute in uniqueAttributes",
        feature(
            relationshipAttributes__featureSet={
                "typeName": "featmesh_feature_set",
                "uniqueAttributes": {"name": "fs"},
            }
        ),
        f"{FS}: 'name' is not a unique attribute of featmesh_feature_set",
    ),
    (
        "empty reference",
        feature(relationshipAttributes__featureSet={}),
        f"{FS}: a reference needs a guid, or a typeName with uniqueAttributes",
    ),
    (
        "string as reference",
        feature(relationshipAttributes__featureSet=SET_QN),
        f"{FS}: expected a reference to a featmesh_feature_set "
        "({typeName, uniqueAttributes} or {guid}), not a string",
    ),
]


@pytest.mark.parametrize(
    ("entity", "message"), [c[1:] for c in ENTITY_CASES], ids=[c[0] for c in ENTITY_CASES]
)
def test_check_entity_names_the_problem(ts: TypeSystem, entity: dict[str, Any], message: str) -> None:
    assert ts.check_entity(entity) == [message]


def test_a_SET_end_wants_a_list(ts: TypeSystem) -> None:
    entity = {
        "typeName": "featmesh_feature_set",
        "attributes": {"qualifiedName": SET_QN, "name": "fs"},
        "relationshipAttributes": {"features": {"guid": "g"}},
    }
    assert ts.check_entity(entity) == [
        "featmesh_feature_set: relationship attribute 'features': the end is SET: "
        "give a list of references, not a mapping"
    ]


@pytest.mark.parametrize(
    ("type_name", "value", "message"),
    [
        ("ttlSeconds", "86400", "expected an integer, got a string"),
        ("ttlSeconds", 1.5, "expected an integer, got 1.5"),
        ("ttlSeconds", 2**63, f"{2**63} does not fit in a long (64-bit integer)"),
        ("ttlSeconds", True, "expected an integer, got true/false"),
    ],
)
def test_integer_values(ts: TypeSystem, type_name: str, value: Any, message: str) -> None:
    entity = {
        "typeName": "featmesh_feature_set",
        "attributes": {"qualifiedName": SET_QN, "name": "fs", type_name: value},
    }
    assert ts.check_entity(entity) == [f"featmesh_feature_set: attribute '{type_name}': {message}"]


def test_check_entity_does_not_change_its_input(ts: TypeSystem) -> None:
    entity = feature(attributes__colour="red")
    before = copy.deepcopy(entity)
    ts.check_entity(entity)
    assert entity == before


# --------------------------------------------------------------------------- check_classification

CLASSIFICATION_CASES = [
    (
        "unknown",
        "featmesh_feature",
        {"typeName": "FEATMESH.NOPE"},
        "unknown classification 'FEATMESH.NOPE'",
    ),
    (
        "entity type not allowed",
        "featmesh_feature_pipeline",
        {"typeName": "FEATMESH.COMPLIANT"},
        "classification 'FEATMESH.COMPLIANT' cannot be applied to a featmesh_feature_pipeline "
        "(its entityTypes: featmesh_feature_set, featmesh_feature)",
    ),
    (
        "undefined attribute",
        "featmesh_feature_set",
        {"typeName": "FEATMESH.COMPLIANT", "attributes": {"colour": "green"}},
        "classification 'FEATMESH.COMPLIANT': attribute 'colour' is not defined",
    ),
    (
        "wrong kind",
        "featmesh_feature_set",
        {"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": "high"}},
        "classification 'FEATMESH.COMPLIANT': attribute 'score': expected a number, got a string",
    ),
    (
        "bad date",
        "featmesh_feature_set",
        {"typeName": "FEATMESH.COMPLIANT", "attributes": {"evaluatedAt": "yesterday"}},
        "classification 'FEATMESH.COMPLIANT': attribute 'evaluatedAt': expected a date "
        "(epoch milliseconds or ISO 8601 text), got 'yesterday'",
    ),
]


@pytest.mark.parametrize(
    ("entity_type", "classification", "message"),
    [c[1:] for c in CLASSIFICATION_CASES],
    ids=[c[0] for c in CLASSIFICATION_CASES],
)
def test_check_classification_names_the_problem(
    ts: TypeSystem, entity_type: str, classification: dict[str, Any], message: str
) -> None:
    assert ts.check_classification(entity_type, classification) == [message]


def test_a_classification_is_allowed_on_subtypes_of_its_entity_types() -> None:
    doc = load_typedefs()
    doc["entityDefs"].append({"name": "online_feature", "superTypes": ["featmesh_feature"]})
    ts = TypeSystem.from_documents(load_base_typedefs(), doc)
    outcome = {
        "typeName": "FEATMESH.NON_COMPLIANT",
        "attributes": {"score": 40, "evaluatedAt": 1714557600000},
    }
    assert ts.check_classification("online_feature", outcome) == []


def test_a_classification_without_entity_types_applies_anywhere() -> None:
    doc = load_typedefs()
    doc["classificationDefs"].append({"name": "PII", "attributeDefs": []})
    ts = TypeSystem.from_documents(load_base_typedefs(), doc)
    assert ts.check_classification("Process", {"typeName": "PII"}) == []
    assert ts.classification("PII").entity_types == ()  # type: ignore[union-attr]


def test_a_classification_found_valid_once_is_still_checked_on_another_type_or_value(
    ts: TypeSystem,
) -> None:
    outcome = {"typeName": "FEATMESH.NON_COMPLIANT", "attributes": {"score": 1, "evaluatedAt": 1714557600000}}
    assert ts.check_classification("featmesh_feature", outcome) == []
    assert ts.check_classification("featmesh_feature", dict(outcome)) == []  # the memo answers
    assert ts.check_classification("featmesh_data_product", outcome) != []  # not one of its types
    as_bool = {**outcome, "attributes": {**outcome["attributes"], "score": True}}  # True == 1
    assert ts.check_classification("featmesh_feature", as_bool) == [
        "classification 'FEATMESH.NON_COMPLIANT': attribute 'score': expected a number, got true/false"
    ]
    listed = {**outcome, "attributes": {**outcome["attributes"], "score": [1]}}  # not hashable
    assert ts.check_classification("featmesh_feature", listed) != []
    assert TypeSystem.from_documents(load_base_typedefs(), load_typedefs()).check_classification(
        "featmesh_feature", as_bool
    ) == ts.check_classification("featmesh_feature", as_bool)
