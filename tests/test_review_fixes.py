"""Failure modes found in review: each once crashed, leaked or lost work."""

from __future__ import annotations

import json
from pathlib import Path

from featmesh.connector.errors import CatalogError
from tests.conftest import SAMPLES, run, run_json

MANIFESTS = str(SAMPLES / "manifests")


def test_check_with_an_unreachable_catalog_still_reports(monkeypatch, tmp_path: Path):
    class Down:
        uri = "atlas+https://down.example"

        def published_feature_sets(self, **_):
            raise CatalogError("GET /search/basic: ConnectionError: no answer from the catalog")

        def feature_set_versions(self, *args):
            raise AssertionError("an unreachable catalog is not asked again")

        def close(self):
            pass

    monkeypatch.setattr("featmesh.connector.catalog.open_catalog", lambda uri, read_only=False: Down())
    out = tmp_path / "check.sarif"
    result = run(
        "check",
        MANIFESTS,
        "--catalog",
        "atlas+https://down.example",
        "--format",
        "sarif",
        "--output",
        str(out),
    )
    assert result.exit_code == 3
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert "no answer from the catalog" in result.stderr


def test_check_to_an_unwritable_output_is_an_input_error(tmp_path: Path):
    target = tmp_path / "missing" / "x.sarif"
    result = run("check", MANIFESTS, "--format", "sarif", "--output", str(target))
    assert result.exit_code == 2 and "cannot write the sarif report" in result.stderr
    assert "Traceback" not in result.stderr


def test_credentials_in_a_databricks_url_are_refused_and_never_repeated(tmp_path: Path):
    result, summary = run_json(
        "scan",
        "databricks:https://user:S3CRET-canary@adb-1.azuredatabricks.net",
        MANIFESTS,
        "--catalog",
        f"local:{tmp_path / 'c.db'}",
        "--json",
    )
    failed = next(s for s in summary["sources"] if s["status"] == "failed")
    assert "must not hold credentials" in failed["error"]
    assert "S3CRET-canary" not in result.stdout + result.stderr
    assert b"S3CRET-canary" not in (tmp_path / "c.db").read_bytes()


def test_a_bad_log_level_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("FEATMESH_LOG_LEVEL", "loud")
    result = run("scan", MANIFESTS, "--dry-run")
    assert result.exit_code == 2 and "FEATMESH_LOG_LEVEL='loud'" in result.stderr


def test_a_placeholder_shared_by_two_stores_does_not_flip_between_scans(tmp_path: Path):
    db = f"local:{tmp_path / 'c.db'}"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.yaml").write_text(
            f"apiVersion: featmesh/v1\nstore: {{name: {name}}}\nfeature_sets:\n"
            f"  - name: s\n    sources: [{{uri: main.shared.events, columns: [col_{name}]}}]\n"
            "    features: [{name: f, dtype: int64}]\n"
        )
    for name in ("a", "b", "a"):
        _, summary = run_json("scan", str(tmp_path / name), "--catalog", db, "--json")
    assert summary["plan"]["update"] == 0, summary["plan"]["changes"]


def test_check_store_name_refuses_a_file_that_selects_several_sources(tmp_path: Path):
    """``check --store-name`` names the store of one source: a changed ``featmesh.yaml``
    selects every configured source, and giving them all one name would merge two stores
    into one (exit 2, the sources named); a file of one source takes the name."""
    import shutil

    workspace = Path(__file__).parent / "realworld" / "feathr" / "swa-extractor"
    for team in ("a", "b"):
        shutil.copytree(workspace, tmp_path / team)
    config = tmp_path / "featmesh.yaml"
    config.write_text(
        "version: 1\nsources:\n"
        f"  - uri: feathr:{tmp_path / 'a'}\n    store: team_a\n"
        f"  - uri: feathr:{tmp_path / 'b'}\n    store: team_b\n"
    )
    both = run("check", "--config", str(config), "--store-name", "x", str(config))
    assert both.exit_code == 2, both.stdout
    assert "--store-name" in both.stderr and "2 sources" in both.stderr
    assert "Traceback" not in both.stderr
    conf = next(p for p in sorted((tmp_path / "a").rglob("*.conf")))
    one, summary = run_json("check", "--config", str(config), "--store-name", "x", str(conf), "--json")
    assert one.exit_code in (0, 1), one.stderr
    assert all(qn.startswith("featmesh://feathr/x/") for qn in summary["sets"]), summary["sets"]


def test_counts_of_one_are_singular_in_the_check_summary(tmp_path: Path):
    """``1 file not used``: the summary line counts as the exit line does."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: featmesh/v1\nstore: {name: s}\nfeature_sets: [\n")
    result = run("check", str(SAMPLES / "manifests" / "payments.yaml"), f"manifest:{broken}")
    assert "; 1 file not used; in 2 files\n" in result.stdout, result.stdout
    assert "1 files" not in result.stdout + result.stderr
