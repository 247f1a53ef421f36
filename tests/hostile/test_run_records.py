"""A run whose record could not be stored is an incomplete run (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featmesh.connector.catalog.local import LocalCatalog
from featmesh.connector.errors import CatalogError
from tests.conftest import SAMPLES, run


def test_a_lost_run_record_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"local:{tmp_path / 'catalog.db'}"
    assert run("scan", str(SAMPLES / "manifests"), "--catalog", uri).exit_code == 0

    def refuse(self: LocalCatalog, record: dict) -> None:
        raise CatalogError(f"{self.uri}: write failed: attempt to write a readonly database")

    monkeypatch.setattr(LocalCatalog, "record_run", refuse)
    result = run("scan", str(SAMPLES / "manifests"), "--catalog", uri, "--json")
    assert result.exit_code == 3, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "partial"
    assert any("the run was not recorded" in f for f in summary["failures"])
