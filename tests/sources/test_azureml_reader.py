"""The Azure ML managed feature store reader, on Azure's public sample files and on a
store written in the same shapes (tests/fixtures/azureml/retail_fs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from golden import SHARED_FIXTURES, TESTS, as_json, assert_golden

from featmesh.connector.errors import InputError
from featmesh.connector.model import FeatureSet, FeatureStore
from featmesh.connector.runreport import RunReport, SourceReport
from featmesh.connector.scan.read import read_sources
from featmesh.connector.sources import parse_source, read_source

FIXTURES = TESTS / "fixtures" / "azureml"
RETAIL = FIXTURES / "retail_fs"
SAMPLE = SHARED_FIXTURES / "azureml-featurestore-sample"
FEAST_REPO = TESTS / "fixtures" / "feast" / "sql_registry"

needs_sample = pytest.mark.skipif(
    not SAMPLE.is_dir(), reason=f"shared fixture {SAMPLE.name} is absent (needs ../shared/fixtures)"
)


def scan(location: Path) -> tuple[FeatureStore, SourceReport]:
    spec = parse_source(f"azureml:{location}")
    report = SourceReport(uri=spec.uri, kind=spec.kind)
    (store,) = read_source(spec, report)
    return store, report


def get(store: FeatureStore, name: str, version: str | None) -> FeatureSet:
    return next(fs for fs in store.feature_sets if fs.name == name and fs.version == version)


# --------------------------------------------------------------------------- golden


def test_retail_store_matches_golden() -> None:
    store, _ = scan(RETAIL)
    assert_golden(as_json([store], {"<fixtures>": FIXTURES}), FIXTURES / "golden" / "retail_fs.json")


@needs_sample
def test_azure_sample_matches_golden() -> None:
    store, _ = scan(SAMPLE)
    golden = FIXTURES / "golden" / "azureml_featurestore_sample.json"
    assert_golden(as_json([store], {"<shared>": SAMPLE}), golden)


# --------------------------------------------------------------------------- mapping


@needs_sample
def test_sample_spec_without_asset_is_an_unregistered_set() -> None:
    store, report = scan(SAMPLE)
    assert store.name == "azureml-featurestore-sample"
    draft = get(store, "transactions_custom_source", None)
    assert draft.extra["registered"] is False
    assert draft.entities == ()
    assert [k.name for k in draft.join_keys] == ["accountID"]
    assert draft.sources[0].kind == "custom"
    assert draft.sources[0].uri == "custom:bar.CustomerTransactionsTransformer"
    assert draft.ttl_seconds == 2000 * 86400
    assert draft.features[0].transformation == "foo.CustomerTransactionsTransformer"
    assert report.counters["unregistered_specs"] == 1
    assert "no feature set asset points at this spec" in report.warnings.items[0]
    tx = get(store, "transactions", "1")
    assert tx.sources[0].kind == "blob"
    assert tx.extra["source_delay_seconds"] == 20 * 60
    assert tx.extra["source_lookback_seconds"] == 7 * 86400
    assert get(store, "accounts", "1").tags == {"data_type": "nonPII"}


def test_every_version_is_its_own_feature_set() -> None:
    store, _ = scan(RETAIL)
    v1, v2 = get(store, "transactions", "1"), get(store, "transactions", "2")
    assert v1.qualified_name == "featmesh://azureml/retail_fs/transactions@1"
    assert v2.sources[0].uri == "abfss://lake@contosoretail.dfs.core.windows.net/gold/transactions"
    assert v2.sources[0].format == "delta"
    assert v2.sources[0].extra["timestamp_format"] == "%Y-%m-%d %H:%M:%S"
    assert v1.extra["stage"] == "Production" and v2.extra["stage"] == "Development"
    assert v1.owner == "payments-analytics@contoso.com"  # tags["owner"]
    assert v1.ttl_seconds == 86400 and v2.ttl_seconds == 2 * 86400


def test_source_types_and_key_columns() -> None:
    store, _ = scan(RETAIL)
    kinds = {(fs.name, s.kind, s.format) for fs in store.feature_sets for s in fs.sources}
    assert ("account_profile", "mltable", "mltable") in kinds
    assert ("transactions_dsl", "adls", "csv") in kinds
    assert ("loyalty_points", "custom", None) in kinds
    profile = get(store, "account_profile", "3")
    assert [(k.name, k.dtype) for k in profile.join_keys] == [
        ("storeID", "int32"),
        ("accountID", "string"),
    ]
    assert profile.entities == ("store_account",)
    dtypes = {f.name: f.dtype for f in profile.features}
    assert dtypes == {
        "accountCountry": "string",
        "isUserRegistered": "bool",
        "accountAge": "float64",
        "lastLogin": "timestamp",
    }
    custom = get(store, "loyalty_points", "1").sources[0]
    assert custom.extra["kwargs"] == {"endpoint_name": "loyalty-partner", "lookback_days": 30}


def test_dsl_window_aggregations_become_feature_transformations() -> None:
    store, _ = scan(RETAIL)
    dsl = get(store, "transactions_dsl", "1")
    by_name = {f.name: f for f in dsl.features}
    assert by_name["transaction_amount_3d_sum"].transformation == "sum(transactionAmount) over 259200s window"
    assert by_name["transaction_amount_3d_sum"].source_columns == ("transactionAmount",)
    assert by_name["transaction_3d_count"].transformation == "count(*) over 259200s window"
    assert dsl.sources[0].columns == ("accountID", "transactionAmount", "timestamp")
    assert dsl.extra["transformation"] == {"kind": "dsl", "expressions": 3}


def test_featureset_source_is_lineage_between_feature_sets() -> None:
    store, _ = scan(RETAIL)
    rollup = get(store, "transactions_rollup", "1")
    assert rollup.sources == ()
    assert [r.qualified_name for r in rollup.derived_from] == [
        "featmesh://azureml/retail_fs/transactions_dsl@1"
    ]
    assert rollup.entities == ("account",)  # unversioned entity reference resolves too


def test_detect() -> None:
    assert parse_source(str(RETAIL)).kind == "azureml"


# --------------------------------------------------------------------------- broken input


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    root = tmp_path / "retail_fs"
    shutil.copytree(RETAIL, root)
    target = root / file
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new), encoding="utf-8")
    return root


ASSET = "featuresets/transactions_dsl/featureset_asset.yaml"
SPEC = "featuresets/transactions_dsl/spec/FeatureSetSpec.yaml"
ROLLUP_SPEC = "featuresets/transactions_rollup/spec/FeatureSetSpec.yaml"


@pytest.mark.parametrize(
    ("file", "old", "new", "message", "line"),
    [
        (SPEC, "features:\n", "feature_list:\n", "missing required key: 'features'", 1),
        (SPEC, "type: csv", "type: excel", "unknown source type 'excel'", 4),
        (SPEC, "  path: abfss", "  location: abfss", "missing required key: 'path'", 3),
        (
            ASSET,
            "path: ./spec",
            "path: ./no_such_spec",
            "spec path './no_such_spec' does not exist",
            9,
        ),
        (
            ASSET,
            "azureml:account:1",
            "azureml:account:7",
            "entity 'azureml:account:7' does not resolve",
            7,
        ),
        (
            ROLLUP_SPEC,
            "transactions_dsl:1",
            "transactions_dsl:9",
            "'transactions_dsl:9' is not in",
            3,
        ),
        (ASSET, 'version: "1"', 'version: "1"\nversion: "2"', "duplicate key 'version'", 5),
    ],
)
def test_broken_store_is_an_input_error_naming_file_and_line(
    tmp_path: Path, file: str, old: str, new: str, message: str, line: int
) -> None:
    root = broken_copy(tmp_path, file, old, new)
    with pytest.raises(InputError, match=message) as err:
        scan(root)
    assert err.value.path == str(root / file)
    assert err.value.where == str(line)


def test_same_version_with_another_definition_fails_that_set_only(tmp_path: Path) -> None:
    root = broken_copy(tmp_path, "featuresets/transactions/featureset_asset_v2.yaml", '"2"', '"1"')
    store, report = scan(root)
    (fs,) = [fs for fs in store.feature_sets if fs.name == "transactions" and fs.version == "1"]
    conflict = fs.extra["definition_conflict"]
    assert "featureset_asset.yaml and " in conflict and "featureset_asset_v2.yaml" in conflict
    assert report.counters["asset_conflicts"] == 1
    others = [f for f in store.feature_sets if "definition_conflict" not in f.extra]
    assert len(others) == len(store.feature_sets) - 1


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        scan(tmp_path / "missing")
    with pytest.raises(InputError, match="not a file"):
        scan(RETAIL / "entities" / "account.yaml")


def test_broken_source_fails_alone_in_a_multi_source_read(tmp_path: Path) -> None:
    root = broken_copy(tmp_path, ASSET, "azureml:account:1", "azureml:nobody:1")
    report = RunReport(command="test")
    specs = [
        parse_source(f"azureml:{root}"),
        parse_source(f"feast:{FEAST_REPO}"),
        parse_source(f"azureml:{RETAIL}"),
    ]
    result = read_sources(specs, report)
    assert [s.status for s in report.sources] == ["failed", "ok", "ok"]
    assert "entity 'azureml:nobody:1' does not resolve" in (report.sources[0].error or "")
    assert [s.name for s in result.stores] == ["driver_ranking", "retail_fs"]
    assert report.status == "partial"
