"""Who reads the Unity Catalog feature tables: registered models and serving endpoints.

Payloads are shaped as the Databricks REST reference documents them:

- registered models, ``GET /api/2.1/unity-catalog/models`` (``registered_models``,
  ``next_page_token``): https://docs.databricks.com/api/workspace/registeredmodels/list
  (the RegisteredModelInfo object: https://docs.databricks.com/api/uc-registered-models/v1/model);
- model versions, ``GET /api/2.1/unity-catalog/models/{full_name}/versions``
  (``model_versions``; ``model_version_dependencies.dependencies[]`` with ``table.table_full_name``
  or ``function.function_full_name``, "for feature-store packaged models"; ``status`` one of
  PENDING_REGISTRATION, FAILED_REGISTRATION, READY):
  https://docs.databricks.com/api/workspace/modelversions/list;
- serving endpoints, ``GET /api/2.0/serving-endpoints`` (``endpoints[]`` with ``name``,
  ``creator``, ``state.ready``, ``config.served_entities[]`` with ``entity_name``,
  ``entity_version``, ``name``; an entity may be a UC model or a function of type
  FEATURE_SPEC, whose ``entity_version`` is empty):
  https://docs.databricks.com/api/workspace/servingendpoints/list.

The response keys are also those of the SDK classes generated from Databricks's OpenAPI
specification (databricks/databricks-sdk-java, ``service/catalog/ListRegisteredModelsResponse``:
``registered_models``, ``next_page_token``; ``ListModelVersionsResponse``: ``model_versions``,
``next_page_token``; ``service/serving/ServedEntitySpec``: ``entity_name``, ``entity_version``,
``external_model``, ``foundation_model``, ``name``).
"""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from featmesh.connector.errors import SourceError
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources.databricks import read
from tests.test_databricks_source import BASE, CUSTOMER, FAST, UC, token  # noqa: F401

ENDPOINTS = f"{BASE}/api/2.0/serving-endpoints"
PAGE = {"max_results": "100"}


def _schemas() -> None:
    responses.get(
        f"{UC}/schemas",
        json={
            "schemas": [
                {"name": "fraud", "catalog_name": "ml", "full_name": "ml.fraud"},
                {"name": "models", "catalog_name": "ml", "full_name": "ml.models"},
            ]
        },
        match=[matchers.query_param_matcher({"catalog_name": "ml", **PAGE})],
    )
    for schema, tables in (("fraud", [CUSTOMER]), ("models", [])):
        responses.get(
            f"{UC}/tables",
            json={"tables": tables},
            match=[matchers.query_param_matcher({"catalog_name": "ml", "schema_name": schema, **PAGE})],
        )
    responses.get(
        f"{UC}/models",
        json={"registered_models": []},
        match=[matchers.query_param_matcher({"catalog_name": "ml", "schema_name": "fraud", **PAGE})],
    )


CHURN = {
    "name": "churn",
    "catalog_name": "ml",
    "schema_name": "models",
    "full_name": "ml.models.churn",
    "owner": "churn-ml@contoso.com",
    "comment": "Churn classifier",
    "created_at": 1700000000000,
    "created_by": "alice@contoso.com",
}


def _version(number: int, status: str = "READY", dependencies: list[dict] | None = None) -> dict:
    out = {
        "model_name": "churn",
        "catalog_name": "ml",
        "schema_name": "models",
        "version": number,
        "status": status,
        "source": f"dbfs:/databricks/mlflow-tracking/1/run{number}/artifacts/model",
        "run_id": f"run{number}",
        "created_by": "alice@contoso.com",
        "comment": f"version {number}",
    }
    if dependencies is not None:
        out["model_version_dependencies"] = {"dependencies": dependencies}
    return out


def _models(versions_status: int = 200) -> None:
    responses.get(
        f"{UC}/models",
        json={"registered_models": [CHURN]},
        match=[matchers.query_param_matcher({"catalog_name": "ml", "schema_name": "models", **PAGE})],
    )
    url = f"{UC}/models/ml.models.churn/versions"
    if versions_status != 200:
        responses.get(url, status=versions_status, json={"error_code": "PERMISSION_DENIED", "message": "no"})
        return
    table = {"table": {"table_full_name": "ml.fraud.customer_features"}}
    other = {"table": {"table_full_name": "ml.crm.contacts"}}
    function = {"function": {"function_full_name": "ml.fraud.distance_km"}}
    responses.get(
        url,
        json={
            "model_versions": [
                _version(1, dependencies=[table, function]),
                _version(2, "FAILED_REGISTRATION", [table]),
            ],
            "next_page_token": "v2",
        },
        match=[matchers.query_param_matcher(PAGE)],
    )
    responses.get(
        url,
        json={"model_versions": [_version(3, dependencies=[table, other]), _version(4)]},
        match=[matchers.query_param_matcher({**PAGE, "page_token": "v2"})],
    )


