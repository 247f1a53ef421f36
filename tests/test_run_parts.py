"""A run record's large pieces (findings, sets, plan) are stored apart from the rest.

The report decodes the findings and sets but never the plan; ``check`` decodes only the
last scan's sets. A reader asking for the whole record gets exactly what was recorded;
one asking for some parts gets the record without the others; a run recorded whole by
an earlier featmesh (schema version 2) reads as it was, before and after the upgrade.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from featmesh.connector.catalog.local import RUN_PARTS, SCHEMA_VERSION, LocalCatalog
from featmesh.connector.commands.check import LAST_SCAN_PARTS
from featmesh.connector.commands.report import REPORT_PARTS

RECORD = {
    "run_id": "abc123def456",
    "command": "scan",
    "started_at": "2026-12-01T10:00:00Z",
    "finished_at": "2026-12-01T10:01:00Z",
    "status": "ok",
    "catalog": "local:c.db",
    "evaluation": {
        "counts": {"error": 1},
        "findings": [{"rule": "owner-present", "target": "featmesh://manifest/s/a@1"}],
        "policy": {"packs": ["mesh-baseline"]},
        "sets": {"featmesh://manifest/s/a@1": {"content_hash": "h1", "parent_hashes": None}},
        "stores": ["s"],
    },
    "summary": {"plan": {"create": 3, "changes": [{"key": "k"}]}, "score": {"mesh": 90.0}, "status": "ok"},
}


def _stored(db: Path) -> tuple[dict, dict[str, str]]:
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute("SELECT record FROM runs").fetchone()
        parts = dict(
            conn.execute(
                "SELECT p.part, b.body FROM run_parts p JOIN part_bodies b ON b.digest = p.digest"
            ).fetchall()
        )
    return json.loads(text), parts


def test_the_large_parts_are_stored_apart_and_read_back_as_recorded(tmp_path: Path):
    db = tmp_path / "c.db"
    catalog = LocalCatalog(db)
    catalog.record_run(json.loads(json.dumps(RECORD)))
    catalog.close()
    rest, parts = _stored(db)
    assert sorted(parts) == sorted(RUN_PARTS)
    assert "findings" not in rest["evaluation"] and "sets" not in rest["evaluation"]
    assert "plan" not in rest["summary"] and rest["summary"]["score"] == {"mesh": 90.0}
    catalog = LocalCatalog(db, read_only=True)
    try:
        whole = catalog.run(RECORD["run_id"])
        assert whole == RECORD
        # the same text as the record written whole: every section's keys in order
        assert json.dumps(whole) == json.dumps(RECORD, sort_keys=True)
        assert catalog.runs(5) == [RECORD] and catalog.last_scan() == RECORD
        for_report = catalog.run(RECORD["run_id"], REPORT_PARTS)
        assert for_report is not None and "plan" not in for_report["summary"]
        assert for_report["evaluation"] == RECORD["evaluation"]
        for_check = catalog.last_scan(parts=LAST_SCAN_PARTS)
        assert for_check is not None and for_check["evaluation"]["sets"] == RECORD["evaluation"]["sets"]
        assert "findings" not in for_check["evaluation"] and "plan" not in for_check["summary"]
    finally:
        catalog.close()


def test_a_run_recorded_again_keeps_only_its_new_parts(tmp_path: Path):
    db = tmp_path / "c.db"
    catalog = LocalCatalog(db)
    catalog.record_run(json.loads(json.dumps(RECORD)))
    again = json.loads(json.dumps(RECORD))
    del again["summary"]["plan"]
    again["evaluation"]["findings"] = []
    catalog.record_run(again)
    try:
        assert catalog.run(RECORD["run_id"]) == again
        assert sorted(_stored(db)[1]) == ["evaluation.findings", "evaluation.sets"]
    finally:
        catalog.close()


def _as_version_2(db: Path) -> None:
    """The catalog as schema version 2 wrote it: each run one whole record, no parts table."""
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE run_parts")
        conn.execute("DROP TABLE part_bodies")
        conn.execute("UPDATE runs SET record = ?", (json.dumps(RECORD, sort_keys=True),))
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def test_a_version_2_catalog_reads_its_whole_records_before_and_after_the_upgrade(tmp_path: Path):
    db = tmp_path / "c.db"
    catalog = LocalCatalog(db)
    catalog.record_run(json.loads(json.dumps(RECORD)))
    catalog.close()
    _as_version_2(db)
    catalog = LocalCatalog(db, read_only=True)  # read-only: not upgraded
    try:
        assert catalog.run(RECORD["run_id"]) == RECORD
        assert catalog.run(RECORD["run_id"], REPORT_PARTS) == RECORD  # whole: every part there
        assert catalog.last_scan(parts=LAST_SCAN_PARTS) == RECORD
    finally:
        catalog.close()
    catalog = LocalCatalog(db)  # a writer upgrades the schema; the old run stays whole
    try:
        assert catalog.run(RECORD["run_id"]) == RECORD
        newer = json.loads(json.dumps(RECORD)) | {
            "run_id": "fff000fff000",
            "started_at": "2026-12-02T10:00:00Z",
        }
        catalog.record_run(newer)
        assert [r["run_id"] for r in catalog.runs(5)] == ["fff000fff000", RECORD["run_id"]]
        assert catalog.runs(5) == [newer, RECORD]
    finally:
        catalog.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            SCHEMA_VERSION,
        )


def test_a_part_recorded_again_unchanged_is_stored_once(tmp_path: Path):
    db = tmp_path / "c.db"
    catalog = LocalCatalog(db)
    try:
        first = json.loads(json.dumps(RECORD))
        second = {**json.loads(json.dumps(RECORD)), "run_id": "r2", "started_at": "2026-12-03T10:00:00Z"}
        second["evaluation"]["sets"]["featmesh://manifest/s/a@1"]["content_hash"] = "h2"
        catalog.record_run(first)
        catalog.record_run(second)
        bodies = catalog.db.execute("SELECT count(*) FROM part_bodies").fetchone()[0]
        assert bodies == len(RUN_PARTS) + 1  # the sets differ; findings and plan are shared
        assert catalog.run("r2") == second and catalog.run(RECORD["run_id"]) == first
    finally:
        catalog.close()


def test_parts_msgspec_refuses_are_written_by_json_and_read_back(tmp_path: Path) -> None:
    from featmesh.connector.catalog.local import part_text

    # a lone surrogate (a file name that is not UTF-8) and a key that is not a string
    body = {"warnings": ["cannot read /data/caf\udce9.yaml"], "by_count": {1: "one"}}
    assert json.loads(part_text(body["warnings"])) == body["warnings"]
    assert json.loads(part_text(body)) == {"warnings": body["warnings"], "by_count": {"1": "one"}}
    assert part_text({"b": 1, "a": [1.5, None]}) == '{"a":[1.5,null],"b":1}'
    assert part_text([float("nan")]) == "[null]"  # JSON has no NaN: as profiles record it
    record = json.loads(json.dumps(RECORD))
    record["evaluation"]["findings"][0]["message"] = "file caf\udce9.yaml"
    catalog = LocalCatalog(tmp_path / "c.db")
    catalog.record_run(record)
    assert catalog.run(RECORD["run_id"]) == record


def test_a_part_read_back_and_recorded_equal_is_not_encoded_again(tmp_path: Path, monkeypatch) -> None:
    """A rescan that changed nothing records the findings it read from the run before:
    the digest read is stored again, without encoding them; a changed part, or any part
    while a secret is known (its text must be scrubbed now), is encoded."""
    import featmesh.connector.catalog.local as local
    from featmesh.connector import redact

    monkeypatch.setattr(redact, "_variables", set())  # no secret known: both undone after the test
    monkeypatch.setattr(redact, "_values", set())
    db = tmp_path / "c.db"
    catalog = LocalCatalog(db)
    try:
        catalog.record_run(json.loads(json.dumps(RECORD)))
        last = catalog.run(RECORD["run_id"])
        encoded: list[object] = []
        real = local.part_text
        monkeypatch.setattr(local, "part_text", lambda body: encoded.append(body) or real(body))
        again = {**json.loads(json.dumps(last)), "run_id": "r2"}
        again["evaluation"]["sets"]["featmesh://manifest/s/a@1"]["content_hash"] = "h2"
        catalog.record_run(again)
        assert encoded == [again["evaluation"]["sets"]]  # findings and plan: their digests reused
        assert catalog.run("r2") == again
        bodies = catalog.db.execute("SELECT count(*) FROM part_bodies").fetchone()[0]
        assert bodies == len(RUN_PARTS) + 1

        encoded.clear()
        catalog.run("r2")
        monkeypatch.setenv("FEATMESH_TEST_SECRET", "s3cr3t-value-long")
        redact.register_variable("FEATMESH_TEST_SECRET")
        assert redact.active()
        secret = {**json.loads(json.dumps(again)), "run_id": "r3"}
        catalog.record_run(secret)
        assert len(encoded) == len(RUN_PARTS)  # nothing reused while a secret is known
        assert catalog.run("r3") == secret
    finally:
        catalog.close()
