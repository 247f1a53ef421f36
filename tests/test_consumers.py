"""Consumers: who reads feature sets, per store, and how they map to the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featmesh.connector.errors import InputError
from featmesh.connector.mapping.entities import FEATURE_SET, MODEL, PIPELINE, map_mesh
from featmesh.connector.mapping.graph import MeshGraph
from featmesh.connector.mapping.rules import MappingRule
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import azureml, feast, manifest
from featmesh.typedefs import load_typedefs, validate_document
from featmesh.typedefs.diff import refused_changes
from tests.conftest import SAMPLES, shared_fixture

TESTS = Path(__file__).resolve().parent
RETAIL = TESTS / "fixtures" / "azureml" / "retail_fs"


def _read(reader, location: str):
    report = SourceReport(uri=location, kind="x")
    return reader.read(location, report, {}), report


def _mesh():
    stores = []
    for folder in ("manifests", "models"):
        found, _ = _read(manifest, str(SAMPLES / folder))
        stores += found
    return stores


def test_manifest_consumers_read_exact_features_pinned_and_defaulted():
    store = next(s for s in _mesh() if s.name == "risk-models")
    by_key = {c.key: c for c in store.consumers}
    credit = by_key["model/credit-limit-model@4"]
    assert credit.owner == "risk-modelling@contoso.com" and credit.domain == "risk"  # from the store
    assert credit.registered_at == "models:/credit-limit-model/4"
    assert [(r.feature_set.qualified_name, r.features) for r in credit.reads] == [
        (
            "featmesh://manifest/risk-shared/customer_risk_360@1",
            ("spend_90d_eur", "tenure_days", "age_years", "has_mortgage"),
        ),
        ("featmesh://manifest/payments/transaction_aggregates@2", ("txn_count_7d", "txn_amount_sum_30d")),
    ]
    assert by_key["serving-endpoint/fraud-scoring-service"].serves == ("model/fraud-model@7",)


def _manifest(tmp_path: Path, consumers: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(
        "apiVersion: featmesh/v1\nstore: {name: s, owner: team@contoso.com}\n"
        "feature_sets:\n  - {name: fs, version: 2, features: [{name: f, dtype: int64}]}\n"
        "  - {name: fs, version: 10, features: [{name: f, dtype: int64}]}\n" + consumers,
        encoding="utf-8",
    )
    return path


def test_a_read_of_this_store_pins_the_newest_version(tmp_path: Path):
    path = _manifest(tmp_path, "consumers:\n  - {name: m, reads: [{feature_set: fs}]}\n")
    (store,), _ = _read(manifest, str(path))
    (consumer,) = store.consumers
    assert consumer.kind == "model" and consumer.reads[0].feature_set.version == "10"
    assert consumer.reads[0].features == ()


def test_a_read_of_an_undeclared_set_of_this_store_is_an_input_error(tmp_path: Path):
    path = _manifest(tmp_path, "consumers:\n  - {name: m, reads: [{feature_set: fs@3}]}\n")
    with pytest.raises(
        InputError, match=r"reads feature set 'fs@3', which store 's' does not declare"
    ) as err:
        _read(manifest, str(path))
    assert "consumers[0].reads[0].feature_set" in str(err.value)


def test_a_consumer_declared_twice_is_an_input_error(tmp_path: Path):
    body = (
        "consumers:\n  - {name: m, reads: [{feature_set: fs}]}\n  - {name: m, reads: [{feature_set: fs}]}\n"
    )
    with pytest.raises(InputError, match="consumer 'model/m' is declared twice"):
        _read(manifest, str(_manifest(tmp_path, body)))


def test_an_unknown_consumer_kind_is_rejected_by_the_schema(tmp_path: Path):
    body = "consumers:\n  - {kind: notebook, name: m, reads: [{feature_set: fs}]}\n"
    with pytest.raises(InputError, match=r"consumers.0..kind"):
        _read(manifest, str(_manifest(tmp_path, body)))


def test_azureml_model_asset_reads_its_feature_retrieval_spec():
    (store,), report = _read(azureml, str(RETAIL))
    (model,) = store.consumers
    assert (model.kind, model.name, model.version, model.owner) == (
        "model",
        "churn_model",
        "3",
        "retail-ml@contoso.com",
    )
    assert model.registered_at == "azureml:churn_model:3"
    reads = {r.feature_set.qualified_name: r.features for r in model.reads}
    assert reads == {
        "featmesh://azureml/retail_fs/transactions@1": ("transaction_amount_7d_sum", "transaction_3d_count"),
        "featmesh://azureml/retail_fs/account_profile@3": ("accountAge",),
    }
    assert report.counters["models"] == 1


def test_a_retrieval_spec_without_a_model_asset_is_read_with_a_warning(tmp_path: Path):
    folder = tmp_path / "fs" / "models" / "draft"
    folder.mkdir(parents=True)
    (folder / "feature_retrieval_spec.yaml").write_text(
        "serialization_version: 2\nfeature_stores:\n- uri: azureml://subscriptions/x/resourcegroups/r/workspaces/other\n"
        "  features:\n  - {feature_set: 'txn:2', feature_name: amount}\n",
        encoding="utf-8",
    )
    (store,), report = _read(azureml, str(tmp_path / "fs"))
    (model,) = store.consumers
    assert (
        model.name == "draft"
        and model.reads[0].feature_set.qualified_name == "featmesh://azureml/other/txn@2"
    )
    assert "no model asset points at this retrieval spec" in report.warnings.items[0]


def test_a_broken_retrieval_spec_names_the_file_and_place(tmp_path: Path):
    folder = tmp_path / "fs" / "m"
    folder.mkdir(parents=True)
    (folder / "feature_retrieval_spec.yaml").write_text(
        "feature_stores:\n- uri: https://example.com/x\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"is not a feature store URI") as err:
        _read(azureml, str(tmp_path / "fs"))
    assert "feature_retrieval_spec.yaml" in str(err.value)


def test_feast_saved_datasets_and_feature_services_are_consumers():
    repo = shared_fixture("feast-registries", "dqm-tutorial-2023")
    (store,), report = _read(feast, str(repo))
    kinds = {(c.kind, c.name) for c in store.consumers}
    assert kinds == {
        ("feature-service", "driver_activity"),
        ("saved-dataset", "february_saved_dataset"),
        ("saved-dataset", "june_features"),
    }
    saved = next(c for c in store.consumers if c.name == "february_saved_dataset")
    assert saved.reads[0].feature_set.name == "raw_data_fv"
    assert saved.reads[0].features == (
        "total_miles_travelled",
        "total_trip_seconds",
        "total_earned",
        "trip_count",
    )
    assert saved.registered_at == "february_saved_ds.parquet" and saved.extra["join_keys"] == ["taxi_id"]
    assert report.counters["saved_datasets"] == 2


def test_consumers_map_to_models_with_a_process_from_exactly_their_features():
    mapping = map_mesh(_mesh())
    by_qn = {e["attributes"]["qualifiedName"]: e for e in mapping.entities}
    qn = "featmesh://manifest/risk-models/consumer/model/fraud-model@7"
    model = by_qn[qn]
    assert model["typeName"] == MODEL and model["attributes"]["consumerKind"] == "model"
    assert model["attributes"]["features"] == [
        "featmesh://manifest/risk-shared/customer_risk_360@1#max_payment_30d_eur",
        "featmesh://manifest/risk-shared/customer_risk_360@1#txn_count_30d",
        "featmesh://manifest/payments/merchant_risk_signals@1#chargeback_rate_30d",
        "featmesh://manifest/payments/merchant_risk_signals@1#is_high_risk_mcc",
    ]
    process = by_qn[qn + "/pipeline/consumption"]
    assert process["typeName"] == PIPELINE and process["attributes"]["pipelineKind"] == "consumption"
    assert [i["uniqueAttributes"]["qualifiedName"] for i in process["attributes"]["inputs"]] == [
        "featmesh://manifest/risk-shared/customer_risk_360@1",
        "featmesh://manifest/payments/merchant_risk_signals@1",
    ]
    # a model shows no schema, so no columnMapping could name its columns: the process says
    # which features it reads instead
    assert "columnMapping" not in process["attributes"]
    assert process["attributes"]["readsFeatures"] == model["attributes"]["features"]
    endpoint = by_qn["featmesh://manifest/risk-models/consumer/serving-endpoint/fraud-scoring-service@latest"]
    assert endpoint["attributes"]["serves"] == [qn]
    order = [e["typeName"] for e in mapping.entities]
    assert order.index(MODEL) > max(i for i, t in enumerate(order) if t == FEATURE_SET)


def test_a_read_of_a_set_no_catalog_holds_is_named_but_not_an_input():
    models_only, _ = _read(manifest, str(SAMPLES / "models"))
    mapping = map_mesh(models_only, exists=lambda t, q: False)
    assert not any(e["typeName"] == PIPELINE for e in mapping.entities)  # no input would resolve
    model = next(e for e in mapping.entities if e["typeName"] == MODEL)
    assert model["attributes"]["featureSets"][0] == "featmesh://manifest/risk-shared/customer_risk_360@1"


def test_a_mapping_rule_resolves_a_model_to_an_existing_catalog_entity():
    rule = MappingRule.from_config(
        {
            "match": r"^models:/(?P<name>[^/]+)/(?P<version>\d+)$",
            "type": "mlflow_model_version",
            "qualified_name": "mlflow://models/{name}/{version}",
            "source_kinds": ["model"],
        }
    )
    held = {("mlflow_model_version", "mlflow://models/fraud-model/7")}
    mapping = map_mesh(_mesh(), rules=[rule], exists=lambda t, q: (t, q) in held or t == FEATURE_SET)
    qns = {e["attributes"]["qualifiedName"] for e in mapping.entities}
    assert "featmesh://manifest/risk-models/consumer/model/fraud-model@7" not in qns
    assert (
        "featmesh://manifest/risk-models/consumer/model/credit-limit-model@4" in qns
    )  # not held: a model entity
    process = next(
        e
        for e in mapping.entities
        if e["attributes"]["qualifiedName"]
        == "featmesh://manifest/risk-models/consumer/model/fraud-model@7/pipeline/consumption"
    )
    assert process["attributes"]["outputs"] == [
        {
            "typeName": "mlflow_model_version",
            "uniqueAttributes": {"qualifiedName": "mlflow://models/fraud-model/7"},
        }
    ]
    assert ("mlflow_model_version", "mlflow://models/fraud-model/7") in mapping.external_sources
    # no model entity holds the features read: the impact graph finds them on the process
    assert process["attributes"]["readsFeatures"] == [
        "featmesh://manifest/risk-shared/customer_risk_360@1#max_payment_30d_eur",
        "featmesh://manifest/risk-shared/customer_risk_360@1#txn_count_30d",
        "featmesh://manifest/payments/merchant_risk_signals@1#chargeback_rate_30d",
        "featmesh://manifest/payments/merchant_risk_signals@1#is_high_risk_mcc",
    ]
    graph = MeshGraph.from_entities(mapping.entities)
    reached = graph.downstream("featmesh://manifest/payments/merchant_risk_signals@1#is_high_risk_mcc")
    assert [n.qualified_name for n, _ in reached.models] == ["mlflow://models/fraud-model/7"]


def test_the_model_type_is_valid_and_an_update_atlas_accepts():
    new = load_typedefs()
    assert validate_document(new) == []
    old = json.loads(json.dumps(new))
    old["entityDefs"] = [d for d in old["entityDefs"] if d["name"] != MODEL]
    for c in old["classificationDefs"]:
        c["entityTypes"] = [t for t in c.get("entityTypes", []) if t != MODEL]
    assert refused_changes(old, new) == []
