"""``featmesh impact``: the downstream closure of a product, a feature set or a feature."""

from __future__ import annotations

import itertools
import json

import pytest

from featmesh.connector.mapping.graph import MeshGraph
from tests.conftest import run, sample_mesh_with_models

CARD_TXN = "featmesh://data-product/main.payments.card_transactions"  # no data_products rule here
FRAUD = "featmesh://manifest/risk-models/consumer/model/fraud-model@7"
CREDIT = "featmesh://manifest/risk-models/consumer/model/credit-limit-model@4"
ENDPOINT = "featmesh://manifest/risk-models/consumer/serving-endpoint/fraud-scoring-service@latest"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sample_mesh_with_models(tmp_path_factory, "impact")


def _impact(catalog: str, target: str) -> dict:
    result = run("impact", target, "--catalog", catalog, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _qns(rows: list[dict]) -> list[str]:
    return [r["qualifiedName"] for r in rows]


def test_a_table_name_reaches_derived_sets_models_and_the_endpoint(catalog: str):
    found = _impact(catalog, "main.payments.card_transactions")
    assert found["target"]["qualifiedName"] == CARD_TXN
    assert _qns(found["feature_sets"]) == [
        "featmesh://manifest/marketing/web_sessions_daily@latest",
        "featmesh://manifest/payments/card_usage_patterns@1",
        "featmesh://manifest/payments/transaction_aggregates@2",
        "featmesh://manifest/risk-shared/customer_risk_360@1",
    ]
    derived = found["feature_sets"][3]
    assert derived["depth"] == 2 and derived["via"] == "featmesh://manifest/payments/transaction_aggregates@2"
    assert _qns(found["models"]) == [CREDIT, FRAUD]
    assert _qns(found["serving_endpoints"]) == [ENDPOINT]
    assert found["owners"] == [
        "fraud-ml@contoso.com",
        "marketing-data@contoso.com",
        "payments-ml@contoso.com",
        "risk-modelling@contoso.com",
    ]
    assert found["domains"] == ["marketing", "payments", "risk"]


def test_a_feature_reaches_only_what_reads_it(catalog: str):
    found = _impact(catalog, "featmesh://manifest/payments/transaction_aggregates@2#txn_count_30d")
    assert found["features"] == ["featmesh://manifest/risk-shared/customer_risk_360@1#txn_count_30d"]
    assert _qns(found["feature_sets"]) == ["featmesh://manifest/risk-shared/customer_risk_360@1"]
    # the fraud model reads the derived txn_count_30d; the credit model reads txn_count_7d, not this one
    assert _qns(found["models"]) == [FRAUD]
    assert _qns(found["serving_endpoints"]) == [ENDPOINT]
    unused = _impact(catalog, "featmesh://manifest/payments/transaction_aggregates@2#txn_count_1d")
    assert unused["models"] == unused["feature_sets"] == []


def test_a_set_read_directly_by_a_model(catalog: str):
    found = _impact(catalog, "featmesh://manifest/payments/merchant_risk_signals@1")
    assert found["feature_sets"] == []
    assert _qns(found["models"]) == [FRAUD] and found["models"][0]["kind"] == "model"
    assert found["models"][0]["registeredAt"] == "models:/fraud-model/7"
    assert found["owners"] == ["fraud-ml@contoso.com"]


def test_text_and_markdown(catalog: str):
    text = run("impact", "main.payments.card_transactions", "--catalog", catalog)
    assert text.exit_code == 0
    assert "models (2):" in text.stdout and "[serving-endpoint] fraud-scoring-service" in text.stdout
    markdown = run("impact", CARD_TXN, "--catalog", catalog, "--format", "markdown").stdout
    assert markdown.startswith("### Impact of `")
    assert "| model | `fraud-model@7` | fraud-ml@contoso.com | risk | 3 |" in markdown
    assert "4 feature set(s), 2 model(s) and 1 serving endpoint(s) downstream" in markdown


def test_an_unknown_target_is_a_usage_error(catalog: str):
    result = run("impact", "main.nowhere.table", "--catalog", catalog)
    assert result.exit_code == 2
    assert "names no data product, feature set, feature or model" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_closure_walks_indexes_once_per_node():
    """A chain of 2,000 derived sets: the closure visits each edge once (no rescans)."""
    entities: list[dict] = []
    names = [f"featmesh://manifest/s/set{i}@1" for i in range(2000)]
    for qn in names:
        entities.append({"typeName": "featmesh_feature_set", "attributes": {"qualifiedName": qn, "name": qn}})
    for parent, child in itertools.pairwise(names):
        entities.append(
            {
                "typeName": "featmesh_feature_pipeline",
                "attributes": {
                    "qualifiedName": child + "/pipeline/derivation",
                    "inputs": [
                        {"typeName": "featmesh_feature_set", "uniqueAttributes": {"qualifiedName": parent}}
                    ],
                    "outputs": [
                        {"typeName": "featmesh_feature_set", "uniqueAttributes": {"qualifiedName": child}}
                    ],
                },
            }
        )
    graph = MeshGraph.from_entities(entities)
    impact = graph.downstream(names[0])
    assert len(impact.feature_sets) == 1999 and impact.feature_sets[-1][1] == 1999
