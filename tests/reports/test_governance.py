"""The report's data: run choice, worst sets, failed rules, expiring waivers, history."""

from __future__ import annotations

import json

import pytest

from featmesh.connector.errors import InputError
from featmesh.connector.reports.governance import FORMAT_VERSION, HISTORY_RUNS, build_report
from tests.reports.records import NOW, feature_set, mesh_records, qn, record


@pytest.fixture
def report() -> dict:
    return build_report(mesh_records(), now=NOW, catalog="local:test.db")


def test_newest_evaluated_scan_is_reported_with_its_change(report: dict) -> None:
    assert report["format_version"] == FORMAT_VERSION
    assert report["generated_at"] == "2026-06-01T09:00:00Z"
    assert report["run"]["run_id"] == "run3"
    assert report["evaluated"] is True and report["notices"] == []
    assert report["score"] == {"mesh": 81.5, "grade": "B", "previous": 78.0, "change": 3.5}
    assert report["compliance"] == {"feature_sets": 4, "compliant": 2, "non_compliant": 2}
    domains = {d["name"]: d for d in report["domains"]}
    assert domains["payments"]["change"] == -5.0 and domains["risk"]["change"] == 2.5
    assert domains["payments"]["feature_sets"] == 2 and domains["payments"]["compliant"] == 0
    assert domains["payments"]["failed"] == 5  # cards 3, ledger 2
    json.dumps(report)  # plain data all through


def test_worst_sets_lowest_score_first_then_most_critical(report: dict) -> None:
    worst = [s["name"] for s in report["worst_sets"]]
    assert worst == ["cards", "ledger", "scores"]  # clean scores 100 and is compliant: not listed
    assert report["worst_sets"][0]["failed"] == {"critical": 2, "error": 0, "warning": 1, "info": 0}
    assert report["worst_sets"][0]["top_finding"].startswith("pii-tagged")


def test_most_failed_rules_count_failures_sets_and_domains(report: dict) -> None:
    rules = {r["rule"]: r for r in report["failed_rules"]}
    order = [r["rule"] for r in report["failed_rules"]]
    assert order == [
        "set-description",  # 3 failures over 3 sets
        "pii-tagged",  # 3 failures over 2 sets
        "ttl-declared",
        "featmesh.waiver-expired",  # its target is no feature set
        "freshness",  # only a check error
        "dtype-allowlist",  # only waived
    ]
    assert rules["pii-tagged"] == {
        "rule": "pii-tagged",
        "severity": "critical",
        "failed": 3,
        "errors": 0,
        "waived": 0,
        "feature_sets": 2,
        "domains": ["payments"],
    }
    assert rules["set-description"]["domains"] == ["payments", "risk"]
    assert rules["freshness"]["errors"] == 1 and rules["freshness"]["failed"] == 0
    assert rules["dtype-allowlist"]["waived"] == 1
    assert rules["featmesh.waiver-expired"]["feature_sets"] == 0


def test_waivers_expiring_within_30_days_of_now(report: dict) -> None:
    due = [(w["rule"], w["days_left"], w["status"]) for w in report["expiring_waivers"]]
    assert due == [
        ("set-description", -3, "expired"),
        ("dtype-allowlist", 10, "expiring"),
        ("feature-naming", 30, "expiring"),
    ]
    active = [w for w in report["waivers"] if w["status"] == "active"]
    assert [(w["rule"], w["days_left"]) for w in active] == [("ttl-declared", 61)]
    assert next(w for w in report["waivers"] if w["rule"] == "dtype-allowlist")["waived"] == 1


def test_expiry_moves_with_now() -> None:
    later = build_report(mesh_records(), now=NOW.replace(month=7, day=5))
    assert {w["rule"] for w in later["expiring_waivers"]} == {
        "set-description",
        "dtype-allowlist",
        "feature-naming",
        "ttl-declared",
    }
    assert {w["rule"] for w in later["expiring_waivers"] if w["status"] == "expired"} == {
        "set-description",
        "dtype-allowlist",
        "feature-naming",
    }


