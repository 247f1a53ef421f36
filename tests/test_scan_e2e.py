"""End to end: scan the samples into a temporary local catalog, twice, and export."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from featmesh.typedefs import TypeSystem, load_base_typedefs, load_typedefs
from tests.conftest import DATA, SAMPLE_MESH_ENTITIES, SAMPLES, run, run_json

MANIFESTS = str(SAMPLES / "manifests")
CONTRACT_KEYS = {"run_id", "status", "sources", "counts", "plan", "findings", "score"}


def _entity_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT guid, type_name, qualified_name, attributes, updated_at FROM entities ORDER BY guid"
        ).fetchall()


def test_scan_twice_then_nothing_changes(tmp_path: Path):
    db = tmp_path / "catalog.db"
    first, summary = run_json("scan", MANIFESTS, "--catalog", f"local:{db}", "--json")
    assert first.exit_code == 0, first.stderr
    assert set(summary) >= CONTRACT_KEYS
    assert summary["status"] == "ok"
    assert summary["sources"] == [
        {"uri": f"manifest:{MANIFESTS}", "kind": "manifest", "status": "ok", "feature_sets": 9, "error": None}
    ]
    assert summary["counts"] == {"stores": 4, "feature_sets": 9, "features": 69, "entities": 6, "lineage": 11}
    plan = summary["plan"]
    assert (
        plan["create"] == SAMPLE_MESH_ENTITIES and plan["update"] == plan["delete"] == plan["unchanged"] == 0
    )
    before = _entity_rows(db)
    assert len(before) == plan["create"]

    second, again = run_json("scan", MANIFESTS, "--catalog", f"local:{db}", "--json")
    assert second.exit_code == 0
    assert again["plan"]["create"] == 0 and again["plan"]["update"] == 0 and again["plan"]["delete"] == 0
    assert again["plan"]["unchanged"] == plan["create"]
    assert again["applied"]["created"] == again["applied"]["updated"] == 0
    assert _entity_rows(db) == before  # nothing written, not even a timestamp


def test_dry_run_never_writes(tmp_path: Path):
    db = tmp_path / "catalog.db"
    result = run("scan", MANIFESTS, "--catalog", f"local:{db}", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "(dry run)" in result.stdout
    assert re.search(r"^  create +featmesh_feature_set featmesh://manifest/", result.stdout, re.MULTILINE)
    assert not db.exists()
    run("scan", MANIFESTS, "--catalog", f"local:{db}")
    before = _entity_rows(db)
    changed = tmp_path / "m"
    changed.mkdir()
    text = (SAMPLES / "manifests" / "payments.yaml").read_text().replace("ttl: 2d", "ttl: 3d")
    (changed / "payments.yaml").write_text(text)
    result, summary = run_json("scan", str(changed), "--catalog", f"local:{db}", "--dry-run", "--json")
    assert summary["plan"]["update"] == 3
    changes = summary["plan"]["changes"]
    # a new revision starts, first seen now (the same second as the first scan, at times)
    changes[1]["fields"] = [f for f in changes[1]["fields"] if f != "revisionFirstSeen"]
    assert changes == [
        # read from another folder: the store records where it was read from
        {
            "action": "update",
            "typeName": "featmesh_feature_store",
            "qualifiedName": "featmesh://manifest/payments",
            "fields": ["uri"],
        },
        {
            "action": "update",
            "typeName": "featmesh_feature_set",
            "qualifiedName": "featmesh://manifest/payments/transaction_aggregates@2",
            "fields": [
                "contentHash",
                "previousRevisions",
                "revision",
                "revisionFirstRun",
                "revisionHash",
                "ttlSeconds",
                "business:featmesh",
            ],
        },
        # the longer TTL changes verdicts: the set's score, and one feature's compliance, whose
        # business metadata follows its classification
        {
            "action": "update",
            "typeName": "featmesh_feature",
            "qualifiedName": "featmesh://manifest/payments/transaction_aggregates@2#txn_amount_sum_30d",
            "fields": ["business:featmesh"],
        },
    ]
    assert _entity_rows(db) == before


def test_changed_and_removed_feature_sets(tmp_path: Path):
    db = tmp_path / "catalog.db"
    folder = tmp_path / "m"
    folder.mkdir()
    payments = (SAMPLES / "manifests" / "payments.yaml").read_text()
    (folder / "payments.yaml").write_text(payments)
    run("scan", str(folder), "--catalog", f"local:{db}")
    # drop the last feature set (card_usage_patterns) and rename a feature
    trimmed = payments[: payments.index("  - name: card_usage_patterns")]
    trimmed = trimmed.replace("name: days_active_90d", "name: active_days_90d")
    (folder / "payments.yaml").write_text(trimmed)
    result, summary = run_json("scan", str(folder), "--catalog", f"local:{db}", "--json")
    assert result.exit_code == 0
    deleted = {c["qualifiedName"] for c in summary["plan"]["changes"] if c["action"] == "delete"}
    assert "featmesh://manifest/payments/card_usage_patterns@1" in deleted
    assert "featmesh://manifest/payments/card_usage_patterns@1#billing_email" in deleted
    assert "featmesh://manifest/payments/merchant_risk_signals@1#days_active_90d" in deleted
    exported = json.loads(run("catalog", "export", "--catalog", f"local:{db}").stdout)["entities"]
    names = {e["attributes"]["qualifiedName"] for e in exported}
    assert "featmesh://manifest/payments/merchant_risk_signals@1#active_days_90d" in names
    assert not any("card_usage_patterns" in n for n in names)


def test_export_matches_the_type_system(tmp_path: Path):
    db = tmp_path / "catalog.db"
    run("scan", MANIFESTS, "--catalog", f"local:{db}")
    result = run("catalog", "export", "--catalog", f"local:{db}")
    assert result.exit_code == 0
    entities = json.loads(result.stdout)["entities"]
    types = TypeSystem.from_documents(load_base_typedefs(), load_typedefs())
    assert len(entities) == SAMPLE_MESH_ENTITIES
    for entity in entities:
        assert types.entity_type(entity["typeName"]) is not None, entity["typeName"]
        assert types.check_entity(entity) == [], entity["attributes"]["qualifiedName"]
    store = next(e for e in entities if e["attributes"]["qualifiedName"] == "featmesh://manifest/payments")
    # the other end of each composition is visible from the container
    assert len(store["relationshipAttributes"]["featureSets"]) == 3
    assert len(store["relationshipAttributes"]["entities"]) == 2


def test_bad_manifest_exits_2_and_writes_nothing(tmp_path: Path):
    db = tmp_path / "catalog.db"
    result = run(
        "scan",
        f"manifest:{DATA / 'manifests' / 'bad' / 'duplicate_feature.yaml'}",
        "--catalog",
        f"local:{db}",
    )
    assert result.exit_code == 2
    assert (
        "duplicate_feature.yaml:9: feature_sets[0].features[2].name: duplicate feature name 'balance'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert not db.exists()


def test_one_broken_source_does_not_lose_the_others(tmp_path: Path):
    db = tmp_path / "catalog.db"
    bad = DATA / "manifests" / "bad" / "unknown_key.yaml"
    result, summary = run_json("scan", MANIFESTS, f"manifest:{bad}", "--catalog", f"local:{db}", "--json")
    assert result.exit_code == 3
    assert summary["status"] == "partial"
    statuses = {s["uri"]: (s["status"], s["error"]) for s in summary["sources"]}
    assert statuses[f"manifest:{MANIFESTS}"] == ("ok", None)
    status, error = statuses[f"manifest:{bad}"]
    assert status == "failed" and "featurs" in error
    assert summary["plan"]["create"] == SAMPLE_MESH_ENTITIES
    assert len(_entity_rows(db)) == SAMPLE_MESH_ENTITIES


def test_usage_errors_exit_2(tmp_path: Path):
    assert run("scan").exit_code == 2
    result = run("scan", "nosuchkind:x")
    assert result.exit_code == 2 and "unknown kind 'nosuchkind'" in result.stderr
    result = run("scan", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
    result = run("scan", MANIFESTS, "--catalog", "nosuch://x")
    assert result.exit_code == 2 and "unknown kind 'nosuch'" in result.stderr


def test_two_sources_describing_the_same_store_fail_the_second(tmp_path: Path):
    db = tmp_path / "catalog.db"
    copy = tmp_path / "again"
    copy.mkdir()
    (copy / "payments.yaml").write_text((SAMPLES / "manifests" / "payments.yaml").read_text())
    result, summary = run_json("scan", MANIFESTS, str(copy), "--catalog", f"local:{db}", "--json")
    assert result.exit_code == 3
    failed = [s for s in summary["sources"] if s["status"] == "failed"]
    assert [s["uri"] for s in failed] == [f"manifest:{copy}"]
    assert "store manifest/payments is also read from source manifest:" in failed[0]["error"]
    assert summary["plan"]["create"] == SAMPLE_MESH_ENTITIES


def test_json_still_reports_a_run_whose_every_source_failed(tmp_path: Path):
    bad = DATA / "manifests" / "bad" / "unknown_key.yaml"
    for command in ("scan", "check"):
        extra = ["--catalog", f"local:{tmp_path / 'c.db'}"] if command == "scan" else []
        result = run(command, f"manifest:{bad}", *extra, "--json")
        assert result.exit_code == 2
        summary = json.loads(result.stdout)
        assert summary["status"] == "failed"
        assert summary["sources"][0]["status"] == "failed" and "featurs" in summary["sources"][0]["error"]
        assert "featurs" in result.stderr
    assert not (tmp_path / "c.db").exists()
