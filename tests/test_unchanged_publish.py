"""A rescan maps and plans only the sets whose entities may differ from what the catalog
holds: the sets it does not evaluate again, whose mapping digest is the one the last scan
recorded, while nothing has written to the catalog since, are left as they are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.mapping import entities
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES, run_json


def _scan(folder: Path, db: Path, *extra: str) -> dict:
    result, summary = run_json("scan", str(folder), "--catalog", f"local:{db}", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return summary


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The qualifiedNames of the sets mapped to a feature set entity, in order."""
    seen: list[str] = []
    original = entities._feature_set

    def counting(fs, revision=None):
        seen.append(fs.qualified_name)
        return original(fs, revision)

    monkeypatch.setattr(entities, "_feature_set", counting)
    return seen


def _export(db: Path) -> dict:
    catalog = LocalCatalog(db, read_only=True)
    try:
        return {
            (e["typeName"], e["attributes"]["qualifiedName"]): {
                k: v for k, v in e["attributes"].items() if k not in ("revisionFirstSeen", "revisionFirstRun")
            }
            for e in catalog.export()
        }
    finally:
        catalog.close()


def test_an_unchanged_rescan_maps_no_set_and_counts_their_entities_unchanged(tmp_path, mapped):
    folder, db = tmp_path / "m", tmp_path / "c.db"
    shutil.copytree(SAMPLES / "manifests", folder)
    _scan(folder, db)
    assert len(mapped) == 9
    mapped.clear()
    second = _scan(folder, db)
    assert mapped == []
    assert second["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES and second["plan"]["create"] == 0
    assert second["counts"]["lineage"] > 0


def test_full_maps_every_set_again(tmp_path, mapped):
    folder, db = tmp_path / "m", tmp_path / "c.db"
    shutil.copytree(SAMPLES / "manifests", folder)
    _scan(folder, db)
    mapped.clear()
    _scan(folder, db, "--full")
    assert len(mapped) == 9


def test_a_write_after_the_last_scan_makes_the_next_map_every_set(tmp_path, mapped):
    folder, db = tmp_path / "m", tmp_path / "c.db"
    shutil.copytree(SAMPLES / "manifests", folder)
    _scan(folder, db)
    catalog = LocalCatalog(db)
    before = catalog.generation()
    catalog.db.execute("UPDATE entities SET attributes = '{}' WHERE type_name = 'featmesh_feature'")
    catalog.db.commit()
    catalog.close()
    # a hand edit outside an apply is not seen; what featmesh itself writes is
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SAMPLES / "manifests" / "marketing.yaml", other / "marketing.yaml")
    doc = yaml.safe_load((other / "marketing.yaml").read_text())
    doc["store"]["name"] = "marketing-copy"
    (other / "marketing.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    _scan(other, db)
    catalog = LocalCatalog(db, read_only=True)
    assert catalog.generation() != before
    catalog.close()
    mapped.clear()
    third = _scan(folder, db)
    assert len(mapped) == 9  # the other store's scan wrote since: nothing is trusted
    assert third["plan"]["update"] == 69  # the features edited by hand are rewritten


def test_a_set_reading_a_product_another_set_redeclares_is_mapped_again(tmp_path):
    """A set with two sources maps the columns each source declares, and a product's
    declaration is the first set's that reads it: editing that set's source columns
    changes the other set's lineage although the other set is not evaluated again."""
    folder, db, twin = tmp_path / "m", tmp_path / "c.db", tmp_path / "full.db"
    folder.mkdir()
    features = [
        {
            "name": "spend_30d",
            "dtype": "float64",
            "description": "Spend over 30 days.",
            "source_columns": ["amount"],
        },
        {
            "name": "visits_30d",
            "dtype": "int32",
            "description": "Visits over 30 days.",
            "source_columns": ["visit_id"],
        },
    ]
    source = {"name": "orders", "uri": "abfss://raw@lake.dfs.core.windows.net/orders/", "format": "parquet"}
    other = {"name": "visits", "uri": "abfss://raw@lake.dfs.core.windows.net/visits/", "format": "parquet"}
    doc = {
        "apiVersion": "featmesh/v1",
        "store": {"name": "shop", "domain": "retail", "owner": "team@contoso.com"},
        "feature_sets": [
            {
                "name": "orders_a",
                "description": "Orders features.",
                "owner": "team@contoso.com",
                "entities": [],
                "sources": [{**source, "columns": ["amount"]}],
                "features": features[:1],
            },
            {
                "name": "orders_b",
                "description": "Orders and visits features.",
                "owner": "team@contoso.com",
                "entities": [],
                "sources": [
                    {**source, "columns": ["amount", "visit_id"]},
                    {**other, "columns": ["visit_id"]},
                ],
                "features": features,
            },
        ],
    }
    path = folder / "shop.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    _scan(folder, db)
    doc["feature_sets"][0]["sources"][0]["columns"] = ["amount", "visit_id"]
    doc["feature_sets"][0]["description"] = "Orders features, now declaring visit ids."
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copy(db, twin)
    _scan(folder, db)
    _scan(folder, twin, "--full")
    assert _export(db) == _export(twin)


def test_the_local_catalog_reads_the_same_state_without_the_sets_own_keys(tmp_path):
    from featmesh.connector.runreport import RunReport
    from featmesh.connector.scan.read import read_sources
    from featmesh.connector.sources import SourceSpec

    folder = tmp_path / "manifests"
    shutil.copytree(SAMPLES / "manifests", folder)
    db = tmp_path / "c.db"
    _scan(folder, db)
    report = RunReport(command="scan")
    stores = read_sources([SourceSpec(kind="manifest", location=str(folder))], report).stores
    scopes = [store.qualified_name for store in stores]
    catalog = LocalCatalog(db, read_only=True)
    every = catalog.current(entities.mesh_keys(stores), scopes)
    outside = catalog.current(entities.mesh_keys(stores, own=False), scopes)
    assert len(entities.mesh_keys(stores, own=False)) < len(entities.mesh_keys(stores))
    assert set(every) == set(outside) and len(every) == SAMPLE_MESH_ENTITIES
    assert all(dict(every[k]) == dict(outside[k]) for k in every)
