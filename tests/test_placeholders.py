"""Placeholders retire: once a source's real entity is registered, the next scan points the
lineage at it and deletes featmesh's ``featmesh_data_product`` placeholder, unless another
process still reads it.

Atlas shows the processes reading or writing a DataSet in its ``inputToProcesses`` /
``outputFromProcesses`` relationship attributes (apache/atlas
``addons/models/0000-Area0/0010-base_model.json``: ``dataset_process_inputs``,
``process_dataset_outputs``); the Purview custom-connector accelerator removes its own
placeholders the same way once the real asset exists (issue text).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests

from featmesh.connector.catalog import open_catalog
from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.catalog.plan import Change, Plan, compute_plan, retire_placeholders
from featmesh.connector.mapping.entities import placeholder_qn, superseded_placeholders
from tests.conftest import SAMPLES, run_json
from tests.fakeatlas import FakeAtlas

MANIFESTS = SAMPLES / "manifests"
PRODUCT = "featmesh_data_product"
PIPELINE = "featmesh_feature_pipeline"
ADLS = "azure_datalake_gen2_path"
REAL_QN = "https://contosopayments.dfs.core.windows.net/curated/settlements/merchant_daily"
PLACEHOLDER = (PRODUCT, placeholder_qn(REAL_QN))
ADLS_TYPE = {"entityDefs": [{"name": ADLS, "superTypes": ["DataSet"], "attributeDefs": []}]}
REAL = {"typeName": ADLS, "attributes": {"qualifiedName": REAL_QN, "name": "merchant_daily"}}
ATLAS_URI = "atlas+https://atlas.example.com:21000"
BASE = "https://atlas.example.com:21000/api/atlas/v2"


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", "featmesh")
    monkeypatch.setenv("ATLAS_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    """payments.yaml, and a mirror store reading the same settlements source."""
    own, other = tmp_path / "own", tmp_path / "other"
    own.mkdir()
    other.mkdir()
    text = (MANIFESTS / "payments.yaml").read_text()
    (own / "payments.yaml").write_text(text)
    (other / "mirror.yaml").write_text(text.replace("  name: payments\n", "  name: payments_mirror\n", 1))
    return own, other


def _scan(folder: Path, uri: str) -> dict:
    result, summary = run_json("scan", str(folder), "--catalog", uri, "--json")
    assert result.exit_code in (0, 1), summary
    return summary


def _deleted(summary: dict) -> list[tuple[str, str]]:
    return [
        (c["typeName"], c["qualifiedName"]) for c in summary["plan"]["changes"] if c["action"] == "delete"
    ]


def _source_inputs(entities: dict, store: str) -> list[tuple[str, str]]:
    return sorted(
        (i["typeName"], i["uniqueAttributes"]["qualifiedName"])
        for (t, qn), e in entities.items()
        if t == PIPELINE
        and qn.startswith(f"featmesh://manifest/{store}/")
        and qn.endswith("/pipeline/source")
        for i in e["attributes"]["inputs"]
    )


def _register(fake: FakeAtlas, headers: dict[str, str]) -> None:
    """The data product's own scan registers the real path entity."""
    assert requests.post(f"{fake.base}/types/typedefs", json=ADLS_TYPE, headers=headers).ok
    answer = requests.post(f"{fake.base}/entity", json={"entity": REAL}, headers=headers)
    assert answer.ok, answer.text


