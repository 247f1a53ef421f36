"""The report reads the recent runs as briefs (header and scores) and one run whole.

A run record holds every feature set's evaluation; reading 500 of them whole to draw a
score history costs time in proportion to the mesh times the history. The ``brief`` column
of the runs table keeps what the history needs; a catalog written before it still reports
the same, reading the records whole.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.commands.report import report_records
from featmesh.connector.errors import InputError
from featmesh.connector.reports.governance import build_report
from tests.conftest import SAMPLES, run

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    db = tmp_path / "c.db"
    for _ in range(2):
        result = run("scan", f"manifest:{SAMPLES / 'manifests'}", "--catalog", f"local:{db}", "--json")
        assert result.exit_code in (0, 1), result.output
    return db


def test_the_report_from_briefs_equals_the_report_from_whole_records(catalog: Path):
    store = LocalCatalog(catalog, read_only=True)
    try:
        whole = build_report(store.runs(500), now=NOW, catalog=store.uri)
        records = report_records(store, None)
        assert sum(1 for r in records if "sets" in (r.get("evaluation") or {})) == 1  # one read whole
        assert build_report(records, now=NOW, catalog=store.uri) == whole
        older = store.runs(500)[1]["run_id"]
        picked = build_report(report_records(store, older), run_id=older, now=NOW, catalog=store.uri)
        assert picked == build_report(store.runs(500), run_id=older, now=NOW, catalog=store.uri)
    finally:
        store.close()


def test_a_catalog_recorded_before_briefs_reports_the_same(catalog: Path):
    store = LocalCatalog(catalog, read_only=True)
    try:
        expected = build_report(store.runs(500), now=NOW, catalog=store.uri)
        newest = store.last_scan()
        assert newest == store.runs(1)[0] and newest["evaluation"]["sets"]
    finally:
        store.close()
    db = sqlite3.connect(catalog)
    db.execute("ALTER TABLE runs DROP COLUMN brief")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")  # as version 1 wrote it
    db.commit()
    db.close()
    store = LocalCatalog(catalog, read_only=True)  # read-only: not migrated
    try:
        assert build_report(report_records(store, None), now=NOW, catalog=store.uri) == expected
        assert store.last_scan() == newest
    finally:
        store.close()
    LocalCatalog(catalog).close()  # a writer adds the column back
    db = sqlite3.connect(catalog)
    assert "brief" in [r[1] for r in db.execute("PRAGMA table_info(runs)")]
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)


def test_a_newer_schema_is_refused_with_a_message(tmp_path: Path):
    db = tmp_path / "c.db"
    LocalCatalog(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="catalog schema version 4, this featmesh reads 1, 2 and 3"):
        LocalCatalog(db, read_only=True)
