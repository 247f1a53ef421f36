"""``featmesh report`` on a catalog a real scan wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from featmesh.connector.catalog.local import LocalCatalog
from tests.conftest import SAMPLES, run


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = f"local:{tmp_path_factory.mktemp('cat') / 'catalog.db'}"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", uri).exit_code == 0
    return uri


def test_json_to_stdout(scanned: str) -> None:
    result = run("report", "--catalog", scanned, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["format_version"] == 1 and doc["evaluated"] is True
    assert doc["catalog"] == scanned
    assert len(doc["sets"]) == 9 and len(doc["history"]) == 1
    assert doc["score"]["mesh"] == doc["history"][0]["mesh"]
    again = json.loads(
        run("report", "--catalog", scanned, "--format", "json", "--run", doc["run"]["run_id"]).stdout
    )
    assert again["run"] == doc["run"]


def test_html_goes_to_the_current_directory_by_default(
    scanned: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("report", "--catalog", scanned)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "featmesh-report.html"
    html = (tmp_path / "featmesh-report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "customer_support_contacts" in html


def test_markdown_to_a_file(scanned: str, tmp_path: Path) -> None:
    out = tmp_path / "summary.md"
    result = run("report", "--catalog", scanned, "--format", "markdown", "--output", str(out))
    assert result.exit_code == 0 and result.stdout.strip() == str(out)
    assert out.read_text().startswith("## featmesh governance report")


def test_unknown_run_is_exit_2_naming_it(scanned: str) -> None:
    result = run("report", "--catalog", scanned, "--run", "0123nothere")
    assert result.exit_code == 2
    assert "no run '0123nothere'" in result.stderr and "Traceback" not in result.stderr


def test_an_empty_catalog_is_exit_2(tmp_path: Path) -> None:
    result = run("report", "--catalog", f"local:{tmp_path / 'none.db'}", "--format", "json")
    assert result.exit_code == 2
    assert "no runs recorded" in result.stderr and "featmesh scan" in result.stderr


def test_an_unwritable_output_is_exit_2(scanned: str, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "report.html"
    result = run("report", "--catalog", scanned, "--output", str(target))
    assert result.exit_code == 2
    assert str(target) in result.stderr and "cannot write the report" in result.stderr


def test_the_run_record_keeps_each_sets_consumers_and_a_later_scan_refreshes_them(tmp_path: Path) -> None:
    mesh = tmp_path / "mesh"
    shutil.copytree(SAMPLES / "manifests", mesh)
    uri = f"local:{tmp_path / 'catalog.db'}"
    assert run("scan", str(mesh), "--catalog", uri).exit_code == 0
    first = json.loads(run("report", "--catalog", uri, "--format", "json").stdout)
    assert first["consumers"] == [] or all(c["kind"] != "model" for c in first["consumers"])
    # the models arrive; no feature set changed, so the second scan keeps the record of every
    # set but the three the models read, which are evaluated again for the rules about readers
    shutil.copy(SAMPLES / "models" / "risk-models.yaml", mesh / "risk-models.yaml")
    assert run("scan", str(mesh), "--catalog", uri).exit_code == 0
    catalog = LocalCatalog(tmp_path / "catalog.db", read_only=True)
    try:
        increment = catalog.runs(1)[0]["evaluation"]["increment"]
    finally:
        catalog.close()
    assert increment["evaluated"] == 3 and len(increment["skipped"]) == 6
    assert not {"customer_risk_360@1", "transaction_aggregates@2", "merchant_risk_signals@1"} & {
        s["feature_set"].rsplit("/", 1)[-1] for s in increment["skipped"]
    }
    doc = json.loads(run("report", "--catalog", uri, "--format", "json").stdout)
    models = {c["key"]: c for c in doc["consumers"]}
    assert {"model/credit-limit-model@4", "model/fraud-model@7"} <= set(models)
    fraud = models["model/fraud-model@7"]
    assert fraud["owner"] == "fraud-ml@contoso.com" and fraud["domain"] == "risk"
    assert [qn.rsplit("/", 2)[-2:] for qn in fraud["reads"]] == [
        ["payments", "merchant_risk_signals@1"],
        ["risk-shared", "customer_risk_360@1"],
    ]
    readers = next(s for s in doc["sets"] if s["name"] == "customer_risk_360")["consumers"]
    fraud_read = next(c for c in readers if c["key"] == "model/fraud-model@7")
    assert fraud_read["features"] == ["max_payment_30d_eur", "txn_count_30d"]
    risk = next(g for g in doc["mesh_map"]["domains"] if g["name"] == "risk")
    assert {n["ref"] for n in risk["nodes"] if n["type"] == "model"} >= set(models)