@pytest.mark.parametrize("flavour", ["atlas", "purview"])
def test_the_placeholder_goes_once_the_real_entity_exists_and_nobody_reads_it(tmp_path, monkeypatch, flavour):
    own, other = _folders(tmp_path)
    if flavour == "purview":
        token = type("T", (), {"token": "t0k3n", "expires_on": 4102444800})()
        credential = type("C", (), {"get_token": lambda self, *s, **k: token})()
        monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
        fake, uri, headers = FakeAtlas.purview("contoso"), "purview://contoso", {"Authorization": "Bearer x"}
    else:
        fake = FakeAtlas(BASE, auth=("featmesh", "pw"))
        uri, headers = ATLAS_URI, {"Authorization": "Basic ZmVhdG1lc2g6cHc="}
    with fake:
        _scan(own, uri)
        _scan(other, uri)
        assert PLACEHOLDER in fake.entities()
        _register(fake, headers)

        summary = _scan(own, uri)  # the mirror's pipeline still reads the placeholder
        assert PLACEHOLDER not in _deleted(summary)
        assert PLACEHOLDER in fake.entities()
        assert (ADLS, REAL_QN) in _source_inputs(fake.entities(), "payments")
        assert PLACEHOLDER in _source_inputs(fake.entities(), "payments_mirror")

        summary = _scan(other, uri)  # its last reader moves to the real entity
        assert _deleted(summary) == [PLACEHOLDER]
        assert summary["applied"]["deleted"] == 1
        assert PLACEHOLDER not in fake.entities()
        assert (ADLS, REAL_QN) in _source_inputs(fake.entities(), "payments_mirror")
        assert fake.entity(ADLS, REAL_QN) is not None  # the real one is never touched

        again = _scan(other, uri)
        assert _deleted(again) == [] and not again["plan"]["delete"]


def test_local_catalog_retires_the_placeholder_too(tmp_path):
    own, other = _folders(tmp_path)
    uri = f"local:{tmp_path / 'c.db'}"
    _scan(own, uri)
    _scan(other, uri)
    catalog = LocalCatalog(tmp_path / "c.db")
    catalog.add_typedefs(ADLS_TYPE)
    current = catalog.current([(ADLS, REAL_QN)], [])
    catalog.apply(compute_plan([REAL], current), run_id="product-scan")
    held = catalog.current([PLACEHOLDER], [])[PLACEHOLDER]
    readers = {
        r["uniqueAttributes"]["qualifiedName"] for r in held["relationshipAttributes"]["inputToProcesses"]
    }
    assert any(qn.startswith("featmesh://manifest/payments/") for qn in readers)
    assert any(qn.startswith("featmesh://manifest/payments_mirror/") for qn in readers)
    catalog.close()

    assert PLACEHOLDER not in _deleted(_scan(own, uri))
    summary = _scan(other, uri)
    assert _deleted(summary) == [PLACEHOLDER]
    catalog = LocalCatalog(tmp_path / "c.db", read_only=True)
    assert not catalog.exists(*PLACEHOLDER)
    assert catalog.exists(ADLS, REAL_QN)
    catalog.close()


def _retired(summary: dict) -> list[tuple[str, str]]:
    return [
        (c["typeName"], c["qualifiedName"]) for c in summary["plan"]["changes"] if c["action"] == "retire"
    ]


def test_keep_deleted_retires_the_placeholder_once(tmp_path):
    """FEATMESH.RETIRED applies to featmesh_data_product (typedefs/classifications.json), so
    with --keep-deleted a superseded placeholder is classified and kept, not left as is."""
    own, _ = _folders(tmp_path)
    uri = f"local:{tmp_path / 'c.db'}"
    _scan(own, uri)
    catalog = LocalCatalog(tmp_path / "c.db")
    catalog.add_typedefs(ADLS_TYPE)
    catalog.apply(compute_plan([REAL], catalog.current([(ADLS, REAL_QN)], [])), run_id="p")
    catalog.close()
    result, summary = run_json("scan", str(own), "--catalog", uri, "--json", "--keep-deleted")
    assert result.exit_code in (0, 1), summary
    assert _retired(summary) == [PLACEHOLDER] and summary["plan"]["delete"] == 0
    assert summary["applied"]["retired"] == 1
    catalog = LocalCatalog(tmp_path / "c.db", read_only=True)
    held = catalog.current([PLACEHOLDER], [])[PLACEHOLDER]
    assert [c["typeName"] for c in held.get("classifications", [])] == ["FEATMESH.RETIRED"]
    catalog.close()
    result, again = run_json("scan", str(own), "--catalog", uri, "--json", "--keep-deleted")
    assert _retired(again) == [] and not again["plan"]["delete"]


