"""Model -> Atlas JSON: entities, references, data products, lineage and columnMapping."""

from __future__ import annotations

import json
import re

from featmesh.connector.mapping.entities import (
    COLUMN,
    DATA_PRODUCT,
    ENTITY,
    FEATURE,
    FEATURE_SET,
    PIPELINE,
    STORE,
    map_mesh,
    mesh_keys,
)
from featmesh.connector.mapping.rules import DEFAULT_RULES, MappingRule, resolve
from featmesh.connector.model import Feature, FeatureSet, FeatureSetRef, FeatureStore, SourceRef
from tests.conftest import SAMPLES
from tests.test_manifest import _read_all

DP = "featmesh://data-product/"


def _samples():
    _, result = _read_all(str(SAMPLES / "manifests"))
    return result.stores


def _by_qn(mapping):
    return {e["attributes"]["qualifiedName"]: e for e in mapping.entities}


def test_every_object_becomes_an_entity_in_dependency_order():
    stores = _samples()
    mapping = map_mesh(stores)
    order = [e["typeName"] for e in mapping.entities]
    assert order.count(STORE) == 4
    assert order.count(FEATURE_SET) == 9
    assert order.count(FEATURE) == sum(len(fs.features) for s in stores for fs in s.feature_sets)
    assert order.count(ENTITY) == 6
    assert order.count(COLUMN) == 34  # each placeholder's distinct source columns its readers read
    rank = {STORE: 0, ENTITY: 1, DATA_PRODUCT: 2, COLUMN: 3, FEATURE_SET: 4, FEATURE: 5, PIPELINE: 6}
    assert [rank[t] for t in order] == sorted(rank[t] for t in order)
    assert all("guid" not in e for e in mapping.entities)


def _schemas(entities: list[dict]) -> dict[str, set[str]]:
    """What Purview shows as each dataset's schema: a set's features, a placeholder's columns."""
    schema: dict[str, set[str]] = {}
    for e in entities:
        parent = {FEATURE: "featureSet", COLUMN: "dataProduct"}.get(e["typeName"])
        if parent:
            owner = e["relationshipAttributes"][parent]["uniqueAttributes"]["qualifiedName"]
            schema.setdefault(owner, set()).add(e["attributes"]["name"])
    return schema


def test_every_column_mapping_names_columns_that_exist_on_both_ends():
    entities = map_mesh(_samples()).entities
    schema = _schemas(entities)
    pairs = 0
    for e in entities:
        if e["typeName"] != PIPELINE or not e["attributes"].get("columnMapping"):
            continue
        for entry in json.loads(e["attributes"]["columnMapping"]):
            source, sink = entry["DatasetMapping"]["Source"], entry["DatasetMapping"]["Sink"]
            for column in entry["ColumnMapping"]:
                assert column["Source"] in schema.get(source, set()), (
                    e["attributes"]["qualifiedName"],
                    column,
                )
                assert column["Sink"] in schema.get(sink, set()), (e["attributes"]["qualifiedName"], column)
                pairs += 1
    assert pairs > 40


def test_a_real_product_lacking_a_column_is_left_out_of_the_mapping_and_said():
    adls = "azure_datalake_gen2_path"
    real = "https://contosopayments.dfs.core.windows.net/curated/settlements/merchant_daily"
    mapping = map_mesh(
        _samples(),
        exists=lambda t, q: t == adls and q == real,
        columns=lambda t, q: frozenset({"merchant_id", "chargebacks", "refunds"}),
    )
    entities = _by_qn(mapping)
    assert DP + real not in entities  # the real product is read, no placeholder
    pipeline = entities["featmesh://manifest/payments/merchant_risk_signals@1/pipeline/source"]
    (entry,) = json.loads(pipeline["attributes"]["columnMapping"])
    assert {c["Source"] for c in entry["ColumnMapping"]} == {"chargebacks", "refunds"}
    (said,) = mapping.unmapped_columns
    assert "leaves out gross_volume_eur, settlement_date: not in the schema the catalog shows" in said


def test_feature_set_attributes_and_references():
    entities = _by_qn(map_mesh(_samples()))
    fs = entities["featmesh://manifest/payments/transaction_aggregates@2"]
    attrs = fs["attributes"]
    assert attrs["owner"] == "payments-ml@contoso.com"
    assert attrs["ttlSeconds"] == 172800
    assert attrs["joinKeys"] == ["customer_id:string"]
    assert attrs["domain"] == "payments" and attrs["domainRule"] == "declared"
    assert re.fullmatch(r"[0-9a-f]{64}", attrs["contentHash"])
    assert fs["relationshipAttributes"]["store"] == {
        "typeName": STORE,
        "uniqueAttributes": {"qualifiedName": "featmesh://manifest/payments"},
    }
    assert fs["relationshipAttributes"]["entities"][0]["uniqueAttributes"]["qualifiedName"] == (
        "featmesh://manifest/payments/entity/customer"
    )
    feature = entities["featmesh://manifest/payments/transaction_aggregates@2#txn_count_7d"]
    assert feature["attributes"]["dataType"] == "int64"
    assert (
        feature["relationshipAttributes"]["featureSet"]["uniqueAttributes"]["qualifiedName"]
        == fs["attributes"]["qualifiedName"]
    )


