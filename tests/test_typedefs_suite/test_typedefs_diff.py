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
]


@pytest.mark.parametrize("change", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_changes(ts: TypeSystem, change: Callable[[Doc], Any]) -> None:
    old = load_typedefs()
    new = copy.deepcopy(old)
    change(new)
    assert ts.diff(old, new) == []
