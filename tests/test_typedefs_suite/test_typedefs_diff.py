"""TypeSystem.diff: the typedef updates Atlas refuses."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from featmesh.typedefs import TypeSystem, load_base_typedefs, load_typedefs

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def ts() -> TypeSystem:
    return TypeSystem.from_documents(load_base_typedefs(), load_typedefs())


def by_name(doc: Doc, section: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in doc[section] if d["name"] == name)
    return found


def feature(doc: Doc) -> dict[str, Any]:
    return by_name(doc, "entityDefs", "featmesh_feature")


def features_rel(doc: Doc) -> dict[str, Any]:
    return by_name(doc, "relationshipDefs", "featmesh_feature_set_features")


def attr_of(doc: Doc, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in feature(doc)["attributeDefs"] if a["name"] == name)
    return found


F = "featmesh_feature"
R = "featmesh_feature_set_features"
BM = "featmesh"


def bm_attr(doc: Doc, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        a for a in by_name(doc, "businessMetadataDefs", BM)["attributeDefs"] if a["name"] == name
    )
    return found


def retired(doc: Doc) -> dict[str, Any]:
    return by_name(doc, "classificationDefs", "FEATMESH.RETIRED")


REFUSED: list[tuple[str, Callable[[Doc], Any], list[str]]] = [
    (
        "mandatory attribute added",
        lambda d: feature(d)["attributeDefs"].append(
            {"name": "unit", "typeName": "string", "isOptional": False}
        ),
        [f"{F}: new attribute 'unit' is mandatory; only optional ones can be added"],
    ),
    (
        "attribute without isOptional added (Atlas's default is mandatory)",
        lambda d: feature(d)["attributeDefs"].append({"name": "unit", "typeName": "string"}),
        [f"{F}: new attribute 'unit' is mandatory; only optional ones can be added"],
    ),
    (
        "attribute type changed",
        lambda d: attr_of(d, "rawType").update(typeName="array<string>"),
        [f"{F}: attribute 'rawType' changes type from string to array<string>"],
    ),
    (
        "attribute removed",
        lambda d: feature(d)["attributeDefs"].remove(attr_of(d, "profile")),
        [f"{F}: attribute 'profile' removed (an update must send every attribute)"],
    ),
    (
        "superType removed",
        lambda d: feature(d).update(superTypes=[]),
        [f"{F}: superType 'DataSet' removed"],
    ),
    (
        "relationship category changed",
        lambda d: features_rel(d).update(relationshipCategory="AGGREGATION"),
        [f"{R}: relationshipCategory changes from COMPOSITION to AGGREGATION"],
    ),
    (
        "relationship end renamed",
        lambda d: features_rel(d)["endDef2"].update(name="set"),
        [f"{R}: endDef2.name changes from featureSet to set"],
    ),
    (
        "relationship end retyped",
        lambda d: features_rel(d)["endDef1"].update(type="featmesh_feature_store"),
        [f"{R}: endDef1.type changes from featmesh_feature_set to featmesh_feature_store"],
    ),
    (
        "relationship end cardinality changed",
        lambda d: features_rel(d)["endDef2"].update(cardinality="SET"),
        [f"{R}: endDef2.cardinality changes from SINGLE to SET"],
    ),
    (
        # ATLAS-400-00-051 ENTITYTYPE_REMOVAL_NOT_SUPPORTED (apache/atlas AtlasErrorCode.java)
        "entity type removed from a classification",
        lambda d: retired(d)["entityTypes"].remove("featmesh_data_product"),
        ["FEATMESH.RETIRED: entity type 'featmesh_data_product' removed from entityTypes"],
    ),
    (
        "classification entityTypes cleared",
        lambda d: retired(d).update(entityTypes=[]),
        ["FEATMESH.RETIRED: entityTypes cleared (they can only grow)"],
    ),
    (
        # ATLAS-400-00-093 APPLICABLE_ENTITY_TYPES_DELETION_NOT_SUPPORTED
        # (apache/atlas AtlasBusinessMetadataDefStoreV2.updateVertexPreUpdate)
        "business attribute no longer applies to a type",
        lambda d: bm_attr(d, "score")["options"].update(applicableEntityTypes='["featmesh_feature_set"]'),
        [
            f"{BM}: attribute 'score' no longer applies to 'featmesh_feature' "
            "(applicableEntityTypes can only grow)"
        ],
    ),
    (
        "business attribute removed",
        lambda d: by_name(d, "businessMetadataDefs", BM)["attributeDefs"].remove(bm_attr(d, "grade")),
        [f"{BM}: attribute 'grade' removed (an update must send every attribute)"],
    ),
    (
        "business attribute type changed",
        lambda d: bm_attr(d, "score").update(typeName="int"),
        [f"{BM}: attribute 'score' changes type from float to int"],
    ),
    (
        "type moved to another section",
        lambda d: (d["entityDefs"].remove(feature(d)), d["structDefs"].append({"name": F})),
        [f"{F}: moves from entityDefs to structDefs; a type cannot change category"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_changes(ts: TypeSystem, change: Callable[[Doc], Any], expected: list[str]) -> None:
    old = load_typedefs()
    new = copy.deepcopy(old)
    change(new)
    assert ts.diff(old, new) == expected


ACCEPTED: list[tuple[str, Callable[[Doc], Any]]] = [
    ("no change", lambda d: None),
    (
        "optional attribute added",
        lambda d: feature(d)["attributeDefs"].append(
            {"name": "unit", "typeName": "string", "isOptional": True}
        ),
    ),
    ("description changed", lambda d: feature(d).update(description="changed")),
    (
        "new type",
        lambda d: d["entityDefs"].append({"name": "featmesh_model", "superTypes": ["DataSet"]}),
    ),
    ("type left out (not deleted)", lambda d: d["entityDefs"].remove(feature(d))),
    ("attribute order changed", lambda d: feature(d)["attributeDefs"].reverse()),
    (
        "entity type added to a classification",
        lambda d: retired(d)["entityTypes"].append("featmesh_feature_store"),
    ),
    (
        "business attribute applies to one more type",
        lambda d: bm_attr(d, "score")["options"].update(
            applicableEntityTypes='["featmesh_feature_set", "featmesh_feature", "featmesh_model"]'
        ),
    ),
]


@pytest.mark.parametrize("change", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_changes(ts: TypeSystem, change: Callable[[Doc], Any]) -> None:
    old = load_typedefs()
    new = copy.deepcopy(old)
    change(new)
    assert ts.diff(old, new) == []