def test_history_oldest_first_with_the_chosen_run_marked(report: dict) -> None:
    assert [(h["run_id"], h["mesh"], h["selected"]) for h in report["history"]] == [
        ("run1", 70.0, False),
        ("run2", 78.0, False),
        ("run3", 81.5, True),
    ]
    assert report["history"][1]["domains"] == {"payments": 45.0, "risk": 95.0}


def test_history_keeps_the_most_recent_scans() -> None:
    records = [record(f"r{i:02}", f"2026-05-{i % 28 + 1:02}T00:00:00Z", mesh=float(i)) for i in range(40)]
    records.insert(3, record("chk", "2026-05-01T00:00:00Z", command="check"))
    records.insert(5, record("nosc", "2026-05-01T00:00:00Z", mesh=None))
    history = build_report(records, now=NOW)["history"]
    assert len(history) == HISTORY_RUNS
    assert [h["run_id"] for h in history] == [f"r{i:02}" for i in range(HISTORY_RUNS - 1, -1, -1)]


def test_set_findings_lineage_and_other_findings(report: dict) -> None:
    sets = {s["name"]: s for s in report["sets"]}
    cards = sets["cards"]
    assert cards["derived_sets"] == [qn("risk", "scores")]
    assert sets["scores"]["derived_from"] == [qn("payments", "cards")]
    assert sets["scores"]["derived_sets"] == []
    assert [(f["rule"], f["feature"], f["state"]) for f in cards["findings"]] == [
        ("pii-tagged", "email", "failed"),
        ("pii-tagged", "phone", "failed"),
        ("set-description", None, "failed"),
        ("dtype-allowlist", "map_col", "skipped"),  # waived ones last
    ]
    assert [f["rule"] for f in report["other_findings"]] == ["featmesh.waiver-expired"]


def test_a_chosen_run_is_compared_with_the_scan_before_it() -> None:
    chosen = build_report(mesh_records(), run_id="run2", now=NOW)
    assert chosen["run"]["run_id"] == "run2"
    assert chosen["score"]["change"] == 8.0
    assert [h["selected"] for h in chosen["history"]] == [False, True, False]


def test_an_unknown_run_is_an_input_error_naming_it() -> None:
    with pytest.raises(InputError, match=r"no run 'deadbeef' among the 3 most recent runs in local:x.db"):
        build_report(mesh_records(), run_id="deadbeef", catalog="local:x.db")


def test_no_runs_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"no runs recorded in local:x\.db"):
        build_report([], catalog="local:x.db")


def test_runs_without_an_evaluation_are_reported_not_crashed_on() -> None:
    resume = record("resumed", "2026-06-01T00:00:00Z", evaluated=False, mesh=83.0)
    records = [resume, *mesh_records()]
    assert build_report(records, now=NOW)["run"]["run_id"] == "run3"  # the newest evaluated scan
    shown = build_report(records, run_id="resumed", now=NOW)
    assert shown["evaluated"] is False
    assert shown["sets"] == [] and shown["worst_sets"] == [] and shown["policy"] is None
    assert shown["score"]["mesh"] == 83.0 and shown["score"]["change"] == 1.5
    assert [d["name"] for d in shown["domains"]] == ["payments", "risk"]
    assert "run resumed (scan, ok) holds no per-feature-set evaluation" in shown["notices"][0]

    bare = build_report([{"run_id": "old", "command": "scan", "status": "failed"}], now=NOW)
    assert bare["evaluated"] is False and bare["score"]["mesh"] is None and bare["history"] == []
    assert any("no recent scan run" in n for n in bare["notices"])


def test_malformed_evaluation_values_do_not_crash() -> None:
    broken = record(
        "odd", "2026-06-01T00:00:00Z", sets=[feature_set("p", "a", domain="p", score=50.0, grade="F")]
    )
    broken["evaluation"]["findings"] = [None, {"rule": "r"}, {"target": qn("p", "a"), "state": "failed"}]
    broken["evaluation"]["waivers"] = [{"rule": "r", "expires": "someday"}]
    broken["evaluation"]["sets"][qn("p", "a")]["score"] = "high"
    out = build_report([broken], now=NOW)
    assert out["sets"][0]["score"] is None
    assert [w["status"] for w in out["waivers"]] == ["unknown"]
    assert len(out["sets"][0]["findings"]) == 1
