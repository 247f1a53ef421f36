"""``featmesh contract export``: an ODCS v3.0.2 contract per feature set, valid against the
standard's published JSON Schema (shipped as connector/contracts/odcs-json-schema-v3.0.2.json,
bitol-io/open-data-contract-standard, Apache-2.0), and read back by featmesh's own reader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

import featmesh.connector.contracts as contracts
from featmesh.connector.contracts import load_contract
from tests.conftest import SAMPLES, run

SCHEMA = json.loads((Path(contracts.__file__).parent / "odcs-json-schema-v3.0.2.json").read_text())


def test_every_sample_set_gets_a_valid_contract_with_keys_features_ttl_and_readers(tmp_path: Path) -> None:
    out = tmp_path / "contracts"
    result = run("contract", "export", "--config", str(SAMPLES / "featmesh.yaml"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    files = sorted(out.glob("*.odcs.yaml"))
    assert len(files) == 12 and not list(out.glob("*.tmp"))
    validator = jsonschema.Draft201909Validator(SCHEMA)
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert not errors, (path.name, [e.message for e in errors])
    path = out / "risk-shared__customer_risk_360@1.odcs.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["id"] == "featmesh://manifest/risk-shared/customer_risk_360@1"
    assert doc["domain"] == "risk" and doc["team"] == [
        {"username": "risk-modelling@contoso.com", "role": "owner"}
    ]
    (obj,) = doc["schema"]
    key = obj["properties"][0]
    assert key["name"] == "customer_id" and key["primaryKey"] is True and key["primaryKeyPosition"] == 1
    by_name = {p["name"]: p for p in obj["properties"]}
    assert by_name["has_mortgage"]["logicalType"] == "boolean"
    assert by_name["txn_count_30d"] == {
        "name": "txn_count_30d",
        "logicalType": "integer",
        "physicalType": "int64",
        "description": "Card transactions over 30 days from the payments domain.",
    }
    custom = {c["property"]: c["value"] for c in doc["customProperties"]}
    assert custom["consumers"] == [
        "model/credit-limit-model@4",
        "model/fraud-model@7",
        "serving-endpoint/fraud-scoring-service",
    ]
    assert custom["derivedFrom"] == [
        "featmesh://manifest/payments/transaction_aggregates@2",
        "featmesh://manifest/customer-360/customer_profile@3",
    ]
    back = load_contract(path)
    assert back.freshness_seconds == 86400  # ttl: 1d
    assert back.objects["customer_risk_360"].columns["spend_90d_eur"].dtype == "float64"


def test_stdout_is_one_yaml_stream(tmp_path: Path) -> None:
    result = run("contract", "export", f"manifest:{SAMPLES / 'manifests' / 'payments.yaml'}")
    assert result.exit_code == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["name"] for d in docs] == [
        "transaction_aggregates",
        "merchant_risk_signals",
        "card_usage_patterns",
    ]
    assert all(d["apiVersion"] == "v3.0.2" and d["kind"] == "DataContract" for d in docs)


def test_a_broken_source_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: featmesh/v1\nstore: {name: x}\nfeature_sets: [{name: 1}]\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("contract", "export", f"manifest:{SAMPLES / 'manifests'}", f"manifest:{bad}", "-o", str(out))
    assert result.exit_code == 2
    assert "bad.yaml" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
