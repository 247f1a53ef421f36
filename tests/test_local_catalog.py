"""The embedded catalog refuses what Atlas refuses, and applies all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.catalog.plan import compute_plan
from featmesh.connector.errors import CatalogError, InputError
from featmesh.connector.mapping.entities import map_mesh
from featmesh.connector.model import Feature, FeatureSet, FeatureStore, SourceRef


def _catalog(tmp_path: Path, **kwargs) -> LocalCatalog:
    catalog = LocalCatalog(tmp_path / "c.db", **kwargs)
    catalog.sync_typedefs()
    return catalog


def _store(*names: str) -> FeatureStore:
    sets = tuple(
        FeatureSet(
            store_kind="manifest",
            store="s",
            name=n,
            version="1",
            features=(Feature(name="f", dtype="int64"),),
            sources=(SourceRef(kind="adls", uri="abfss://raw@acct.dfs.core.windows.net/t/"),),
        )
        for n in names
    )
    return FeatureStore(kind="manifest", name="s", uri="x", feature_sets=sets)


def _apply(catalog: LocalCatalog, entities, scopes=(), **kwargs):
    current = catalog.current([(e["typeName"], e["attributes"]["qualifiedName"]) for e in entities], scopes)
    plan = compute_plan(entities, current, delete_scope=scopes, **kwargs)
    return plan, catalog.apply(plan, run_id="r")


def _count(catalog: LocalCatalog) -> int:
    return catalog.db.execute("SELECT count(*) FROM entities").fetchone()[0]


def test_unknown_type_and_missing_required_attribute_are_refused(tmp_path):
    catalog = _catalog(tmp_path)
    good = map_mesh([_store("a")]).entities
    unknown = {"typeName": "hive_table", "attributes": {"qualifiedName": "x", "name": "x"}}
    with pytest.raises(CatalogError, match="hive_table") as err:
        _apply(catalog, [*good, unknown])
    assert err.value.status == 400
    nameless = {"typeName": "featmesh_data_product", "attributes": {"qualifiedName": "y"}}
    with pytest.raises(CatalogError, match="name"):
        _apply(catalog, [*good, nameless])
    assert _count(catalog) == 0  # all or nothing


def test_a_reference_to_a_missing_entity_fails_like_atlas(tmp_path):
    catalog = _catalog(tmp_path)
    entities = [e for e in map_mesh([_store("a")]).entities if e["typeName"] != "featmesh_feature_store"]
    with pytest.raises(CatalogError, match="ATLAS-404-00-00A") as err:
        _apply(catalog, entities)
    assert err.value.status == 404
    assert _count(catalog) == 0


def test_classification_entity_types_are_enforced(tmp_path):
    catalog = _catalog(tmp_path)
    entities = map_mesh([_store("a")]).entities
    store = next(e for e in entities if e["typeName"] == "featmesh_feature_store")
    store["classifications"] = [{"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": 1.0}}]
    with pytest.raises(CatalogError, match=r"FEATMESH\.COMPLIANT"):
        _apply(catalog, entities)
    assert _count(catalog) == 0


def test_existing_entities_resolve_sources_and_keep_deleted_retires(tmp_path):
    catalog = _catalog(tmp_path)
    catalog.add_typedefs(
        {"entityDefs": [{"name": "azure_datalake_gen2_path", "superTypes": ["DataSet"], "attributeDefs": []}]}
    )
    adls = {
        "typeName": "azure_datalake_gen2_path",
        "attributes": {"qualifiedName": "https://acct.dfs.core.windows.net/raw/t", "name": "t"},
    }
    _apply(catalog, [adls])
    mapping = map_mesh([_store("a", "b")], exists=catalog.exists)
    assert mapping.external_sources == [
        ("azure_datalake_gen2_path", "https://acct.dfs.core.windows.net/raw/t")
    ]
    _apply(catalog, mapping.entities, scopes=["featmesh://manifest/s"], keep_deleted=True)
    plan, result = _apply(
        catalog,
        map_mesh([_store("a")], exists=catalog.exists).entities,
        scopes=["featmesh://manifest/s"],
        keep_deleted=True,
    )
    assert plan.counts()["retire"] == 3 and plan.counts()["delete"] == 0
    assert result.retired == 3 and result.deleted == 0
    retired = catalog.db.execute(
        "SELECT count(*) FROM classifications WHERE type_name = 'FEATMESH.RETIRED'"
    ).fetchone()[0]
    assert retired == 3
    plan, _ = _apply(
        catalog,
        map_mesh([_store("a")], exists=catalog.exists).entities,
        scopes=["featmesh://manifest/s"],
        keep_deleted=True,
    )
    assert not plan.writes  # already retired: nothing more to do


def test_read_only_never_creates_the_file(tmp_path):
    path = tmp_path / "none.db"
    catalog = LocalCatalog(path, read_only=True)
    assert catalog.export() == []
    catalog.close()
    assert not path.exists()


def test_a_file_that_is_not_a_catalog_is_an_input_error(tmp_path):
    path = tmp_path / "x.db"
    path.write_text("not sqlite")
    with pytest.raises(InputError, match="not a featmesh catalog"):
        LocalCatalog(path)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.commit()
    with pytest.raises(InputError, match="not a featmesh catalog: no such table: meta"):
        LocalCatalog(other, read_only=True)


def test_published_sets_leave_out_the_excluded_stores_undecoded(tmp_path):
    from featmesh.connector.model import to_dict
    from tests.conftest import SAMPLES, run

    db = tmp_path / "c.db"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", f"local:{db}").exit_code == 0
    catalog = LocalCatalog(db, read_only=True)
    try:
        every = catalog.published_feature_sets()
        rest = catalog.published_feature_sets(exclude_stores=[("manifest", "payments"), ("manifest", "nope")])
    finally:
        catalog.close()
    assert {fs.store for fs in every} == {"payments", "customer-360", "marketing", "risk-shared"}
    kept = [to_dict(fs) for fs in every if fs.store != "payments"]
    assert [to_dict(fs) for fs in rest] == kept and len(rest) == len(every) - 3


def test_features_are_read_by_key_until_filled_and_then_compare_as_stored(tmp_path):
    catalog = _catalog(tmp_path)
    desired = map_mesh([_store("a", "b")]).entities
    for entity in desired:
        if entity["typeName"] == "featmesh_feature":
            entity["classifications"] = [{"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": 90.0}}]
    _apply(catalog, desired)
    generation = catalog.generation()
    scope = ["featmesh://manifest/s"]
    keys = [(e["typeName"], e["attributes"]["qualifiedName"]) for e in desired]
    current = catalog.current(keys, scope)
    features = [e for (kind, _), e in current.items() if kind == "featmesh_feature"]
    assert len(features) == 2 and all(e.deferred for e in features)
    assert all(not e.deferred for (kind, _), e in current.items() if kind != "featmesh_feature")
    catalog.fill(current)
    assert not any(e.deferred for e in features)
    assert [c["typeName"] for c in features[0]["classifications"]] == ["FEATMESH.COMPLIANT"]
    assert compute_plan(desired, current, delete_scope=scope).counts()["unchanged"] == len(desired)
    # one read alone, unfilled, reads itself
    lone = catalog.current([], scope)[("featmesh_feature", features[1]["attributes"]["qualifiedName"])]
    assert lone.deferred and lone["attributes"]["dataType"] == "int64" and not lone.deferred
    assert catalog.generation() == generation  # reading writes nothing
    _apply(catalog, map_mesh([_store("a")]).entities, scope)
    assert catalog.generation() != generation
