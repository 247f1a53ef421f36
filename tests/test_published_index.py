"""The local catalog's ``published_sets`` index: one compact row per published feature
set, kept by each apply, read by the mesh-wide rules instead of every entity's JSON."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from featmesh.connector.catalog.local import INDEX_FORM, INDEXED, LocalCatalog
from featmesh.connector.mapping.entities import FEATURE, FEATURE_SET
from featmesh.connector.mapping.reverse import feature_sets_from_entities
from featmesh.connector.model import to_dict
from tests.conftest import SAMPLES, run


def _from_entities(catalog: LocalCatalog, exclude: set[tuple[str, str]] = frozenset()) -> list[dict]:
    """What the catalog held before the index: every entity decoded, then filtered."""
    sets = feature_sets_from_entities(catalog._entities_of(FEATURE_SET), catalog._entities_of(FEATURE))
    return [to_dict(fs) for fs in sets if (fs.store_kind, fs.store) not in exclude]


def _indexed(catalog: LocalCatalog, exclude: set[tuple[str, str]] = frozenset()) -> list[dict]:
    assert catalog._indexed
    return [to_dict(fs) for fs in catalog.published_feature_sets(exclude_stores=exclude)]


def _same(db: Path, exclude: set[tuple[str, str]]) -> int:
    """The indexed sets equal the decoded entities, in the same order, with and without
    ``exclude``; returns how many sets the catalog holds."""
    catalog = LocalCatalog(db, read_only=True)
    try:
        every = _indexed(catalog)
        assert every == _from_entities(catalog)
        rest = _indexed(catalog, exclude)
        assert rest == _from_entities(catalog, exclude)
        assert len(rest) < len(every)  # the exclusion leaves out a store that is there
        rows = catalog.db.execute("SELECT count(*) FROM published_sets").fetchone()[0]
        assert rows == len(every)
        return len(every)
    finally:
        catalog.close()


@pytest.fixture(scope="module")
def meshgen():
    sys.path.insert(0, str(SAMPLES.parent / "bench"))
    import meshgen

    return meshgen


def test_the_index_follows_each_scan(tmp_path, meshgen):
    config = meshgen.generate(tmp_path / "mesh", 80, features=6)
    db = tmp_path / "c.db"
    scan = ("scan", "--config", str(config), "--catalog", f"local:{db}")
    assert run(*scan).exit_code in (0, 1)
    exclude = {("manifest", "payments-features"), ("manifest", "risk-features"), ("manifest", "nope")}
    first = _same(db, exclude)
    assert first == 80

    assert meshgen.change(tmp_path / "mesh", 0.2) > 0  # descriptions edited in place
    assert run(*scan).exit_code in (0, 1)
    _same(db, exclude)

    manifest = sorted((tmp_path / "mesh" / "manifests").rglob("*.yaml"))[0]
    text = manifest.read_text()
    assert "dtype: " in text
    manifest.write_text(text.replace("dtype: float64", "dtype: string", 1))  # a feature changes
    assert run(*scan).exit_code in (0, 1)
    _same(db, exclude)

    removed = sorted((tmp_path / "mesh" / "manifests").rglob("*.yaml"))[-1]
    removed.unlink()  # its sets leave the catalog (deleted or retired)
    assert run(*scan).exit_code in (0, 1)
    _same(db, exclude)


def test_excluded_stores_are_not_decoded(tmp_path, monkeypatch):
    db = tmp_path / "c.db"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", f"local:{db}").exit_code in (0, 1)
    catalog = LocalCatalog(db, read_only=True)
    import featmesh.connector.catalog.local as local

    decoded: list[str] = []
    real = local.feature_set_from_index

    def read(body):
        decoded.append(body)
        return real(body)

    monkeypatch.setattr(local, "feature_set_from_index", read)
    try:
        rest = catalog.published_feature_sets(exclude_stores=[("manifest", "payments")])
    finally:
        monkeypatch.undo()
        catalog.close()
    assert rest and all(fs.store != "payments" for fs in rest)
    assert len(decoded) == len(rest)  # one document per set read, none for payments


def test_a_catalog_without_the_index_is_indexed_once_on_open(tmp_path):
    db = tmp_path / "c.db"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", f"local:{db}").exit_code in (0, 1)
    catalog = LocalCatalog(db)
    expected = _indexed(catalog)
    with catalog.db:  # as a catalog written before the index existed
        catalog.db.execute("DROP TABLE published_sets")
        catalog.db.execute("DELETE FROM meta WHERE key = ?", (INDEXED,))
    catalog.close()

    old = LocalCatalog(db, read_only=True)  # read-only: never changes the file
    try:
        assert not old._indexed
        assert [to_dict(fs) for fs in old.published_feature_sets()] == expected
        assert old.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'published_sets'").fetchone() is None
    finally:
        old.close()

    migrated = LocalCatalog(db)  # the first writer builds it
    migrated.close()
    _same(db, {("manifest", "payments")})
    again = LocalCatalog(db, read_only=True)
    try:
        assert _indexed(again) == expected
    finally:
        again.close()


def _rewrite_rows(db: Path, change) -> None:
    catalog = LocalCatalog(db)
    try:
        with catalog.db:
            for qn, body in catalog.db.execute("SELECT qualified_name, body FROM published_sets").fetchall():
                catalog.db.execute(
                    "UPDATE published_sets SET body = ? WHERE qualified_name = ?",
                    (json.dumps(change(json.loads(body))), qn),
                )
    finally:
        catalog.close()


def test_rows_of_either_form_read_back_as_the_entities(tmp_path):
    """A row written before the members took the model's field names holds ``features``
    (entity attributes); a member whose value is of another type than the model's (a
    number as a tag value, as a catalog may echo it) is read the general way, as before."""
    db = tmp_path / "c.db"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", f"local:{db}").exit_code in (0, 1)
    catalog = LocalCatalog(db, read_only=True)
    try:
        expected = _from_entities(catalog)
        features: dict[str, list[dict]] = {}
        for entity in catalog._entities_of(FEATURE):
            attrs = entity["attributes"]
            features.setdefault(attrs["qualifiedName"].split("#", 1)[0], []).append(attrs)
    finally:
        catalog.close()
    names = ("name", "dataType", "rawType", "description", "tags", "sourceColumns", "transformation")

    def earlier(doc: dict) -> dict:
        own = features.get(doc["set"]["qualifiedName"], [])
        return {"set": doc["set"], "features": [{k: f[k] for k in names if k in f} for f in own]}

    _rewrite_rows(db, earlier)
    catalog = LocalCatalog(db)
    with catalog.db:  # as the featmesh that wrote rows of the first form left its index
        catalog.db.execute("UPDATE meta SET value = '1' WHERE key = ?", (INDEXED,))
    catalog.close()
    catalog = LocalCatalog(db, read_only=True)
    try:
        assert _indexed(catalog) == expected
        rows = catalog.db.execute("SELECT body FROM published_sets").fetchall()
        assert all("members" not in json.loads(b) for (b,) in rows)
    finally:
        catalog.close()
    catalog = LocalCatalog(db)  # the first writable open rebuilds the rows in this form, once
    catalog.close()
    catalog = LocalCatalog(db, read_only=True)
    try:
        bodies = [json.loads(b) for (b,) in catalog.db.execute("SELECT body FROM published_sets")]
        assert bodies and all("members" in b for b in bodies)
        form = catalog.db.execute("SELECT value FROM meta WHERE key = ?", (INDEXED,)).fetchone()[0]
        assert form == INDEX_FORM
        assert _indexed(catalog) == expected
    finally:
        catalog.close()

    db2 = tmp_path / "c2.db"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", f"local:{db2}").exit_code in (0, 1)

    def numbered(doc: dict) -> dict:
        for member in doc["members"][:1]:
            member["tags"] = {"ratio": float("nan"), **member.get("tags", {}), "rank": 3}  # NaN read first
        return doc

    _rewrite_rows(db2, numbered)
    catalog = LocalCatalog(db2, read_only=True)
    try:
        got = _indexed(catalog)
    finally:
        catalog.close()
    assert len(got) == len(expected)
    assert all(fs["features"][0]["tags"]["rank"] == 3 for fs in got if fs["features"])
    assert all(math.isnan(fs["features"][0]["tags"]["ratio"]) for fs in got if fs["features"])
    assert [{**fs, "features": fs["features"][1:]} for fs in got] == [
        {**fs, "features": fs["features"][1:]} for fs in expected
    ]
