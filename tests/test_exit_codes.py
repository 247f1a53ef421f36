"""Exit codes by cause, the same in every reader (README "Exit codes"): 2 for the
user's own malformed input, 3 for a valid store featmesh cannot read here (an
unsupported registry backend, a missing optional package, an unreachable service)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import responses

from tests.conftest import DATA, run

FIXTURES = Path(__file__).parent / "fixtures"
AZUREML = Path(__file__).parent / "realworld" / "azureml-examples" / "featurestore"


def check(source: str) -> int:
    return run("check", source, "--format", "json").exit_code


# --------------------------------------------------------------------------- feast


def test_feast_malformed_config_is_2(tmp_path: Path) -> None:
    (tmp_path / "feature_store.yaml").write_text("project: p\nregistry:\n  registry_type: fiel\n  path: x\n")
    assert check(f"feast:{tmp_path}") == 2


def test_feast_registry_on_postgresql_is_3(tmp_path: Path) -> None:
    (tmp_path / "feature_store.yaml").write_text(
        "project: p\nregistry:\n  registry_type: sql\n  path: postgresql://feast@db:5432/feast\n"
    )
    assert check(f"feast:{tmp_path}") == 3


# --------------------------------------------------------------------------- feathr


def test_feathr_conf_that_does_not_parse_is_2(tmp_path: Path) -> None:
    (tmp_path / "features.conf").write_text("anchors: {\n  a: { source: x, features: { f: \n")
    assert check(f"feathr:{tmp_path}") == 2


def test_feathr_without_pyhocon_is_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(DATA / "feathr_workspace", tmp_path / "ws")
    monkeypatch.setitem(sys.modules, "pyhocon", None)  # import pyhocon now raises ImportError
    result = run("check", f"feathr:{tmp_path / 'ws'}", "--format", "json")
    assert result.exit_code == 3
    assert "pip install 'featmesh[feathr]'" in result.stderr


# --------------------------------------------------------------------------- azureml


def test_azureml_malformed_asset_is_2(tmp_path: Path) -> None:
    shutil.copytree(AZUREML, tmp_path / "fs")
    (tmp_path / "fs" / "entities" / "account.yaml").write_text("name: account\nindex_columns: [\n")
    assert check(f"azureml:{tmp_path / 'fs'}") == 2


def test_azureml_store_that_reads_is_not_an_error() -> None:
    assert check(f"azureml:{AZUREML}") in (0, 1)


# --------------------------------------------------------------------------- manifest


def test_manifest_malformed_is_2() -> None:
    assert check(f"manifest:{DATA / 'manifests' / 'bad' / 'bad_ttl.yaml'}") == 2


# --------------------------------------------------------------------------- databricks


@responses.activate
def test_databricks_unreachable_is_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    responses.get(
        "https://127.0.0.1:8123/api/2.1/unity-catalog/tables",
        body=ConnectionError("connection refused"),
    )
    assert check("databricks:https://127.0.0.1:8123?catalog=ml&schema=fraud") == 3


def test_databricks_bad_location_is_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    assert check("databricks:not a url") == 2
