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


SAMPLE = Path(__file__).parents[2].parent / "shared" / "fixtures" / "azureml-featurestore-sample"


def test_findings_point_at_the_asset_and_spec_lines(tmp_path, monkeypatch) -> None:
    """SARIF results on the published sample: a set's keys at its asset file's lines
    (``name:``, ``tags:``), a feature's at its ``- name:`` in ``FeatureSetSpec.yaml``."""
    import json

    from tests.conftest import run

    monkeypatch.chdir(STORE)
    out = tmp_path / "out.sarif"
    run("check", f"azureml:{STORE}", "--format", "sarif", "-o", str(out))
    places = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].rsplit("/", 1)[-1]): (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in json.loads(out.read_text())["runs"][0]["results"]
    }
    asset = "featuresets/accounts/featureset_asset.yaml"
    spec = "featuresets/accounts/spec/FeatureSetSpec.yaml"
    assert places[("owner-present", "accounts@1")] == (asset, 3)  # no owner key: the set's name
    assert places[("set-description", "accounts@1")] == (asset, 5)
    assert places[("tag-vocabulary", "accounts@1")] == (asset, 11)
    assert places[("feature-naming", "accounts@1#isUserRegistered")] == (spec, 4)
    assert places[("feature-description", "transactions@1#transaction_7d_count")] == (
        "featuresets/transactions/spec/FeatureSetSpec.yaml",
        12,
    )


def test_spec_keys_are_placed_in_the_spec(tmp_path) -> None:
    """On the shared copy of the sample: a feature's dtype at its ``type:``, the timestamp
    at ``timestamp_column:``, the TTL at ``temporal_join_lookback:``."""
    from featmesh.policies.locations import place

    store, _ = scan(SAMPLE)
    transactions = next(fs for fs in store.feature_sets if fs.name == "transactions")
    spec = str(SAMPLE / TRANSACTIONS / "spec" / "FeatureSetSpec.yaml")
    where = place(transactions.origin, "dtype_allowlist", "transaction_amount_3d_sum")
    assert (where.path, where.line) == (spec, 9)
    where = place(transactions.origin, "timestamp_declared", None)
    assert (where.path, where.line) == (spec, 27)
    where = place(transactions.origin, "ttl_declared", None)
    assert (where.path, where.line) == (spec, 34)
    where = place(transactions.origin, "owner_present", None)
    assert (Path(where.path).name, where.line) == ("featureset_asset_offline_enabled_with_schedule.yaml", 2)


def test_a_conflict_in_sarif_points_at_the_other_asset_file(tmp_path: Path, monkeypatch) -> None:
    """The SARIF result of ``definition-consistent`` carries the other asset file that
    declares the version as a related location (SARIF 2.1.0 section 3.27.22)."""
    import json

    from tests.conftest import run

    root = tmp_path / "featurestore"
    shutil.copytree(STORE, root)
    asset = root / TRANSACTIONS / "featureset_asset_online_enabled.yaml"
    asset.write_text(asset.read_text().replace("description: 7-day", "description: Seven-day"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.sarif"
    run("check", "azureml:featurestore", "--format", "sarif", "-o", str(out))
    results = [
        r for r in json.loads(out.read_text())["runs"][0]["results"] if r["ruleId"] == "definition-consistent"
    ]
    assert len(results) == 1
    (other,) = results[0]["relatedLocations"]
    where = other["physicalLocation"]["artifactLocation"]["uri"]
    assert where.endswith("featureset_asset_online_enabled.yaml")
    assert other["physicalLocation"]["region"]["startLine"] >= 1
