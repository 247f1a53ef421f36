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


# --------------------------------------------------------------------------- memory


def test_a_scan_out_of_memory_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A MemoryError is said in one line with what to try, never as a traceback; the
    catalog write it interrupts is rolled back."""
    import sqlite3

    from featmesh.connector.catalog.local import LocalCatalog
    from tests.conftest import SAMPLES

    db = tmp_path / "c.db"
    scan = ("-q", "scan", f"manifest:{SAMPLES / 'manifests'}", "--catalog", f"local:{db}")
    written = LocalCatalog._upsert

    def upsert(self: LocalCatalog, *args: object, **kwargs: object) -> object:
        written(self, *args, **kwargs)  # the first rows are in, then memory runs out
        raise MemoryError

    monkeypatch.setattr(LocalCatalog, "_upsert", upsert)
    result = run(*scan)
    assert result.exit_code == 3  # the run is incomplete, as when a catalog write fails
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("featmesh: error: 'featmesh scan' ran out of memory"), line
    assert "Traceback" not in result.stderr and "Read fewer sources" in line
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entities").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_reading_out_of_memory_is_not_retried_the_slow_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast parser running out of memory stops the run: composing the same text with
    PyYAML would take more."""
    from featmesh.connector import documents
    from tests.conftest import SAMPLES

    def loads(*args: object, **kwargs: object) -> object:
        raise MemoryError

    monkeypatch.setattr(documents.yaml_rs, "loads", loads)
    result = run("-q", "scan", f"manifest:{SAMPLES / 'manifests'}", "--dry-run")
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        "featmesh: error: 'featmesh scan' ran out of memory and stopped (the local catalog keeps "
        "nothing of a write under way; a push to Atlas or Purview started is finished by 'featmesh "
        "scan --resume'). Read fewer sources or stores per run (a config for each group), or run it "
        "where the process may use more memory"
    ]


def test_a_command_runs_without_the_cyclic_collector_and_gives_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from featmesh.connector import cli as cli_module

    seen: list[bool] = []

    def command(**_: object) -> None:
        seen.append(gc.isenabled())
        sys.exit(0)

    monkeypatch.setattr(cli_module.cli, "main", command)
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        cli_module.main(["--version"])
    assert seen == [False]
    assert gc.isenabled()
