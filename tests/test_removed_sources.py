"""A source taken out of featmesh.yaml: named by every scan until it is back or retired,
never silently left; ``scan --retire-removed`` retires its stores' feature sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featmesh.connector.catalog import open_catalog
from tests.conftest import payments_manifest, run

CONFIG = "version: 1\ncatalog:\n  uri: local:.featmesh/catalog.db\nsources:\n"
BETA = "featmesh://manifest/beta"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for store in ("alpha", "beta"):
        (tmp_path / store).mkdir()
        (tmp_path / store / f"{store}.yaml").write_text(payments_manifest(store))
    _config(tmp_path, "alpha", "beta")
    monkeypatch.chdir(tmp_path)
    first = run("scan", "--config", "featmesh.yaml")
    assert first.exit_code == 0, first.stderr
    assert "no longer scanned" not in first.stderr
    return tmp_path


def _config(root: Path, *folders: str) -> None:
    (root / "featmesh.yaml").write_text(CONFIG + "".join(f"  - uri: manifest:{f}\n" for f in folders))


def _beta_sets(root: Path) -> list[dict]:
    catalog = open_catalog(f"local:{root / '.featmesh' / 'catalog.db'}", read_only=True)
    try:
        entities = catalog.export()
    finally:
        catalog.close()
    return [
        e
        for e in entities
        if e["typeName"] == "featmesh_feature_set" and e["attributes"]["qualifiedName"].startswith(BETA + "/")
    ]


def _retired(entity: dict) -> bool:
    return any(c["typeName"] == "FEATMESH.RETIRED" for c in entity.get("classifications", []))


def test_a_removed_source_is_named_on_every_scan_until_it_is_retired(repo: Path) -> None:
    _config(repo, "alpha")
    second = run("scan", "--config", "featmesh.yaml", "--json")
    assert second.exit_code == 0, second.stderr
    warning = (
        "featmesh: warning: source manifest:beta is no longer scanned (it left the config): "
        f"{BETA} stay in the catalog as last scanned; 'featmesh scan --retire-removed' retires "
        "their feature sets"
    )
    assert warning in second.stderr.splitlines()
    summary = json.loads(second.stdout)
    (removed,) = summary["removed_sources"]
    assert removed["uri"] == "manifest:beta" and removed["stores"] == [BETA] and removed["retired"] is False
    assert [not _retired(e) for e in _beta_sets(repo)] == [True]  # left as it was, and said so

    third = run("scan", "--config", "featmesh.yaml")  # still named: never silently left
    assert warning in third.stderr.splitlines()
    report = run("report", "--config", "featmesh.yaml", "--format", "markdown")
    note = "> **Note:** source manifest:beta is no longer scanned: featmesh://manifest/beta stay"
    assert note in report.stdout

    dry = run("scan", "--config", "featmesh.yaml", "--retire-removed", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "retire  featmesh_feature_set featmesh://manifest/beta/transaction_aggregates@2" in dry.stdout
    assert "would retire the feature sets of featmesh://manifest/beta" in dry.stderr
    assert not _retired(_beta_sets(repo)[0])  # a dry run writes nothing

    retiring = run("scan", "--config", "featmesh.yaml", "--retire-removed", "--json")
    assert retiring.exit_code == 0, retiring.stderr
    assert "retired the feature sets of featmesh://manifest/beta" in retiring.stderr
    assert json.loads(retiring.stdout)["removed_sources"][0]["retired"] is True
    assert [_retired(e) for e in _beta_sets(repo)] == [True]

    after = run("scan", "--config", "featmesh.yaml")
    assert after.exit_code == 0 and "no longer scanned" not in after.stderr


def test_quiet_names_no_removed_source_but_the_run_records_it(repo: Path) -> None:
    _config(repo, "alpha")
    result = run("-q", "scan", "--config", "featmesh.yaml", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["removed_sources"][0]["uri"] == "manifest:beta"


def test_a_store_read_from_another_source_now_is_not_removed(repo: Path) -> None:
    (repo / "beta").rename(repo / "beta-moved")
    _config(repo, "alpha", "beta-moved")
    result = run("scan", "--config", "featmesh.yaml", "--json")
    assert result.exit_code == 0, result.stderr
    assert "no longer scanned" not in result.stderr
    assert json.loads(result.stdout)["removed_sources"] == []


def test_an_ad_hoc_scan_of_some_sources_names_nothing(repo: Path) -> None:
    result = run("scan", "manifest:alpha", "--catalog", "local:.featmesh/catalog.db")
    assert result.exit_code == 0, result.stderr
    assert "no longer scanned" not in result.stderr
    refused = run("scan", "manifest:alpha", "--retire-removed")
    assert refused.exit_code == 2
    assert "--retire-removed retires the stores of sources taken out of featmesh.yaml" in refused.stderr
