"""featmesh's verdict as business metadata (Purview's managed attributes).

Shapes and rules, from the services' own references:
- the typedef: ``businessMetadataDefs`` with ``category BUSINESS_METADATA``, each attribute's
  ``options.applicableEntityTypes`` a JSON list in a string and a string's ``maxStrLength``
  (https://learn.microsoft.com/rest/api/purview/datamapdataplane/type/get-business-metadata-def-by-guid,
  https://learn.microsoft.com/purview/tutorial-atlas-2-2-apis);
- values on an entity: ``businessAttributes {group: {attribute: value}}``;
  ``POST /entity/guid/{guid}/businessmetadata?isOverwrite=`` (default false: only the attributes
  given change; https://learn.microsoft.com/rest/api/purview/datamapdataplane/entity/add-or-update-business-metadata);
- Purview's bulk write takes ``businessAttributeUpdateBehavior`` ignore / replace / merge
  (https://learn.microsoft.com/rest/api/purview/datamapdataplane/entity/bulk-create-or-update);
  Atlas's bulk write applies them to new entities only (apache/atlas EntityGraphMapper);
- a group or attribute not applicable to the entity's type is refused with 404
  ATLAS-404-00-007 (apache/atlas ``AtlasEntityStoreV2.validateBusinessAttributes``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from featmesh.connector.catalog.local import LocalCatalog
from tests.conftest import SAMPLES, run_json
from tests.fakeatlas import FakeAtlas

ATLAS_URI = "atlas+https://atlas.example.com:21000"
BASE = "https://atlas.example.com:21000/api/atlas/v2"
BASIC = {"Authorization": "Basic ZmVhdG1lc2g6cHc="}
MANIFESTS = SAMPLES / "manifests"
SET = ("featmesh_feature_set", "featmesh://manifest/payments/transaction_aggregates@2")
BM_PATH = "/entity/guid/{guid}/businessmetadata"
STEWARD = {
    "businessMetadataDefs": [
        {
            "category": "BUSINESS_METADATA",
            "name": "stewardship",
            "attributeDefs": [
                {
                    "name": "reviewedBy",
                    "typeName": "string",
                    "isOptional": True,
                    "cardinality": "SINGLE",
                    "options": {"applicableEntityTypes": '["DataSet"]', "maxStrLength": "100"},
                }
            ],
        }
    ]
}


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)
    access = SimpleNamespace(token="t0k3n", expires_on=4102444800)
    credential = SimpleNamespace(get_token=lambda *scopes, **kw: access)
    monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)


def _folder(tmp_path: Path, edit: bool = False) -> Path:
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    for path in MANIFESTS.glob("*.yaml"):
        text = path.read_text()
        if edit and path.name == "payments.yaml":
            text = text.replace("ttl: 2d", "ttl: 30d")  # a longer TTL than the pack allows
        (folder / path.name).write_text(text)
    return folder


def _scan(folder: Path, uri: str) -> dict:
    result, summary = run_json("scan", str(folder), "--catalog", uri, "--json")
    assert result.exit_code in (0, 1), summary
    assert not summary["applied"]["failed"], summary["applied"]["failed"]
    return summary


def _fake(flavour: str) -> tuple[FakeAtlas, str, dict[str, str]]:
    if flavour == "purview":
        return (
            FakeAtlas.purview("contoso"),
            "purview+https://contoso.purview.azure.com",
            {"Authorization": "Bearer x"},
        )
    return FakeAtlas(BASE, auth=("featmesh", "pw")), ATLAS_URI, BASIC


@pytest.mark.parametrize("flavour", ["atlas", "purview"])
def test_the_verdict_is_business_metadata_and_a_steward_group_stays(tmp_path, flavour):
    fake, uri, headers = _fake(flavour)
    with fake:
        _scan(_folder(tmp_path), uri)
        assert fake.typedef("featmesh")["category"] == "BUSINESS_METADATA"
        held = fake.business_metadata(*SET)["featmesh"]
        verdict = fake.classifications(*SET)
        name = next(iter(verdict))
        assert held["compliant"] is (name == "FEATMESH.COMPLIANT")
        for key in ("score", "grade", "policyPack", "policyPackVersion", "evaluatedAt"):
            assert held[key] == verdict[name][key], key
        feature = ("featmesh_feature", SET[1] + "#txn_count_7d")
        assert "featmesh" in fake.business_metadata(*feature)

        # a steward adds their own managed attribute in the portal
        assert requests.post(f"{fake.base}/types/typedefs", json=STEWARD, headers=headers).ok
        guid = fake.entity(*SET)["guid"]
        answer = requests.post(
            f"{fake.base}/entity/guid/{guid}/businessmetadata",
            json={"stewardship": {"reviewedBy": "ana"}},
            headers=headers,
        )
        assert answer.status_code == 204, answer.text

        calls = fake.count("POST", BM_PATH)
        again = _scan(_folder(tmp_path), uri)
        assert again["plan"]["update"] == again["plan"]["create"] == 0
        assert fake.count("POST", BM_PATH) == calls  # an unchanged rescan writes nothing

        changed = _scan(_folder(tmp_path, edit=True), uri)
        assert any(
            "business:featmesh" in c["fields"] for c in changed["plan"]["changes"] if c["action"] == "update"
        )
        now = fake.business_metadata(*SET)
        assert now["stewardship"] == {"reviewedBy": "ana"}
        assert now["featmesh"]["score"] < held["score"]
        assert (
            now["featmesh"]["score"]
            == fake.classifications(*SET)[next(iter(fake.classifications(*SET)))]["score"]
        )
        if flavour == "atlas":  # Atlas's bulk update ignores business metadata
            assert fake.count("POST", BM_PATH) > calls
        else:  # Purview merges it from the bulk write
            assert fake.count("POST", BM_PATH) == calls


def test_the_fake_refuses_what_atlas_refuses():
    with FakeAtlas(BASE, auth=("featmesh", "pw")) as fake:
        doc = requests.get(f"{fake.base}/types/typedefs", headers=BASIC).json()
        assert doc["businessMetadataDefs"] == []
        from featmesh.typedefs import load_typedefs

        assert requests.post(f"{fake.base}/types/typedefs", json=load_typedefs(), headers=BASIC).ok
        model = {"typeName": "featmesh_model", "attributes": {"qualifiedName": "m", "name": "m"}}
        answer = requests.post(f"{fake.base}/entity", json={"entity": model}, headers=BASIC)
        guid = next(iter(answer.json()["guidAssignments"].values()))
        for body in ({"featmesh": {"score": 1.0}}, {"nobody": {"x": 1}}):
            answer = requests.post(
                f"{fake.base}/entity/guid/{guid}/businessmetadata", json=body, headers=BASIC
            )
            assert answer.status_code == 404
            assert answer.json()["errorCode"] == "ATLAS-404-00-007"
            assert "invalid business-metadata for entity type featmesh_model" in answer.json()["errorMessage"]
        inline = {**model, "attributes": {"qualifiedName": "m2", "name": "m2"}}
        inline["businessAttributes"] = {"featmesh": {"score": 1.0}}
        answer = requests.post(f"{fake.base}/entity/bulk", json={"entities": [inline]}, headers=BASIC)
        assert answer.status_code == 404 and answer.json()["errorCode"] == "ATLAS-404-00-007"
        # narrowing where an attribute applies is refused (ATLAS-400-00-093)
        narrowed = load_typedefs()
        for attr in narrowed["businessMetadataDefs"][0]["attributeDefs"]:
            attr["options"]["applicableEntityTypes"] = '["featmesh_feature_set"]'
        answer = requests.put(f"{fake.base}/types/typedefs", json=narrowed, headers=BASIC)
        assert answer.status_code == 400 and answer.json()["errorCode"] == "ATLAS-400-00-093"


def test_local_catalog_stores_it_and_a_rescan_writes_nothing(tmp_path):
    uri = f"local:{tmp_path / 'c.db'}"
    _scan(_folder(tmp_path), uri)
    catalog = LocalCatalog(tmp_path / "c.db", read_only=True)
    held = catalog.current([SET], [])[SET]
    assert held["businessAttributes"]["featmesh"]["policyPack"]
    catalog.close()
    again = _scan(_folder(tmp_path), uri)
    assert again["plan"]["update"] == again["plan"]["create"] == 0


def test_a_catalog_written_before_business_metadata_gets_it_on_the_next_scan(tmp_path):
    """An incremental scan skips unchanged sets, but not those the catalog holds without the
    featmesh group (written by an earlier featmesh): they are evaluated once more and get it."""
    uri = f"local:{tmp_path / 'c.db'}"
    _scan(_folder(tmp_path), uri)
    with sqlite3.connect(tmp_path / "c.db") as db:
        db.execute("DELETE FROM business_metadata")
    summary = _scan(_folder(tmp_path), uri)
    updated = {c["qualifiedName"] for c in summary["plan"]["changes"] if "business:featmesh" in c["fields"]}
    assert SET[1] in updated
    catalog = LocalCatalog(tmp_path / "c.db", read_only=True)
    assert "featmesh" in catalog.current([SET], [])[SET]["businessAttributes"]
    catalog.close()
    again = _scan(_folder(tmp_path), uri)
    assert again["plan"]["update"] == 0
