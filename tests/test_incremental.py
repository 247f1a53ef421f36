"""Incremental scans: unchanged feature sets are neither re-evaluated nor re-pushed."""

from __future__ import annotations

import shutil
from pathlib import Path

from featmesh.connector.catalog.local import LocalCatalog
from tests.conftest import SAMPLES, run_json


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    shutil.copytree(SAMPLES / "manifests", folder)
    return folder


def _scan(folder: Path, db: Path, *extra: str) -> dict:
    result, summary = run_json("scan", str(folder), "--catalog", f"local:{db}", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return summary


def _record(db: Path) -> dict:
    catalog = LocalCatalog(db, read_only=True)
    try:
        return catalog.runs(1)[0]
    finally:
        catalog.close()


def test_an_unchanged_mesh_is_not_evaluated_again(tmp_path: Path):
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    first = _scan(folder, db)
    second = _scan(folder, db)
    record = _record(db)
    skipped = {s["feature_set"] for s in record["evaluation"]["increment"]["skipped"]}
    assert len(skipped) == 9 and record["evaluation"]["increment"]["evaluated"] == 0
    assert record["counters"]["feature_sets_skipped"] == 9
    assert all(
        "unchanged since run " + first["run_id"] in s["reason"]
        for s in record["evaluation"]["increment"]["skipped"]
    )
    assert second["score"] == first["score"] and second["findings"] == first["findings"]
    assert second["plan"]["update"] == 0 and second["plan"]["classifications"] == {
        "add": 0,
        "update": 0,
        "remove": 0,
    }


def test_a_change_re_evaluates_the_set_and_what_it_can_affect(tmp_path: Path):
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    _scan(folder, db)
    payments = folder / "payments.yaml"
    payments.write_text(
        payments.read_text().replace(
            'dtype: float64, description: "Total card spend', 'dtype: float32, description: "Total card spend'
        )
    )
    incremental = _scan(folder, db)
    record = _record(db)
    skipped = {s["feature_set"].split("/")[-1] for s in record["evaluation"]["increment"]["skipped"]}
    # transaction_aggregates retyped a feature; evaluated again with it: sets sharing a feature
    # name (customer_profile, campaign_response: total_spend_90d; web_sessions_daily:
    # txn_amount_sum_30d), sharing its source (card_usage_patterns, web_sessions_daily) or
    # derived from it (customer_risk_360)
    assert skipped == {"merchant_risk_signals@1", "customer_engagement@1", "customer_support_contacts@1"}
    full = _scan(folder, db, "--full")  # the same history: the derived set is stale in both
    assert incremental["score"] == full["score"] and incremental["findings"] == full["findings"]


def test_a_change_no_other_set_compares_re_evaluates_only_the_set_and_its_lineage(tmp_path: Path):
    """A TTL says nothing the mesh-wide rules compare by name or source: the sets sharing
    its names and sources keep their findings; the set derived from it (stale-derived) and
    its parents are evaluated again with it."""
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    _scan(folder, db)
    payments = folder / "payments.yaml"
    payments.write_text(payments.read_text().replace("ttl: 2d", "ttl: 3d"))
    incremental = _scan(folder, db)
    record = _record(db)
    evaluated = set(record["evaluation"]["sets"]) - {
        s["feature_set"] for s in record["evaluation"]["increment"]["skipped"]
    }
    assert {qn.split("/")[-1] for qn in evaluated} == {"transaction_aggregates@2", "customer_risk_360@1"}
    full = _scan(folder, db, "--full")
    assert incremental["score"] == full["score"] and incremental["findings"] == full["findings"]


def test_a_catalog_that_lost_the_outcomes_gets_them_again(tmp_path: Path):
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    _scan(folder, db)
    catalog = LocalCatalog(db)
    catalog.db.execute("DELETE FROM classifications")
    catalog.db.commit()
    catalog.close()
    again = _scan(folder, db)
    assert again["plan"]["classifications"]["add"] == 78
    assert _record(db)["evaluation"]["increment"]["skipped"] == []


def test_full_and_changed_rules_evaluate_everything(tmp_path: Path):
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    _scan(folder, db)
    _scan(folder, db, "--full")
    assert _record(db)["evaluation"]["increment"]["evaluated"] == 9
    pack = tmp_path / "team.yaml"
    pack.write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: team\nversion: '1'\nextends: [mesh-baseline]\n"
        "overrides:\n  tag-vocabulary: {enabled: false}\n"
    )
    _scan(folder, db, "--policy", str(pack))
    assert _record(db)["evaluation"]["increment"]["evaluated"] == 9


