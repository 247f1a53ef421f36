"""featmesh.yaml: validation at the door, relative paths, credentials by reference; init; runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from featmesh.connector.config import load_config
from featmesh.connector.errors import InputError, SourceError
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import environment, parse_source, read_source
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES, run, run_json


def test_sample_config_scans_the_sample_mesh(tmp_path: Path):
    config = load_config(SAMPLES / "featmesh.yaml")
    assert [s.uri for s in config.sources] == [
        f"manifest:{SAMPLES / 'manifests'}",
        f"manifest:{SAMPLES / 'lab'}",
        f"manifest:{SAMPLES / 'models'}",
    ]
    assert (
        config.profile and config.waivers == SAMPLES / "waivers.yaml" and config.packs == ("mesh-baseline",)
    )
    assert config.catalog == f"local:{(SAMPLES.parent / '.featmesh' / 'catalog.db')}"  # normalised
    result, summary = run_json(
        "scan",
        "--config",
        str(SAMPLES / "featmesh.yaml"),
        "--catalog",
        f"local:{tmp_path / 'c.db'}",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    products = {
        c["qualifiedName"] for c in summary["plan"]["changes"] if c["typeName"] == "featmesh_data_product"
    }
    assert (
        "featmesh://data-product/databricks://adb-1234567890123456.7.azuredatabricks.net/"
        "catalogs/main/schemas/payments/tables/card_transactions" in products
    )
    # the report of the scheduled scan draws the risk domain's models in its mesh map
    report = run("report", "--catalog", f"local:{tmp_path / 'c.db'}", "--format", "json")
    doc = json.loads(report.stdout)
    assert {"model/credit-limit-model@4", "model/fraud-model@7"} <= {c["key"] for c in doc["consumers"]}
    risk = next(g for g in doc["mesh_map"]["domains"] if g["name"] == "risk")
    assert sum(1 for n in risk["nodes"] if n["type"] == "model" and not n["external"]) == 3


def test_source_domain_and_explicit_domains(tmp_path: Path):
    (tmp_path / "featmesh.yaml").write_text(
        f"version: 1\nsources:\n  - uri: manifest:{SAMPLES / 'manifests'}\n    domain: everything\n"
        "domains:\n  manifest/payments: cards\n"
    )
    _result, _ = run_json(
        "scan",
        "--config",
        str(tmp_path / "featmesh.yaml"),
        "--catalog",
        f"local:{tmp_path / 'c.db'}",
        "--json",
    )
    exported = json.loads(run("catalog", "export", "--catalog", f"local:{tmp_path / 'c.db'}").stdout)[
        "entities"
    ]
    domains = {
        e["attributes"]["qualifiedName"]: (e["attributes"]["domain"], e["attributes"]["domainRule"])
        for e in exported
        if e["typeName"] == "featmesh_feature_set"
    }
    assert domains["featmesh://manifest/payments/transaction_aggregates@2"] == ("cards", "config")
    assert domains["featmesh://manifest/customer-360/customer_profile@3"] == ("everything", "config")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nsources: []\n", ":2: sources: [] should be non-empty"),
        ("version: 1\nsources:\n  - uri: x\n    token: abc\n", ":4: sources[0].token: Additional properties"),
        ("version: 2\nsources:\n  - uri: x\n", ":1: version: 2 is not valid: expected format version"),
        (
            "version: 1\nsources:\n  - uri: manifest:x\n"
            "data_products:\n  - {match: '(', type: t, qualified_name: q}\n",
            ":5: data_products[0].match: invalid regular expression",
        ),
        (
            "version: 1\nsources:\n  - uri: manifest:x\n    env: {DATABRICKS_TOKEN: 'dapi-secret value'}\n",
            ":4: sources[0].env.DATABRICKS_TOKEN: 'dapi-secret value' does not match",
        ),
    ],
)
def test_bad_configs_name_file_line_and_path(tmp_path: Path, text: str, expected: str):
    path = tmp_path / "featmesh.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value), str(err.value)
    result = run("scan", "--config", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_credentials_by_reference(monkeypatch):
    monkeypatch.setenv("DBX_PAYMENTS_TOKEN", "dapi-canary")
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    with environment({"DATABRICKS_TOKEN": "DBX_PAYMENTS_TOKEN"}, what="src"):
        assert os.environ["DATABRICKS_TOKEN"] == "dapi-canary"
    assert "DATABRICKS_TOKEN" not in os.environ
    with (
        pytest.raises(
            SourceError, match="environment variable MISSING_VAR \\(for DATABRICKS_TOKEN\\) is not set"
        ) as err,
        environment({"DATABRICKS_TOKEN": "MISSING_VAR"}, what="src"),
    ):
        pass
    assert "dapi-canary" not in str(err.value)
    spec = parse_source(
        f"manifest:{SAMPLES / 'manifests'}", {"env": {"DATABRICKS_TOKEN": "DBX_PAYMENTS_TOKEN"}}
    )
    assert len(read_source(spec, SourceReport(uri=spec.uri, kind="manifest"))) == 4


def test_init_writes_a_valid_starter_and_never_overwrites(tmp_path: Path):
    path = tmp_path / "featmesh.yaml"
    assert run("init", str(path)).exit_code == 0
    assert load_config(path).packs == ("mesh-baseline",)
    assert "# Credentials are never written here" in path.read_text()
    again = run("init", str(path))
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert run("init", str(path), "--force").exit_code == 0


def test_runs_lists_history_newest_first(tmp_path: Path):
    db = f"local:{tmp_path / 'c.db'}"
    assert "no runs recorded" in run("runs", "--catalog", db).stdout
    first = run_json("scan", str(SAMPLES / "manifests"), "--catalog", db, "--json")[1]
    second = run_json("scan", str(SAMPLES / "manifests"), "--catalog", db, "--json")[1]
    _result, rows = run_json("runs", "--catalog", db, "--json")
    assert [r["run_id"] for r in rows] == [second["run_id"], first["run_id"]]
    assert (
        rows[1]["plan"]["create"] == SAMPLE_MESH_ENTITIES
        and rows[0]["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES
    )
    assert rows[0]["status"] == "ok" and rows[0]["feature_sets"] == 9
    text = run("runs", "--catalog", db).stdout
    assert second["run_id"] in text.splitlines()[1]


def test_the_scheduled_scan_profiles_files_only_and_writes_its_report(tmp_path: Path):
    (tmp_path / "featmesh.yaml").write_text(
        f"version: 1\nsources:\n  - uri: manifest:{SAMPLES / 'manifests'}\n"
        f"  - uri: manifest:{SAMPLES / 'lab'}\n"
        f"policies:\n  waivers: {SAMPLES / 'waivers.yaml'}\nprofiling:\n  enabled: true\n"
        "report:\n  format: markdown\n  output: out/report.md\n"
    )
    result, summary = run_json(
        "scan",
        "--config",
        str(tmp_path / "featmesh.yaml"),
        "--catalog",
        f"local:{tmp_path / 'c.db'}",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert summary["findings"]["waived"] == 2
    # ADLS paths (no credentials asked for) and metastore tables are skipped, not failed
    assert not any("profiling" in w for w in summary["warnings"]), summary["warnings"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "fraud" in report and summary["run_id"] in report


def test_a_scan_failing_on_findings_ends_with_why_citing_the_config_line(tmp_path: Path):
    config = tmp_path / "featmesh.yaml"
    config.write_text(
        f"version: 1\nsources:\n  - uri: manifest:{SAMPLES / 'manifests'}\n"
        f"catalog:\n  uri: local:{tmp_path / 'c.db'}\npolicies:\n  fail_on: error\n"
    )
    result = run("scan", "--config", str(config))
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("featmesh: exit 1: ")
    assert "unwaived findings at or above error" in last
    assert f"(fail_on: policies.fail_on, {config}:7)" in last
    flagged = run("scan", "--config", str(config), "--fail-on", "critical")
    assert flagged.exit_code == 1
    assert flagged.stderr.strip().splitlines()[-1].endswith("(fail_on: --fail-on)")