def test_sources_become_placeholders_with_purview_qualified_names():
    entities = _by_qn(map_mesh(_samples()))
    adls = entities[DP + "https://contosopayments.dfs.core.windows.net/curated/settlements/merchant_daily"]
    assert adls["typeName"] == DATA_PRODUCT
    assert adls["attributes"]["expectedTypeName"] == "azure_datalake_gen2_path"
    delta = entities[DP + "main.payments.card_transactions"]
    assert delta["attributes"]["sourceKind"] == "delta"
    # read by three feature sets in two domains, written once
    assert sum(1 for qn in entities if qn == DP + "main.payments.card_transactions") == 1
    assert "columns" not in delta["attributes"]  # column lineage lives in the pipelines


def test_existing_catalog_entities_are_referenced_not_duplicated():
    stores = _samples()
    existing = {
        (
            "azure_datalake_gen2_path",
            "https://contosopayments.dfs.core.windows.net/curated/settlements/merchant_daily",
        )
    }
    mapping = map_mesh(stores, exists=lambda t, q: (t, q) in existing)
    entities = _by_qn(mapping)
    assert (
        DP + "https://contosopayments.dfs.core.windows.net/curated/settlements/merchant_daily" not in entities
    )
    process = entities["featmesh://manifest/payments/merchant_risk_signals@1/pipeline/source"]
    assert process["attributes"]["inputs"] == [
        {
            "typeName": "azure_datalake_gen2_path",
            "uniqueAttributes": {"qualifiedName": next(iter(existing))[1]},
        }
    ]
    assert mapping.external_sources == sorted(existing)


def test_lineage_and_column_mapping():
    mapping = map_mesh(_samples())
    entities = _by_qn(mapping)
    derivation = entities["featmesh://manifest/risk-shared/customer_risk_360@1/pipeline/derivation"]
    inputs = {i["uniqueAttributes"]["qualifiedName"] for i in derivation["attributes"]["inputs"]}
    assert inputs == {
        "featmesh://manifest/payments/transaction_aggregates@2",
        "featmesh://manifest/customer-360/customer_profile@3",
    }
    columns = json.loads(derivation["attributes"]["columnMapping"])
    by_source = {m["DatasetMapping"]["Source"]: m["ColumnMapping"] for m in columns}
    assert {"Source": "total_spend_90d", "Sink": "spend_90d_eur"} in by_source[
        "featmesh://manifest/payments/transaction_aggregates@2"
    ]
    assert {"Source": "tenure_days", "Sink": "tenure_days"} in by_source[
        "featmesh://manifest/customer-360/customer_profile@3"
    ]
    source = entities["featmesh://manifest/marketing/web_sessions_daily@latest/pipeline/source"]
    mapped = json.loads(source["attributes"]["columnMapping"])
    # two sources: each column maps from the source that lists it
    sinks = {m["DatasetMapping"]["Source"]: {c["Source"] for c in m["ColumnMapping"]} for m in mapped}
    assert sinks[DP + "main.payments.card_transactions"] == {"amount_eur"}
    assert "amount_eur" not in sinks[DP + "main.marketing.web_sessions"]
    assert mapping.lineage_edges == 11


def test_rules_resolve_adls_and_custom_templates():
    assert resolve(DEFAULT_RULES, "adls", "abfss://raw@acct.dfs.core.windows.net/a/b/") == (
        "azure_datalake_gen2_path",
        "https://acct.dfs.core.windows.net/raw/a/b",
    )
    rule = MappingRule.from_config(
        {
            "match": r"^(?P<c>\w+)\.(?P<s>\w+)\.(?P<t>\w+)$",
            "type": "databricks_table",
            "qualified_name": "databricks://adb-1.azuredatabricks.net/catalogs/{c}/schemas/{s}/tables/{t}",
            "source_kinds": ["delta", "table"],
        }
    )
    assert rule.apply("delta", "main.sales.orders") == (
        "databricks_table",
        "databricks://adb-1.azuredatabricks.net/catalogs/main/schemas/sales/tables/orders",
    )
    assert rule.apply("file", "main.sales.orders") is None


def test_classifications_and_extra_feature_attributes_are_attached():
    fs = FeatureSet(
        store_kind="manifest",
        store="s",
        name="a",
        version="1",
        features=(Feature(name="f", dtype="int64"),),
        sources=(SourceRef(kind="file", uri="data/a.parquet"),),
        derived_from=(FeatureSetRef(store_kind="manifest", store="s", name="b", version="1"),),
    )
    store = FeatureStore(kind="manifest", name="s", uri="x", feature_sets=(fs,))
    outcome = {"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": 100.0}}
    mapping = map_mesh(
        [store],
        classifications={fs.qualified_name: [outcome]},
        feature_attributes={fs.feature_qn("f"): {"profile": "{}"}},
    )
    entities = _by_qn(mapping)
    assert entities[fs.qualified_name]["classifications"] == [outcome]
    assert entities[fs.feature_qn("f")]["attributes"]["profile"] == "{}"
    assert entities[DP + "data/a.parquet"]["attributes"]["name"] == "a.parquet"


def test_mesh_keys_are_the_mappings_keys_without_building_it(tmp_path):
    import sys

    sys.path.insert(0, str(SAMPLES.parent / "bench"))
    import meshgen

    meshgen.generate(tmp_path, 120, features=8)
    _, generated = _read_all(str(tmp_path / "manifests"))
    assert len(generated.stores) == 20 and any(
        fs.derived_from for s in generated.stores for fs in s.feature_sets
    )
    existing = {
        (
            "azure_datalake_gen2_path",
            "https://contosopayments.dfs.core.windows.net/curated/settlements/merchant_daily",
        )
    }
    for stores in (_samples(), generated.stores):
        for exists in (None, lambda t, q: (t, q) in existing):
            assert mesh_keys(stores, exists=exists) == map_mesh(stores, exists=exists).keys()