def _endpoints() -> None:
    responses.get(
        ENDPOINTS,
        json={
            "endpoints": [
                {
                    "name": "churn-scoring",
                    "creator": "bob@contoso.com",
                    "creation_timestamp": 1700000000000,
                    "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
                    "config": {
                        "served_entities": [
                            {"name": "churn-3", "entity_name": "ml.models.churn", "entity_version": "3"},
                            {"name": "churn-1", "entity_name": "ml.models.churn", "entity_version": "1"},
                        ]
                    },
                },
                {
                    "name": "features-online",
                    "creator": "bob@contoso.com",
                    "config": {"served_entities": [{"name": "spec", "entity_name": "ml.fraud.churn_spec"}]},
                },
                {
                    "name": "chat",
                    "creator": "carol@contoso.com",
                    "config": {
                        "served_entities": [{"name": "gpt", "external_model": {"provider": "openai"}}]
                    },
                },
            ]
        },
    )


@responses.activate
def test_model_versions_depending_on_feature_tables_and_the_endpoints_serving_them():
    _schemas()
    _models()
    _endpoints()
    report = SourceReport(uri="x", kind="databricks")
    stores = read(f"{BASE}?catalog=ml&api=unity&lineage=false", report, FAST)
    assert [(s.name, len(s.feature_sets)) for s in stores] == [("ml.fraud", 1), ("ml.models", 0)]
    (fs,) = stores[0].feature_sets
    consumers = {c.key: c for c in stores[1].consumers}
    assert list(consumers) == [
        "model/ml.models.churn@1",
        "model/ml.models.churn@3",
        "serving-endpoint/churn-scoring",
    ]
    v1 = consumers["model/ml.models.churn@1"]
    assert [r.feature_set for r in v1.reads] == [fs.ref]
    assert v1.reads[0].features == ()  # the dependency names the table: every feature
    assert v1.owner == "churn-ml@contoso.com"
    assert v1.registered_at == "models:/ml.models.churn/1"
    assert v1.extra["functions"] == ["ml.fraud.distance_km"] and v1.extra["run_id"] == "run1"
    v3 = consumers["model/ml.models.churn@3"]
    assert [r.feature_set.qualified_name for r in v3.reads] == [
        fs.ref.qualified_name,
        "featmesh://databricks/ml.crm/contacts@latest",  # a table not read here, by name
    ]
    endpoint = consumers["serving-endpoint/churn-scoring"]
    assert endpoint.serves == ("model/ml.models.churn@3", "model/ml.models.churn@1")
    assert endpoint.owner == "bob@contoso.com"
    assert [r.feature_set.qualified_name for r in endpoint.reads] == [
        r.feature_set.qualified_name for r in v3.reads
    ]
    assert endpoint.registered_at == f"{ENDPOINTS}/churn-scoring"
    assert report.counters["registered_models"] == 1
    assert report.counters["model_versions_reading_features"] == 2
    assert report.counters["endpoints_serving_feature_specs"] == 1
    assert report.counters["serving_endpoints_reading_features"] == 1


@responses.activate
def test_a_refused_model_listing_fails_the_source_rather_than_erase_published_models():
    _schemas()
    _models(versions_status=403)
    with pytest.raises(
        SourceError, match=r"the versions of model ml.models.churn unavailable .*models=false"
    ):
        read(f"{BASE}?catalog=ml&api=unity&lineage=false", SourceReport(uri="x", kind="databricks"), FAST)


@responses.activate
def test_models_false_reads_no_model_and_no_endpoint():
    _schemas()
    stores = read(
        f"{BASE}?catalog=ml&api=unity&lineage=false&models=false",
        SourceReport(uri="x", kind="databricks"),
        FAST,
    )
    assert [s.name for s in stores] == ["ml.fraud"] and not stores[0].consumers
    assert not [c for c in responses.calls if "/models" in c.request.url or "serving" in c.request.url]


@responses.activate
def test_a_workspace_without_serving_keeps_its_models():
    _schemas()
    _models()
    responses.get(ENDPOINTS, status=404, json={"error_code": "ENDPOINT_NOT_FOUND"})
    stores = read(
        f"{BASE}?catalog=ml&api=unity&lineage=false", SourceReport(uri="x", kind="databricks"), FAST
    )
    assert [c.kind for c in stores[1].consumers] == ["model", "model"]