def test_keep_deleted_retires_the_placeholder_in_atlas(tmp_path):
    own, _ = _folders(tmp_path)
    with FakeAtlas(BASE, auth=("featmesh", "pw")) as fake:
        _scan(own, ATLAS_URI)
        _register(fake, {"Authorization": "Basic ZmVhdG1lc2g6cHc="})
        result, summary = run_json("scan", str(own), "--catalog", ATLAS_URI, "--json", "--keep-deleted")
        assert result.exit_code in (0, 1), summary
        assert _retired(summary) == [PLACEHOLDER] and not summary["applied"].get("failed")
        assert "FEATMESH.RETIRED" in fake.classifications(*PLACEHOLDER)
        assert fake.entity(*PLACEHOLDER)["status"] == "ACTIVE"


def _pipeline(qn: str, source: tuple[str, str]) -> dict:
    return {
        "typeName": PIPELINE,
        "attributes": {
            "qualifiedName": qn,
            "inputs": [{"typeName": source[0], "uniqueAttributes": {"qualifiedName": source[1]}}],
        },
    }


def test_the_rule_counts_referrers_after_the_plan():
    placeholder = {
        "typeName": PRODUCT,
        "guid": "p1",
        "attributes": {"qualifiedName": PLACEHOLDER[1]},
        "relationshipAttributes": {
            "inputToProcesses": [
                {"typeName": PIPELINE, "uniqueAttributes": {"qualifiedName": "a/pipeline/source"}},
                {"guid": "g-b", "typeName": PIPELINE},
            ]
        },
    }
    current = {
        PLACEHOLDER: placeholder,
        (PIPELINE, "b/pipeline/source"): {"typeName": PIPELINE, "guid": "g-b", "attributes": {}},
    }
    moved = {(PIPELINE, "a/pipeline/source"): _pipeline("a/pipeline/source", (ADLS, REAL_QN))}

    plan = Plan()
    retire_placeholders(plan, [PLACEHOLDER], moved, current)
    assert plan.changes == []  # b (named by guid only) still reads it

    going = Plan([Change("delete", (PIPELINE, "b/pipeline/source"))])
    retire_placeholders(going, [PLACEHOLDER], moved, current)
    assert [c.key for c in going.of("delete")][-1] == PLACEHOLDER

    stays = {(PIPELINE, "a/pipeline/source"): _pipeline("a/pipeline/source", PLACEHOLDER)}
    plan = Plan([Change("delete", (PIPELINE, "b/pipeline/source"))])
    retire_placeholders(plan, [PLACEHOLDER], stays, current)
    assert PLACEHOLDER not in [c.key for c in plan.changes]

    unknown = dict(current)
    unknown[PLACEHOLDER] = {**placeholder, "relationshipAttributes": {"inputToProcesses": [{"guid": "zz"}]}}
    plan = Plan()
    retire_placeholders(plan, [PLACEHOLDER], moved, unknown)
    assert plan.changes == []  # a reader featmesh cannot name keeps it


def test_superseded_placeholders_come_from_pipelines_reading_real_entities():
    desired = [
        _pipeline("a/pipeline/source", (ADLS, REAL_QN)),
        _pipeline("b/pipeline/source", (ADLS, REAL_QN)),
        _pipeline("c/pipeline/source", (PRODUCT, "featmesh://data-product/x")),
    ]
    assert superseded_placeholders(desired) == [PLACEHOLDER]


SCHEMA_TYPES = {
    "entityDefs": [
        {
            "name": ADLS,
            "superTypes": ["DataSet"],
            "attributeDefs": [],
            "options": {"schemaElementsAttribute": "columns"},
        },
        {"name": "adls_column", "superTypes": ["DataSet"], "attributeDefs": []},
    ],
    "relationshipDefs": [
        {
            "name": "adls_path_columns",
            "relationshipCategory": "COMPOSITION",
            "propagateTags": "NONE",
            "endDef1": {"type": ADLS, "name": "columns", "isContainer": True, "cardinality": "SET"},
            "endDef2": {"type": "adls_column", "name": "path", "isContainer": False, "cardinality": "SINGLE"},
        }
    ],
}


