"""Definition history of sets in stores without versions (Feathr, Feast): each scan
names the definition a set has by its revision, carried while it stays the same."""

from __future__ import annotations

import shutil
from pathlib import Path

from featmesh.connector.catalog.local import LocalCatalog
from tests.conftest import run_json

FEATHR = Path(__file__).parent / "feathr" / "swa-extractor"
SET = "featmesh://feathr/ws/swaAnchor2@latest"


def scan(folder: Path, db: Path) -> dict:
    result, summary = run_json("scan", f"feathr:{folder}", "--catalog", f"local:{db}", "--json")
    assert result.exit_code in (0, 1), result.stderr
    return summary


def recorded(db: Path) -> dict:
    catalog = LocalCatalog(db, read_only=True)
    try:
        return catalog.runs(1)[0]["evaluation"]["sets"][SET]["revision"]
    finally:
        catalog.close()


def test_a_revision_is_kept_while_the_definition_stays_and_a_new_one_starts_on_change(tmp_path: Path) -> None:
    folder, db = tmp_path / "ws", tmp_path / "c.db"
    shutil.copytree(FEATHR, folder)
    first = scan(folder, db)["revisions"][SET]
    second = scan(folder, db)["revisions"][SET]
    assert second["id"] == first["id"] and second["first_run"] == first["first_run"]
    assert second["last_run"] != first["last_run"]
    conf = folder / "swaWithExtractor.conf"
    conf.write_text(conf.read_text().replace("f1Sum: {", "f1Total: {"))
    third = scan(folder, db)["revisions"][SET]
    assert third["id"] != first["id"] and third["first_run"] == third["last_run"]
    history = recorded(db)["history"]
    assert [h["id"] for h in history] == [first["id"]]
    assert history[0]["first_run"] == first["first_run"]
