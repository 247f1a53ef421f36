"""Azure's managed feature store sample as published (Azure/azureml-examples, see
azureml-examples/SOURCE.md): four asset files for one version merge into one set."""

from __future__ import annotations

import shutil
from pathlib import Path

from featmesh.connector.model import FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source

STORE = Path(__file__).parent / "azureml-examples" / "featurestore"
TRANSACTIONS = "featuresets/transactions"


def scan(root: Path) -> tuple[FeatureStore, SourceReport]:
    spec = parse_source(f"azureml:{root}")
    report = SourceReport(uri=spec.uri, kind=spec.kind)
    (store,) = read_source(spec, report)
    return store, report


def test_the_published_sample_reads_whole() -> None:
    store, report = scan(STORE)
    assert [(fs.name, fs.version, len(fs.features)) for fs in store.feature_sets] == [
        ("accounts", "1", 4),
        ("transactions", "1", 6),
    ]
    assert [(e.name, e.version, e.columns[0].name) for e in store.entities] == [("account", "1", "accountID")]
    txn = store.feature_sets[1]
    assert len(txn.extra["asset_files"]) == 4
    assert txn.extra["materialization_settings_from"].endswith("featureset_asset_online_enabled.yaml")
    assert txn.extra["materialization_settings"]["online_enabled"] is True
    assert "definition_conflict" not in txn.extra
    assert report.counters["asset_files_merged"] == 3
    assert any("materialization settings from" in w for w in report.warnings.items)


def test_a_real_conflict_fails_that_set_and_keeps_the_others(tmp_path: Path) -> None:
    root = tmp_path / "featurestore"
    shutil.copytree(STORE, root)
    asset = root / TRANSACTIONS / "featureset_asset_offline_enabled.yaml"
    text = asset.read_text().replace("entities:\n- azureml:account:1", "entities: []")
    asset.write_text(text)
    store, report = scan(root)
    names = [fs.name for fs in store.feature_sets]
    assert names == ["accounts", "transactions"]
    txn = store.feature_sets[1]
    conflict = txn.extra["definition_conflict"]
    assert "featureset_asset.yaml and " in conflict and "featureset_asset_offline_enabled.yaml" in conflict
    assert "entities" in conflict
    assert "definition_conflict" not in store.feature_sets[0].extra
    assert report.counters["asset_conflicts"] == 1


def test_the_conflict_is_a_finding_of_that_set_only(tmp_path: Path) -> None:
    from featmesh.policies import evaluate, load_policy

    root = tmp_path / "featurestore"
    shutil.copytree(STORE, root)
    asset = root / TRANSACTIONS / "featureset_asset_online_enabled.yaml"
    asset.write_text(asset.read_text().replace("description: 7-day", "description: Seven-day"))
    store, _ = scan(root)
    evaluation = evaluate(load_policy(), list(store.feature_sets))
    failed = [
        (r.feature_set, r.message)
        for r in evaluation.results(include_passed=False)
        if r.rule == "definition-consistent" and r.state.value == "failed"
    ]
    assert len(failed) == 1 and failed[0][0].endswith("/transactions@1")
    assert "featureset_asset_online_enabled.yaml" in failed[0][1]


def test_glob_sources_are_shown_by_their_folder() -> None:
    from featmesh.connector.mapping.entities import _display_name

    store, _ = scan(STORE)
    shown = [_display_name(fs.sources[0]) for fs in store.feature_sets]
    assert shown == ["accounts-precalculated/*.parquet", "transactions-source/*.parquet"]


def test_a_definition_changed_under_the_same_version_is_flagged(tmp_path: Path) -> None:
    from tests.conftest import run, run_json

    root, db = tmp_path / "featurestore", tmp_path / "c.db"
    shutil.copytree(STORE, root)
    result, _ = run_json("scan", f"azureml:{root}", "--catalog", f"local:{db}", "--json")
    assert result.exit_code in (0, 1), result.stderr
    spec = root / "featuresets" / "accounts" / "spec" / "FeatureSetSpec.yaml"
    added = "features:\n- name: accountTier\n  type: string\n"
    spec.write_text(spec.read_text().replace("features:\n", added, 1))
    checked = run("check", f"azureml:{root}", "--catalog", f"local:{db}", "--format", "json")
    assert "version-unchanged" in checked.stdout and "accounts' version 1 changed" in checked.stdout
    assert checked.exit_code == 1
    result, _ = run_json("scan", f"azureml:{root}", "--catalog", f"local:{db}", "--json")
    again = run("check", f"azureml:{root}", "--catalog", f"local:{db}", "--format", "json")
    assert "accounts' version 1 changed" in again.stdout  # stays flagged until the version is bumped