@pytest.mark.parametrize("flavour", ["atlas", "local"])
def test_a_mapping_to_the_real_product_names_only_columns_its_schema_shows(tmp_path, flavour):
    """The real entity shows two of the four columns the set reads: the columnMapping keeps
    those, the scan says which it left out, and the placeholder goes with its columns."""
    own, _ = _folders(tmp_path)
    columns = [
        {
            "typeName": "adls_column",
            "attributes": {"qualifiedName": f"{REAL_QN}#{name}", "name": name},
            "relationshipAttributes": {
                "path": {"typeName": ADLS, "uniqueAttributes": {"qualifiedName": REAL_QN}}
            },
        }
        for name in ("chargebacks", "refunds")
    ]
    pipeline = (
        "featmesh_feature_pipeline",
        "featmesh://manifest/payments/merchant_risk_signals@1/pipeline/source",
    )
    if flavour == "atlas":
        fake = FakeAtlas(BASE, auth=("featmesh", "pw"))
        fake.start()
        uri, headers = ATLAS_URI, {"Authorization": "Basic ZmVhdG1lc2g6cHc="}
    else:
        uri = f"local:{tmp_path / 'c.db'}"
    try:
        _scan(own, uri)
        placeholder_columns = [
            f"{PLACEHOLDER[1]}#{c}" for c in ("chargebacks", "gross_volume_eur", "refunds", "settlement_date")
        ]
        if flavour == "atlas":
            held = fake.entities()
            assert all(("featmesh_column", qn) in held for qn in placeholder_columns)
            assert requests.post(f"{fake.base}/types/typedefs", json=SCHEMA_TYPES, headers=headers).ok
            for batch in ([REAL], columns):  # a reference by unique attributes needs the entity held
                answer = requests.post(f"{fake.base}/entity/bulk", json={"entities": batch}, headers=headers)
                assert answer.ok, answer.text
        else:
            catalog = LocalCatalog(tmp_path / "c.db")
            assert all(catalog.exists("featmesh_column", qn) for qn in placeholder_columns)
            catalog.add_typedefs(SCHEMA_TYPES)
            keys = [(e["typeName"], e["attributes"]["qualifiedName"]) for e in [REAL, *columns]]
            catalog.apply(compute_plan([REAL, *columns], catalog.current(keys, [])), run_id="p")
            catalog.close()
        summary = _scan(own, uri)
        assert _deleted(summary) == [PLACEHOLDER]
        said = [w for w in summary["warnings"] if "leaves out" in w]
        assert said == [
            "featmesh://manifest/payments/merchant_risk_signals@1: column-level lineage from "
            f"{ADLS} {REAL_QN} leaves out gross_volume_eur, settlement_date: not in the schema the "
            "catalog shows for it"
        ]
        if flavour == "atlas":
            entities = fake.entities()
            mapping = json.loads(entities[pipeline]["attributes"]["columnMapping"])
            assert not any(("featmesh_column", qn) in entities for qn in placeholder_columns)
        else:
            catalog = LocalCatalog(tmp_path / "c.db", read_only=True)
            mapping = json.loads(catalog.current([pipeline], [])[pipeline]["attributes"]["columnMapping"])
            assert not any(catalog.exists("featmesh_column", qn) for qn in placeholder_columns)
            catalog.close()
        (entry,) = mapping
        assert entry["DatasetMapping"]["Source"] == REAL_QN
        assert {c["Source"] for c in entry["ColumnMapping"]} == {"chargebacks", "refunds"}
    finally:
        if flavour == "atlas":
            fake.stop()
# ----------------------------------------------------------------- placeholders nobody reads

LAB = SAMPLES / "lab" / "fraud-lab.yaml"


