"""``featmesh report`` on a catalog a real scan wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = f"local:{tmp_path_factory.mktemp('cat') / 'catalog.db'}"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", uri).exit_code == 0
    return uri


def test_json_to_stdout(scanned: str) -> None:
    result = run("report", "--catalog", scanned, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["format_version"] == 1 and doc["evaluated"] is True
    assert doc["catalog"] == scanned
    assert len(doc["sets"]) == 9 and len(doc["history"]) == 1
    assert doc["score"]["mesh"] == doc["history"][0]["mesh"]
    again = json.loads(
        run("report", "--catalog", scanned, "--format", "json", "--run", doc["run"]["run_id"]).stdout
    )
    assert again["run"] == doc["run"]


def test_html_goes_to_the_current_directory_by_default(
    scanned: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("report", "--catalog", scanned)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "featmesh-report.html"
    html = (tmp_path / "featmesh-report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "customer_support_contacts" in html


def test_markdown_to_a_file(scanned: str, tmp_path: Path) -> None:
    out = tmp_path / "summary.md"
    result = run("report", "--catalog", scanned, "--format", "markdown", "--output", str(out))
    assert result.exit_code == 0 and result.stdout.strip() == str(out)
    assert out.read_text().startswith("## featmesh governance report")


def test_unknown_run_is_exit_2_naming_it(scanned: str) -> None:
    result = run("report", "--catalog", scanned, "--run", "0123nothere")
    assert result.exit_code == 2
    assert "no run '0123nothere'" in result.stderr and "Traceback" not in result.stderr


def test_an_empty_catalog_is_exit_2(tmp_path: Path) -> None:
    result = run("report", "--catalog", f"local:{tmp_path / 'none.db'}", "--format", "json")
    assert result.exit_code == 2
    assert "no runs recorded" in result.stderr and "featmesh scan" in result.stderr


def test_an_unwritable_output_is_exit_2(scanned: str, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "report.html"
    result = run("report", "--catalog", scanned, "--output", str(target))
    assert result.exit_code == 2
    assert str(target) in result.stderr and "cannot write the report" in result.stderr
