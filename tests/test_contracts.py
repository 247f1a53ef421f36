"""ODCS v3 data contracts: reading, validation against the standard's schema, diff and ML impact."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from featmesh.connector.config import load_config
from featmesh.connector.contracts import diff, load_contract, load_contracts, schema
from featmesh.connector.errors import InputError
from tests.conftest import SAMPLES, run, sample_mesh_with_models

V1 = SAMPLES / "contracts" / "card-transactions.odcs.yaml"
V2 = SAMPLES / "contracts" / "card-transactions-2.0.odcs.yaml"


def test_the_shipped_schema_is_the_standards_v3_0_2_release():
    shipped = schema()
    jsonschema.validators.validator_for(shipped).check_schema(shipped)
    assert shipped["properties"]["apiVersion"]["enum"][0] == "v3.0.2"
    assert set(shipped["required"]) == {"version", "apiVersion", "kind", "id", "status"}


def test_the_sample_contract_reads_tables_columns_types_and_freshness():
    contract = load_contract(V1)
    assert (contract.id, contract.version, contract.status) == (
        "urn:contoso:payments:card-transactions",
        "1.4.0",
        "active",
    )
    (obj,) = contract.objects.values()
    assert obj.table == "main.payments.card_transactions"
    assert obj.columns["amount_eur"].dtype == "decimal" and obj.columns["event_ts"].dtype == "timestamp"
    assert contract.freshness_seconds == 86400


def test_a_contract_the_schema_refuses_is_an_input_error_naming_the_file(tmp_path: Path):
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text(
        "apiVersion: v9\nkind: DataContract\nid: x\nversion: 1\nstatus: active\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        load_contract(bad)
    assert "bad.odcs.yaml" in str(err.value) and "apiVersion" in str(err.value)


def test_diff_lists_type_changes_removed_columns_and_status():
    breaks = diff(load_contract(V1), load_contract(V2))
    assert [(b.column, b.change) for b in breaks] == [("amount_eur", "type"), ("is_online", "removed")]
    assert breaks[0].message == "column amount_eur changes type from decimal to int64"
    assert diff(load_contract(V1), load_contract(V1)) == []


def test_a_deprecated_contract_breaks_every_object(tmp_path: Path):
    text = V1.read_text(encoding="utf-8").replace("status: active", "status: deprecated")
    deprecated = tmp_path / "dep.odcs.yaml"
    deprecated.write_text(text, encoding="utf-8")
    (only,) = diff(load_contract(V1), load_contract(deprecated))
    assert only.change == "status" and only.message == "status becomes deprecated"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sample_mesh_with_models(tmp_path_factory, "contracts")


def test_contract_diff_names_the_feature_sets_models_and_owners_it_breaks(catalog: str):
    result = run("contract", "diff", str(V1), str(V2), "--catalog", catalog, "--json")
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["breaks_downstream"] is True
    amount, online = document["breaks"]
    assert [r["name"] for r in amount["feature_sets"]] == [
        "web_sessions_daily",
        "transaction_aggregates",
        "customer_risk_360",
    ]
    assert sorted(r["name"] for r in amount["models"]) == ["credit-limit-model", "fraud-model"]
    assert [r["name"] for r in amount["serving_endpoints"]] == ["fraud-scoring-service"]
    assert "risk-modelling@contoso.com" in amount["owners"]
    assert "featmesh://manifest/payments/transaction_aggregates@2#txn_amount_sum_30d" in amount["features"]
    # is_online feeds only online_share_30d, which nothing downstream reads
    assert [r["name"] for r in online["feature_sets"]] == ["transaction_aggregates"]
    assert online["models"] == [] and online["features"] == [
        "featmesh://manifest/payments/transaction_aggregates@2#online_share_30d"
    ]


def test_contract_diff_without_breaks_exits_0_and_markdown(catalog: str):
    same = run("contract", "diff", str(V1), str(V1), "--catalog", catalog)
    assert same.exit_code == 0 and "no breaking change" in same.stdout
    markdown = run("contract", "diff", str(V1), str(V2), "--catalog", catalog, "--format", "markdown")
    assert markdown.exit_code == 1
    assert (
        "| `main.payments.card_transactions` | column is_online removed | `transaction_aggregates` | - |"
        in markdown.stdout
    )


def test_contract_diff_of_a_missing_file_is_exit_2(catalog: str, tmp_path: Path):
    result = run("contract", "diff", str(tmp_path / "nope.yaml"), str(V2), "--catalog", catalog)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_check_against_a_contract_and_the_sample_config_names_them(tmp_path: Path):
    result = run(
        "check", f"manifest:{SAMPLES / 'manifests'}", "--contract", str(V1), "--json", "--fail-on", "never"
    )
    assert result.exit_code == 0, result.stderr
    found = {
        r["target"]: r["message"]
        for r in json.loads(result.stdout)["results"]
        if r["rule"] == "contract-conformance" and r["state"] == "failed"
    }
    message = (
        "main.payments.card_transactions: reads channel, billing_email, "
        "which contract urn:contoso:payments:card-transactions 1.4.0 does not promise"
    )
    assert found == {"featmesh://manifest/payments/card_usage_patterns@1": message}
    assert load_config(SAMPLES / "featmesh.yaml").contracts == (SAMPLES / "contracts",)


def test_a_folder_keeps_the_contract_in_force_over_a_proposal():
    (terms,) = load_contracts([SAMPLES / "contracts"]).values()
    assert (terms.version, terms.status) == ("1.4.0", "active")
