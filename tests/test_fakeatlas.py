"""The fake Atlas answers pyapacheatlas (and raw requests) the way Apache Atlas / Purview do."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any

import pytest
import requests
from pyapacheatlas.auth import BasicAuthentication
from pyapacheatlas.core import AtlasClient
from pyapacheatlas.core.util import AtlasException

from featmesh.connector.mapping.entities import map_mesh
from featmesh.typedefs import load_typedefs
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES
from tests.fakeatlas import FakeAtlas
from tests.test_manifest import _read_all

STORE, FSET, FEATURE, PIPE = (
    "featmesh_feature_store",
    "featmesh_feature_set",
    "featmesh_feature",
    "featmesh_feature_pipeline",
)
STORE_QN, FS_QN = "featmesh://feast/s", "featmesh://feast/s/fs@1"


class _Token:
    """An azure-identity-like credential for the Purview endpoint."""

    def get_token(self, *scopes: str) -> Any:
        return type("T", (), {"token": "tok", "expires_on": 4_102_444_800})()


def ref(type_name: str, qn: str) -> dict[str, Any]:
    return {"typeName": type_name, "uniqueAttributes": {"qualifiedName": qn}}


def entity(type_name: str, qn: str, guid: str | None = None, **rels: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "typeName": type_name,
        "attributes": {"qualifiedName": qn, "name": qn.rsplit("/", 1)[-1]},
    }
    if guid:
        body["guid"] = guid
    if rels:
        body["relationshipAttributes"] = rels
    return body


def compliant(score: float = 90.0) -> dict[str, Any]:
    return {"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": score}}


def code_of(error: AtlasException) -> str:
    return str(json.loads(str(error))["errorCode"])


@pytest.fixture
def atlas() -> Iterator[FakeAtlas]:
    with FakeAtlas(auth=("admin", "secret")) as fake:
        yield fake


@pytest.fixture
def client(atlas: FakeAtlas) -> AtlasClient:
    c = AtlasClient(atlas.base, BasicAuthentication("admin", "secret"))
    c.upload_typedefs(load_typedefs())
    return c


@pytest.fixture
def store_and_set(client: AtlasClient) -> dict[str, str]:
    """A store, then (a second call) a feature set with a feature in it."""
    client.upload_entities([entity(STORE, STORE_QN, "-1")])
    fs = entity(FSET, FS_QN, "-1", store=ref(STORE, STORE_QN))
    fs["classifications"] = [compliant()]
    feature = entity(FEATURE, FS_QN + "#f", "-2", featureSet={"guid": "-1"})
    result = client.upload_entities([fs, feature])
    return {"fs": result["guidAssignments"]["-1"], "feature": result["guidAssignments"]["-2"]}


def raises_code(call: Callable[[], Any], code: str) -> None:
    with pytest.raises(AtlasException) as caught:
        call()
    assert code_of(caught.value) == code


# ----------------------------------------------------------------------------- typedefs


def test_typedefs_create_conflict_and_force_update(atlas: FakeAtlas, client: AtlasClient) -> None:
    raises_code(lambda: client.upload_typedefs(load_typedefs()), "ATLAS-409-00-001")
    updated = client.upload_typedefs(load_typedefs(), force_update=True)
    assert len(updated["entityDefs"]) == 8
    assert client.get_typedef(name=FSET)["category"] == "ENTITY"
    raises_code(lambda: client.get_typedef(name="nope"), "ATLAS-404-00-001")
    assert atlas.count("GET", "/types/typedefs/headers") == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda d: d["attributeDefs"].append({"name": "x", "typeName": "string", "isOptional": False}),
            "ATLAS-400-00-00C",
        ),
        (lambda d: d["attributeDefs"].pop(), "ATLAS-400-00-00D"),
        (lambda d: d["attributeDefs"][0].update(typeName="int"), "ATLAS-400-00-027"),
        (lambda d: d.update(superTypes=[]), "ATLAS-400-00-00E"),
    ],
)
def test_typedef_updates_atlas_refuses(client: AtlasClient, change: Callable, code: str) -> None:
    doc = copy.deepcopy(next(d for d in load_typedefs()["entityDefs"] if d["name"] == FSET))
    change(doc)
    raises_code(lambda: client.upload_typedefs({"entityDefs": [doc]}, force_update=True), code)


def test_optional_attribute_added_and_relationship_change_refused(client: AtlasClient) -> None:
    doc = copy.deepcopy(next(d for d in load_typedefs()["entityDefs"] if d["name"] == FSET))
    doc["attributeDefs"].append({"name": "extra", "typeName": "string", "isOptional": True})
    client.upload_typedefs({"entityDefs": [doc]}, force_update=True)
    rel = copy.deepcopy(load_typedefs()["relationshipDefs"][3])
    rel["relationshipCategory"] = "AGGREGATION"
    raises_code(
        lambda: client.upload_typedefs({"relationshipDefs": [rel]}, force_update=True), "ATLAS-400-00-039"
    )
    bad = {
        "name": "bad_rel",
        "relationshipCategory": "COMPOSITION",
        "endDef1": {"type": STORE, "name": "a", "isContainer": True, "cardinality": "LIST"},
        "endDef2": {"type": FSET, "name": "b", "cardinality": "SINGLE"},
    }
    raises_code(lambda: client.upload_typedefs({"relationshipDefs": [bad]}), "ATLAS-400-00-034")


# ----------------------------------------------------------------------------- bulk writes


def test_bulk_create_then_idempotent_then_changed(client: AtlasClient, store_and_set: dict[str, str]) -> None:
    again = client.upload_entities([entity(STORE, STORE_QN)])
    assert "mutatedEntities" not in again  # Atlas skips unchanged entities
    changed = entity(STORE, STORE_QN)
    changed["attributes"]["description"] = "new"
    result = client.upload_entities([changed])
    assert [h["guid"] for h in result["mutatedEntities"]["UPDATE"]] == list(
        result["guidAssignments"].values()
    )
    got = client.get_entity(qualifiedName=STORE_QN, typeName=STORE)["entities"][0]
    assert got["attributes"]["description"] == "new" and got["attributes"]["owner"] is None
    omitted = client.upload_entities([entity(STORE, STORE_QN)])  # leaving an attribute out keeps it
    assert "mutatedEntities" not in omitted
    assert client.get_entity(guid=got["guid"])["entities"][0]["attributes"]["description"] == "new"


def test_unique_attribute_references_resolve_against_the_catalog_only(client: AtlasClient) -> None:
    same_call = [entity(STORE, STORE_QN, "-1"), entity(FSET, FS_QN, "-2", store=ref(STORE, STORE_QN))]
    raises_code(lambda: client.upload_entities(same_call), "ATLAS-404-00-00A")
    by_guid = [entity(STORE, STORE_QN, "-1"), entity(FSET, FS_QN, "-2", store={"guid": "-1"})]
    result = client.upload_entities(by_guid)
    assert set(result["guidAssignments"]) == {"-1", "-2"}
    assert len(result["mutatedEntities"]["CREATE"]) == 2


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (entity("no_such_type", "x"), "ATLAS-400-00-014"),
        ({"typeName": STORE, "attributes": {"qualifiedName": "x"}}, "ATLAS-404-00-007"),  # name missing
        (
            {"typeName": STORE, "attributes": {"qualifiedName": "x", "name": "x", "colour": 1}},
            "ATLAS-400-00-023",
        ),
        (
            {"typeName": STORE, "attributes": {"qualifiedName": "x", "name": "x", "tags": "a"}},
            "ATLAS-404-00-007",
        ),
        (entity(FSET, "y", store=ref(FEATURE, "z")), "ATLAS-400-00-01A"),  # wrong end type
        (entity(FSET, "y", store=ref(STORE, "missing")), "ATLAS-404-00-00A"),
        ({**entity(STORE, "x"), "classifications": [compliant()]}, "ATLAS-400-00-055"),
        (
            {
                **entity(FSET, "y"),
                "classifications": [
                    {"typeName": "FEATMESH.COMPLIANT", "attributes": {"evaluatedAt": "2024-05-01T12:00:00Z"}}
                ],
            },
            "ATLAS-404-00-007",
        ),
    ],
)
def test_bulk_refusals(atlas: FakeAtlas, client: AtlasClient, payload: dict, code: str) -> None:
    raises_code(lambda: client.upload_entities([payload]), code)
    assert atlas.entities() == {}  # all or nothing


def test_payload_classifications_only_on_create_unless_replaced(
    atlas: FakeAtlas, client: AtlasClient, store_and_set: dict[str, str]
) -> None:
    fs = entity(FSET, FS_QN, store=ref(STORE, STORE_QN))
    fs["classifications"] = [compliant(10.0)]
    client.upload_entities([fs])
    assert atlas.classifications(FSET, FS_QN)["FEATMESH.COMPLIANT"]["score"] == 90.0
    fs["classifications"] = [{"typeName": "FEATMESH.NON_COMPLIANT", "attributes": {"score": 10.0}}]
    auth = ("admin", "secret")
    answer = requests.post(
        atlas.base + "/entity/bulk?replaceClassifications=true", json={"entities": [fs]}, auth=auth
    )
    assert answer.status_code == 200
    assert set(atlas.classifications(FSET, FS_QN)) == {"FEATMESH.NON_COMPLIANT"}


def test_batch_size_returns_a_list(client: AtlasClient) -> None:
    batch = [entity(STORE, f"featmesh://feast/s{i}", f"-{i + 1}") for i in range(5)]
    results = client.upload_entities(batch, batch_size=2)
    assert isinstance(results, list) and len(results) == 3


# ----------------------------------------------------------------------------- reads


def test_reads_show_both_ends_and_lineage(client: AtlasClient, store_and_set: dict[str, str]) -> None:
    client.upload_entities([entity("featmesh_data_product", "abfss://raw", "-1")])
    pipe = {
        "typeName": PIPE,
        "attributes": {
            "qualifiedName": FS_QN + "/pipeline/source",
            "name": "p",
            "inputs": [ref("featmesh_data_product", "abfss://raw")],
            "outputs": [ref(FSET, FS_QN)],
        },
    }
    client.upload_entities([pipe])
    assert client.get_entity(qualifiedName="nope", typeName=STORE) == {}
    store = client.get_entity(qualifiedName=STORE_QN, typeName=STORE)["entities"][0]
    assert [
        r["uniqueAttributes"]["qualifiedName"] for r in store["relationshipAttributes"]["featureSets"]
    ] == [FS_QN]
    single = client.get_single_entity(store_and_set["fs"])
    rels = single["entity"]["relationshipAttributes"]
    assert rels["store"]["relationshipType"] == "featmesh_feature_store_feature_sets"
    assert rels["features"][0]["guid"] == store_and_set["feature"]
    assert rels["outputFromProcesses"][0]["typeName"] == PIPE
    assert single["entity"]["classifications"][0]["entityGuid"] == store_and_set["fs"]
    assert store_and_set["feature"] in single["referredEntities"]
    process = client.get_entity(qualifiedName=FS_QN + "/pipeline/source", typeName=PIPE)["entities"][0]
    assert process["attributes"]["inputs"][0]["uniqueAttributes"]["qualifiedName"] == "abfss://raw"
    raises_code(lambda: client.get_single_entity("00000000-0000-4000-8000-000000000000"), "ATLAS-404-00-005")


# ----------------------------------------------------------------------------- classifications


def test_classification_endpoints(
    atlas: FakeAtlas, client: AtlasClient, store_and_set: dict[str, str]
) -> None:
    guid = store_and_set["feature"]
    client.classify_entity(guid, [compliant(50.0)])
    raises_code(lambda: client.classify_entity(guid, [compliant()]), "ATLAS-400-00-01B")
    client.classify_entity(guid, [compliant(60.0)], force_update=True)
    assert atlas.classifications(FEATURE, FS_QN + "#f")["FEATMESH.COMPLIANT"]["score"] == 60.0
    store_guid = atlas.entity(STORE, STORE_QN)["guid"]  # type: ignore[index]
    raises_code(lambda: client.classify_entity(store_guid, [compliant()]), "ATLAS-400-00-055")
    retired = {"typeName": "FEATMESH.RETIRED", "attributes": {"retiredAt": 1714564800000}}
    client.classify_entity(store_guid, [retired])
    client.declassify_entity(guid, "FEATMESH.COMPLIANT")
    raises_code(lambda: client.declassify_entity(guid, "FEATMESH.COMPLIANT"), "ATLAS-404-00-008")
    assert atlas.classifications(FEATURE, FS_QN + "#f") == {}


# ----------------------------------------------------------------------------- deletes


def test_soft_delete_cascades_and_frees_the_qualified_name(
    atlas: FakeAtlas, client: AtlasClient, store_and_set: dict[str, str]
) -> None:
    result = client.delete_entity(guid=[store_and_set["fs"]])
    assert {h["guid"] for h in result["mutatedEntities"]["DELETE"]} == set(store_and_set.values())
    assert client.get_single_entity(store_and_set["fs"])["entity"]["status"] == "DELETED"
    assert client.get_entity(qualifiedName=FS_QN, typeName=FSET) == {}
    assert client.delete_entity(guid=[store_and_set["fs"]]) == {}  # already gone: no error
    again = client.upload_entities([entity(FSET, FS_QN, store=ref(STORE, STORE_QN))])
    assert again["mutatedEntities"]["CREATE"][0]["guid"] != store_and_set["fs"]
    statuses = sorted(e["status"] for e in atlas.snapshot()["entities"] if e["qualifiedName"] == FS_QN)
    assert statuses == ["ACTIVE", "DELETED"]


def test_hard_delete() -> None:
    with FakeAtlas(auth=None, delete="hard") as atlas:
        c = AtlasClient(atlas.base, BasicAuthentication("any", "one"))
        c.upload_typedefs(load_typedefs())
        guid = c.upload_entities([entity(STORE, STORE_QN)])["guidAssignments"]["-1"]
        c.delete_entity(guid=guid)
        raises_code(lambda: c.get_single_entity(guid), "ATLAS-404-00-005")


# ----------------------------------------------------------------------------- auth


def test_basic_auth_and_purview_bearer(atlas: FakeAtlas) -> None:
    wrong = AtlasClient(atlas.base, BasicAuthentication("admin", "guess"))
    with pytest.raises(requests.RequestException) as caught:
        wrong.get_all_typedefs()
    assert "guess" not in str(caught.value) and atlas.calls[-1].status == 401
    assert requests.get(atlas.base + "/types/typedefs").status_code == 401
    with FakeAtlas.purview("contoso", token="tok") as purview:
        from pyapacheatlas.auth.azcredential import AzCredentialWrapper

        client = AtlasClient(purview.base, AzCredentialWrapper(_Token()))
        assert "entityDefs" in client.get_all_typedefs()
        assert (
            requests.get(purview.base + "/types/typedefs", headers={"Authorization": "Bearer x"}).status_code
            == 401
        )


# ----------------------------------------------------------------------------- faults


def _retrying(call: Callable[[], Any]) -> Any:
    for _ in range(50):
        try:
            return call()
        except (requests.RequestException, AtlasException) as error:
            if isinstance(error, AtlasException):
                raise
    raise AssertionError("no success in 50 tries")


def _push_samples(client: AtlasClient) -> None:
    _, result = _read_all(str(SAMPLES / "manifests"))
    mapping = map_mesh(result.stores)
    _retrying(lambda: client.upload_typedefs(load_typedefs()))
    for _, group in groupby(mapping.entities, key=lambda e: e["typeName"]):
        batch = list(group)
        _retrying(lambda batch=batch: client.upload_entities(batch))


def test_faulty_push_ends_in_the_state_of_a_clean_push() -> None:
    with FakeAtlas(auth=None) as clean:
        _push_samples(AtlasClient(clean.base, BasicAuthentication("a", "b")))
    with FakeAtlas(auth=None, faults=0.3, seed=7, retry_after="0") as faulty:
        _push_samples(AtlasClient(faulty.base, BasicAuthentication("a", "b")))
    assert {c.fault for c in faulty.calls} - {None}  # some calls failed and were retried
    assert faulty.snapshot() == clean.snapshot()
    assert len(clean.entities()) == SAMPLE_MESH_ENTITIES


def test_scheduled_failure_hits_the_nth_call_before_state(atlas: FakeAtlas, client: AtlasClient) -> None:
    atlas.fail("POST", "/entity/bulk", nth=2, kind="429")
    client.upload_entities([entity(STORE, STORE_QN)])
    with pytest.raises(requests.RequestException):
        client.upload_entities([entity(STORE, "featmesh://feast/t")])
    assert atlas.entity(STORE, "featmesh://feast/t") is None
    atlas.fail("GET", "/entity/guid/{guid}", kind="drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(atlas.base + "/entity/guid/x", auth=("admin", "secret"))
    assert atlas.count("POST", "/entity/bulk") == 2