def test_a_parent_changed_after_its_derived_set_makes_it_stale(tmp_path: Path):
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    first = _scan(folder, db)
    stale = [f for f in _record(db)["evaluation"]["findings"] if f["rule"] == "stale-derived"]
    assert stale == [] and first["findings"]["error"] >= 1
    payments = folder / "payments.yaml"
    payments.write_text(payments.read_text().replace("ttl: 2d", "ttl: 3d"))
    _scan(folder, db)
    stale = [f for f in _record(db)["evaluation"]["findings"] if f["rule"] == "stale-derived"]
    assert [f["target"] for f in stale] == ["featmesh://manifest/risk-shared/customer_risk_360@1"]
    assert "transaction_aggregates@2 changed after this set was built" in stale[0]["message"]
    # still stale on the next scan: the derived set was not rebuilt
    _scan(folder, db, "--full")
    assert any(f["rule"] == "stale-derived" for f in _record(db)["evaluation"]["findings"])
    # the risk team rebuilds it on the new parent (its definition changes): no longer stale
    risk = folder / "risk-shared.yaml"
    risk.write_text(risk.read_text().replace("ttl: 1d", "ttl: 12h"))
    _scan(folder, db)
    assert not any(f["rule"] == "stale-derived" for f in _record(db)["evaluation"]["findings"])


def test_the_summary_and_runs_say_how_many_sets_were_evaluated_and_skipped(tmp_path: Path):
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    first = _scan(folder, db)
    assert first["evaluated"] == {"feature_sets": 9, "skipped": 0, "previous_run": None}
    payments = folder / "payments.yaml"
    payments.write_text(payments.read_text().replace("ttl: 2d", "ttl: 3d"))
    second = _scan(folder, db)
    assert second["evaluated"] == {"feature_sets": 2, "skipped": 7, "previous_run": first["run_id"]}
    result, rows = run_json("runs", "--catalog", f"local:{db}", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["evaluated"] for r in rows] == [second["evaluated"], first["evaluated"]]


def test_a_key_retyped_in_one_store_re_evaluates_the_other_stores_of_its_domain(tmp_path: Path):
    """Marketing moved into the customer domain; customer-360 then types ``customer_id``
    int64. Marketing's sets are unchanged, yet now disagree with it: the incremental scan
    evaluates them again and finds what ``--full`` finds."""
    folder, db = _copy(tmp_path), tmp_path / "c.db"
    marketing = folder / "marketing.yaml"
    marketing.write_text(marketing.read_text().replace("  domain: marketing\n", "  domain: customer\n", 1))
    _scan(folder, db)
    assert not [f for f in _record(db)["evaluation"]["findings"] if f["rule"] == "join-key-type-consistent"]
    customer = folder / "customer.yaml"
    text = customer.read_text()
    assert text.count("{name: customer_id, dtype: string}") == 1
    customer.write_text(text.replace("customer_id, dtype: string}", "customer_id, dtype: int64}"))
    shutil.copy(db, tmp_path / "full.db")
    _scan(folder, db)
    _scan(folder, tmp_path / "full.db", "--full")

    def keyed(path: Path) -> list[tuple[str, str]]:
        findings = _record(path)["evaluation"]["findings"]
        rule = "join-key-type-consistent"
        return sorted((f["target"], f["message"]) for f in findings if f["rule"] == rule)

    got = keyed(db)
    assert got == keyed(tmp_path / "full.db")
    assert any(t.startswith("featmesh://manifest/marketing/") and "customer-360" in m for t, m in got)
    assert any(t.startswith("featmesh://manifest/customer-360/") for t, _ in got)
