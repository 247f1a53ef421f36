"""The manifest source: the samples, a small good manifest, and one file per kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from featmesh.connector.errors import InputError
from featmesh.connector.runreport import RunReport, SourceReport
from featmesh.connector.scan.read import check_references, read_sources, resolve_domains
from featmesh.connector.sources import parse_source, read_source
from featmesh.connector.sources.manifest import read
from tests.conftest import DATA, SAMPLES

BAD = sorted((DATA / "manifests" / "bad").glob("*.yaml"))


def _read_all(*args: str):
    report = RunReport(command="test")
    result = read_sources([parse_source(a) for a in args], report)
    result.replace_stores(resolve_domains(result.stores))
    check_references(result)
    return report, result


def test_samples_make_a_realistic_mesh():
    report, result = _read_all(str(SAMPLES / "manifests"))
    assert report.status == "ok"
    stores = result.stores
    sets = result.feature_sets
    assert {s.domain for s in stores} >= {"payments", "customer", "marketing", "risk"}
    assert len(sets) >= 8
    assert sum(len(fs.features) for fs in sets) >= 60
    kinds = {src.kind for fs in sets for src in fs.sources}
    assert {"adls", "delta"} <= kinds
    shared = next(fs for fs in sets if fs.name == "customer_risk_360")
    parents = {r.qualified_name for r in shared.derived_from}
    assert parents == {
        "featmesh://manifest/payments/transaction_aggregates@2",
        "featmesh://manifest/customer-360/customer_profile@3",
    }
    assert {fs.domain for fs in sets if fs.qualified_name in parents} == {"payments", "customer"}


def test_good_manifest_fields():
    stores = read(
        str(DATA / "manifests" / "good" / "minimal.yaml"), SourceReport(uri="x", kind="manifest"), {}
    )
    (store,) = stores
    fs, derived = store.feature_sets
    assert fs.ttl_seconds == 12 * 3600
    assert fs.join_keys[0].name == "loan_id" and fs.join_keys[0].dtype == "string"
    assert fs.sources[0].kind == "adls"
    assert fs.domain == "credit" and fs.domain_rule == "declared"
    assert fs.origin is not None and fs.origin.line == 10
    assert derived.derived_from[0].qualified_name == "featmesh://manifest/lending/loan_features@1"


def test_positions_are_looked_up_when_asked_for(monkeypatch):
    """Reading places no feature set: a set's line and its keys' lines are found when a
    message or a finding asks (a 10,000-set mesh is read without placing 400,000 keys)."""
    from featmesh.connector.documents import Document

    calls = []
    line_of, line_at = Document.line_of, Document.line_at
    monkeypatch.setattr(Document, "line_of", lambda self, p: calls.append(tuple(p)) or line_of(self, p))
    monkeypatch.setattr(Document, "line_at", lambda self, p: calls.append(tuple(p)) or line_at(self, p))
    (store,) = read(str(SAMPLES / "manifests" / "payments.yaml"), SourceReport(uri="x", kind="manifest"), {})
    assert calls == []  # neither the sets nor the store keys they inherit
    fs = store.feature_sets[0]
    assert fs.origin is not None and fs.origin.line == 24  # "- name: transaction_aggregates"
    moved = fs.origin.at("features.txn_count_7d.dtype")
    assert moved.line == 41 and moved.pointer == "features.txn_count_7d.dtype"
    assert len([c for c in calls if c[:1] == ("feature_sets",)]) == 2  # the set's line, the one key


def test_folder_detection_and_kind_prefix():
    assert parse_source(str(SAMPLES / "manifests")).kind == "manifest"
    assert parse_source(f"manifest:{SAMPLES / 'manifests'}").kind == "manifest"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_manifest_is_refused_with_file_and_place(path: Path):
    text = path.read_bytes()
    expected = {
        "empty": "file is empty",
        "binary": "binary file",
    }.get(path.stem) or text.decode().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(InputError) as err:
        _, result = _read_all(f"manifest:{path}")
        if result.input_errors:
            raise result.input_errors[0]
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert expected in message, message


def test_same_store_in_two_files_merges_and_conflicts(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: featmesh/v1\nstore: {name: s, owner: a@x.com}\nfeature_sets:\n"
        "  - {name: one, features: [{name: f, dtype: int64}]}\n"
    )
    (tmp_path / "b.yaml").write_text(
        "apiVersion: featmesh/v1\nstore: {name: s}\nfeature_sets:\n"
        "  - {name: two, features: [{name: f, dtype: int64}]}\n"
    )
    (store,) = read(str(tmp_path), SourceReport(uri="x", kind="manifest"), {})
    assert [fs.name for fs in store.feature_sets] == ["one", "two"]
    assert all(fs.owner == "a@x.com" for fs in store.feature_sets)
    (tmp_path / "c.yaml").write_text(
        "apiVersion: featmesh/v1\nstore: {name: s, owner: other@x.com}\nfeature_sets: []\n"
    )
    report = SourceReport(uri="x", kind="manifest")
    (store,) = read(str(tmp_path), report, {})  # the conflicting file is left out, the rest is read
    assert [fs.name for fs in store.feature_sets] == ["one", "two"]
    (problem,) = report.problems
    assert (problem.path, problem.line) == (str(tmp_path / "c.yaml"), 2)
    assert problem.message.startswith("store.owner: store 's' has owner 'other@x.com' here")


def test_one_broken_file_never_blocks_the_rest_of_a_folder(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: featmesh/v1\nstore: {name: s, owner: a@x.com}\nfeature_sets:\n"
        "  - {name: one, features: [{name: f, dtype: int64}]}\n"
    )
    (tmp_path / "b.yaml").write_text("apiVersion: featmesh/v1\nstore: {name: s\nfeature_sets: []\n")
    (tmp_path / "c.yaml").write_text(
        "apiVersion: featmesh/v1\nstore: {name: s}\nfeature_sets:\n"
        "  - {name: two, entities: [nobody], features: [{name: f, dtype: int64}]}\n"
        "  - {name: three, features: [{name: f, dtype: int64}]}\n"
    )
    report = SourceReport(uri="x", kind="manifest")
    (store,) = read(str(tmp_path), report, {})
    assert [fs.name for fs in store.feature_sets] == ["one", "three"]
    assert [(Path(p.path).name, p.line) for p in report.problems] == [("b.yaml", 3), ("c.yaml", 4)]
    assert "invalid YAML" in report.problems[0].message
    assert report.counters["files"] == 2 and report.counters["files_failed"] == 2


def test_folder_skips_yaml_that_is_not_a_manifest(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: featmesh/v1\nstore: {name: s}\nfeature_sets:\n"
        "  - {name: one, features: [{name: f, dtype: int64}]}\n"
    )
    (tmp_path / "ci.yml").write_text("jobs: {}\n")
    report = SourceReport(uri="x", kind="manifest")
    stores = read_source(parse_source(str(tmp_path)), report)
    assert len(stores) == 1
    assert report.counters == {"files": 1, "files_skipped": 1}
