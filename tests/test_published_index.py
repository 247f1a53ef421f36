"""The local catalog's ``published_sets`` index: one compact row per published feature
set, kept by each apply, read by the mesh-wide rules instead of every entity's JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from featmesh.connector.catalog.local import INDEXED, LocalCatalog
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
    real = json.loads

    def loads(text, *args, **kwargs):
        decoded.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(local.json, "loads", loads)
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
