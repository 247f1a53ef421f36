"""Mesh-wide conflicts carry both places: SARIF ``relatedLocations`` (SARIF 2.1.0
section 3.27.22) with the other definition's file and line where this run read it, linked
from the message (3.11.6 embedded links ``[text](id)``: GitHub code scanning shows a
related location only when the message links it); the text and JSON reports name both."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

import featmesh.connector.catalog
from tests.conftest import run
from tests.policies.helpers import feature, good_set
from tests.policies.test_cli import FakeCatalog
from tests.policies.test_reports import sarif_schema

PAYMENTS = """apiVersion: featmesh/v1
store: {name: payments, domain: payments, owner: payments-ml@contoso.com}
feature_sets:
  - name: card_activity
    version: 1
    description: Card activity per customer, refreshed hourly.
    timestamp_field: event_ts
    sources:
      - {kind: delta, uri: main.payments.card_txn, columns: [customer_id, amount]}
    features:
      - name: customer_age
        dtype: int32
        description: Age of the customer in years.
      - name: spend_7d
        dtype: float64
        description: Spend over seven days.
        source_columns: [amount]
        transformation: sum(amount) over 7d
"""

RISK = """apiVersion: featmesh/v1
store: {name: risk, domain: risk, owner: risk-ml@contoso.com}
feature_sets:
  - name: customer_risk
    version: 1
    description: Risk signals per customer, refreshed nightly.
    timestamp_field: event_ts
    sources:
      - {kind: delta, uri: main.payments.card_txn, columns: [customer_id, amount]}
    features:
      - name: spend_week
        dtype: float64
        description: Spend over seven days.
        source_columns: [amount]
        transformation: SUM(amount)  over 7d
      - name: customer_age
        dtype: string
        description: Age band of the customer.
"""


def _repo(tmp_path: Path) -> Path:
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "payments.yaml").write_text(PAYMENTS)
    (folder / "risk.yaml").write_text(RISK)
    return folder


def _results(doc: dict, rule: str) -> dict[str, dict]:
    found = [r for r in doc["runs"][0]["results"] if r["ruleId"] == rule]
    return {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in found}


def test_a_dtype_conflict_points_at_both_dtype_lines(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path)
    out = tmp_path / "out.sarif"
    run("check", "features", "--format", "sarif", "-o", str(out))
    doc = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    conflicts = _results(doc, "feature-meaning-conflict")
    risk = conflicts["featmesh://manifest/risk/customer_risk@1#customer_age"]
    here = risk["locations"][0]["physicalLocation"]
    assert here == {"artifactLocation": {"uri": "features/risk.yaml"}, "region": {"startLine": 17}}
    (other,) = risk["relatedLocations"]
    assert other["id"] == 1
    assert other["physicalLocation"] == {
        "artifactLocation": {"uri": "features/payments.yaml"},
        "region": {"startLine": 12},  # the other set's dtype line
    }
    assert other["logicalLocations"][0]["fullyQualifiedName"] == (
        "featmesh://manifest/payments/card_activity@1#customer_age"
    )
    assert "[featmesh://manifest/payments/card_activity@1#customer_age](1)" in risk["message"]["text"]
    # and the other way round
    payments = conflicts["featmesh://manifest/payments/card_activity@1#customer_age"]
    assert payments["relatedLocations"][0]["physicalLocation"]["region"] == {"startLine": 17}


def test_duplicate_engineering_points_at_the_other_source_columns(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path)
    out = tmp_path / "out.sarif"
    run("check", "features", "--format", "sarif", "-o", str(out))
    doc = json.loads(out.read_text())
    risk = _results(doc, "duplicate-engineering")["featmesh://manifest/risk/customer_risk@1#spend_week"]
    assert risk["locations"][0]["physicalLocation"]["region"] == {"startLine": 14}
    (other,) = risk["relatedLocations"]
    assert other["physicalLocation"]["artifactLocation"]["uri"] == "features/payments.yaml"
    assert other["physicalLocation"]["region"] == {"startLine": 17}  # its source_columns


def test_text_and_json_name_both_places(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path)
    text = run("check", "features").stdout
    assert (
        "features/risk.yaml:17:1: feature-meaning-conflict [warning] customer_age: feature 'customer_age': "
        "dtype is 'string' here but 'int32' in domain 'payments' "
        "(featmesh://manifest/payments/card_activity@1#customer_age) "
        "(other definition at features/payments.yaml:12)"
    ) in text.splitlines()
    doc = json.loads(run("check", "features", "--json").stdout)
    (risk,) = [
        r
        for r in doc["results"]
        if r["rule"] == "feature-meaning-conflict" and r["target"].endswith("customer_risk@1#customer_age")
    ]
    assert risk["location"] == {"path": "features/risk.yaml", "line": 17}
    assert risk["related"] == [
        {
            "target": "featmesh://manifest/payments/card_activity@1#customer_age",
            "path": "features/payments.yaml",
            "line": 12,
        }
    ]


def test_a_set_known_only_from_the_catalog_is_named_without_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "risk.yaml").write_text(RISK)
    other = good_set(name="customer_profile", store="crm", domain="customer",
                     features=(feature("customer_age", "int64"),))  # fmt: skip
    monkeypatch.setattr(
        featmesh.connector.catalog, "open_catalog", lambda uri, **_: FakeCatalog([other]), raising=False
    )
    out = tmp_path / "out.sarif"
    run("check", "risk.yaml", "--catalog", "atlas+https://atlas.example", "--format", "sarif", "-o", str(out))
    doc = json.loads(out.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    risk = _results(doc, "feature-meaning-conflict")["featmesh://manifest/risk/customer_risk@1#customer_age"]
    (related,) = risk["relatedLocations"]
    assert "physicalLocation" not in related
    assert related["logicalLocations"][0]["fullyQualifiedName"].endswith("customer_profile@1#customer_age")
    assert "](1)" not in risk["message"]["text"]  # nothing to link to


def test_a_scan_places_no_finding_no_report_shows(tmp_path: Path, monkeypatch) -> None:
    """A scan records findings without their places: no manifest's position tree is built
    (the conflict's related features are told apart without placing them)."""
    from featmesh.connector import documents

    built: list[int] = []
    tree = documents._Locator.__init__

    def counted(self: documents._Locator, text: str) -> None:
        built.append(len(text))
        tree(self, text)

    monkeypatch.setattr(documents._Locator, "__init__", counted)
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path)
    result = run("-q", "scan", "manifest:features", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["findings"]["warning"] > 0
    assert built == []