def _labs(tmp_path: Path) -> tuple[Path, Path]:
    """The fraud lab and a mirror store beside it, both reading ``../data/*.parquet``."""
    shutil.copytree(SAMPLES / "data", tmp_path / "data")
    own, mirror = tmp_path / "lab", tmp_path / "mirror"
    own.mkdir()
    mirror.mkdir()
    text = LAB.read_text()
    (own / "fraud-lab.yaml").write_text(text)
    renamed = text.replace("  name: fraud-lab\n", "  name: fraud-lab-mirror\n", 1)
    (mirror / "fraud-lab.yaml").write_text(renamed)
    return own, mirror


def _as_named_before(uri: str, folder: Path, store: str) -> list[tuple[str, str]]:
    """Turn a store's lineage into what a scan made before repo-local files were named by
    their store (``file:manifest/STORE/path``): each pipeline reads a placeholder named by
    the file's absolute path on the scanning machine, and a real lake entity too, and the
    ``file:`` placeholders are not there. Returns the old placeholders."""
    catalog = open_catalog(uri)
    try:
        held = catalog.current([], [f"featmesh://manifest/{store}"])
        prefix = placeholder_qn(f"file:manifest/{store}/")
        desired, new, old = [], set(), {}
        for (type_name, qn), entity in sorted(held.items()):
            if type_name != PIPELINE or not qn.endswith("/pipeline/source"):
                continue
            inputs = []
            for ref in entity["attributes"]["inputs"]:
                ref_qn = ref["uniqueAttributes"]["qualifiedName"]
                assert ref_qn.startswith(prefix), ref_qn
                new.add((PRODUCT, ref_qn))
                absolute = placeholder_qn(str((folder / ref_qn.removeprefix(prefix)).resolve()))
                old[absolute] = None
                inputs.append({"typeName": PRODUCT, "uniqueAttributes": {"qualifiedName": absolute}})
            inputs.append({"typeName": ADLS, "uniqueAttributes": {"qualifiedName": REAL_QN}})
            desired.append({"typeName": PIPELINE, "attributes": {**entity["attributes"], "inputs": inputs}})
        desired += [
            {"typeName": PRODUCT, "attributes": {"qualifiedName": qn, "name": qn.rsplit("/", 1)[-1]}}
            for qn in old
        ]
        keys = [(e["typeName"], e["attributes"]["qualifiedName"]) for e in desired]
        current = catalog.current([*keys, *new], [])
        plan = compute_plan(desired, current)
        plan.changes += [Change("delete", k, current=current[k]) for k in sorted(new) if k in current]
        catalog.apply(plan, run_id="before-file-identities")
    finally:
        catalog.close()
    return [(PRODUCT, qn) for qn in old]


