"""A failing Databricks or Feathr source never loses what the other sources produced."""

from __future__ import annotations

import logging
from pathlib import Path

import responses

from featmesh.connector.runreport import RunReport
from featmesh.connector.scan.read import read_sources, resolve_references
from featmesh.connector.sources import SourceSpec

DATA = Path(__file__).parent / "data"
CANARY = "dapi-CANARY-pipeline-7777"


@responses.activate
def test_failed_sources_are_recorded_and_the_rest_survive(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DATABRICKS_TOKEN", CANARY)
    responses.get(
        "http://127.0.0.1:8124/api/2.1/unity-catalog/tables",
        status=401,
        json={"error_code": "UNAUTHENTICATED", "message": "Invalid token"},
    )
    specs = [
        SourceSpec(kind="databricks", location="http://127.0.0.1:8124?catalog=ml&schema=fraud"),
        SourceSpec(kind="feathr", location=str(DATA / "feathr_workspace")),
        SourceSpec(kind="feathr", location=str(DATA / "feathr_broken")),
    ]
    report = RunReport(command="scan")
    result = read_sources(specs, report)

    assert [s.name for s in result.stores] == ["feathr_workspace"]
    assert len(result.feature_sets) == 7
    resolve_references(result.stores)  # every derived-from names a set that was read
    summary = report.to_json()
    assert summary["status"] == "partial"
    statuses = [(s["kind"], s["status"]) for s in summary["sources"]]
    assert statuses == [("databricks", "failed"), ("feathr", "ok"), ("feathr", "failed")]
    dbx, ok, broken = summary["sources"]
    assert "127.0.0.1:8124" in dbx["error"] and "DATABRICKS_TOKEN" in dbx["error"]
    assert ok["feature_sets"] == 7
    assert "features.conf:6" in broken["error"]
    assert len(result.input_errors) == 1
    assert CANARY not in str(summary) and CANARY not in caplog.text