def _products(uri: str, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    catalog = open_catalog(uri, read_only=True)
    try:
        return set(catalog.current(keys, []))
    finally:
        catalog.close()


@pytest.mark.parametrize("flavour", ["local", "atlas", "purview"])
def test_a_placeholder_no_set_reads_any_more_goes_and_the_new_one_stays(tmp_path, monkeypatch, flavour):
    """A catalog scanned when repo-local files were named by their absolute path: the
    rescan's pipelines read the ``file:STORE/path`` placeholders, and the absolute-path
    ones, which nothing reads any more, are deleted; the real lake entity the old lineage
    also read is never touched."""
    own, _ = _labs(tmp_path)
    fake, uri = FakeAtlas(BASE, auth=("featmesh", "pw")), ATLAS_URI
    headers = {"Authorization": "Basic ZmVhdG1lc2g6cHc="}
    if flavour == "purview":
        token = type("T", (), {"token": "t0k3n", "expires_on": 4102444800})()
        credential = type("C", (), {"get_token": lambda self, *s, **k: token})()
        monkeypatch.setattr("featmesh.connector.catalog.auth.azure_credential", lambda env=None: credential)
        fake, uri, headers = FakeAtlas.purview("contoso"), "purview://contoso", {"Authorization": "Bearer x"}
    elif flavour == "local":
        uri = f"local:{tmp_path / 'c.db'}"
    with fake:
        _scan(own, uri)
        new = [k for k in _source_inputs_of(uri, "fraud-lab")]
        assert len(new) == 3 and all(qn.startswith("featmesh://data-product/file:") for _, qn in new)
        catalog = open_catalog(uri)
        if flavour == "local":
            catalog.add_typedefs(ADLS_TYPE)
        else:
            assert requests.post(f"{fake.base}/types/typedefs", json=ADLS_TYPE, headers=headers).ok
        catalog.apply(compute_plan([REAL], catalog.current([(ADLS, REAL_QN)], [])), run_id="lake-scan")
        catalog.close()
        old = _as_named_before(uri, own, "fraud-lab")
        assert len(old) == 3 and _products(uri, [*old, *new]) == set(old)

        summary = _scan(own, uri)
        assert sorted(_deleted(summary)) == sorted(old)
        assert _products(uri, [*old, *new, (ADLS, REAL_QN)]) == {*new, (ADLS, REAL_QN)}
        assert sorted(_source_inputs_of(uri, "fraud-lab")) == sorted(new)
        again = _scan(own, uri)
        assert _deleted(again) == []


def test_a_placeholder_a_store_not_scanned_still_reads_stays(tmp_path):
    """Two stores read the same old placeholders; scanning one leaves them to the other
    (its pipelines still read them), and the other's scan deletes them."""
    own, mirror = _labs(tmp_path)
    uri = f"local:{tmp_path / 'c.db'}"
    _scan(own, uri)
    _scan(mirror, uri)
    catalog = open_catalog(uri)
    catalog.add_typedefs(ADLS_TYPE)
    catalog.apply(compute_plan([REAL], catalog.current([(ADLS, REAL_QN)], [])), run_id="lake-scan")
    catalog.close()
    old = _as_named_before(uri, own, "fraud-lab")
    assert _as_named_before(uri, mirror, "fraud-lab-mirror") == old  # the same files

    summary = _scan(own, uri)
    assert [k for k in _deleted(summary) if k in old] == []
    assert _products(uri, old) == set(old)
    assert set(old) <= set(_source_inputs_of(uri, "fraud-lab-mirror"))

    summary = _scan(mirror, uri)
    assert sorted(_deleted(summary)) == sorted(old)
    assert _products(uri, old) == set()


def _source_inputs_of(uri: str, store: str) -> list[tuple[str, str]]:
    catalog = open_catalog(uri, read_only=True)
    try:
        held = catalog.current([], [f"featmesh://manifest/{store}"])
    finally:
        catalog.close()
    return sorted(
        (i["typeName"], i["uniqueAttributes"]["qualifiedName"])
        for (t, qn), e in held.items()
        if t == PIPELINE and qn.endswith("/pipeline/source")
        for i in e["attributes"]["inputs"]
    )



def test_former_placeholders_nothing_reads_are_found_by_name(tmp_path):
    """A catalog whose pipelines already read the ``file:`` placeholders yet still holds
    the ones named before (by the absolute path, Feast's former name, or by the path as
    written, the other readers'): no process names them, so they are looked up by those
    names, and deleted. One another store's pipeline still reads stays."""
    own, _ = _labs(tmp_path)
    uri = f"local:{tmp_path / 'c.db'}"
    _scan(own, uri)
    files = sorted((tmp_path / "data").glob("*.parquet"))
    assert len(files) == 3 and all(f.name in LAB.read_text() for f in files)
    absolute = [(PRODUCT, placeholder_qn(str(f))) for f in files]
    written = [(PRODUCT, placeholder_qn(f"../data/{f.name}")) for f in files]
    catalog = open_catalog(uri)
    old = [
        {"typeName": PRODUCT, "attributes": {"qualifiedName": qn, "name": qn.rsplit("/", 1)[-1]}}
        for _, qn in absolute + written
    ]
    reader = _pipeline("featmesh://manifest/elsewhere/x@1/pipeline/source", written[0])
    reader["attributes"]["name"] = "x source"
    catalog.apply(compute_plan([*old, reader], catalog.current([], [])), run_id="before")
    catalog.close()

    summary = _scan(own, uri)
    assert sorted(_deleted(summary)) == sorted([*absolute, *written[1:]])
    assert _products(uri, absolute + written) == {written[0]}
    assert _deleted(_scan(own, uri)) == []
