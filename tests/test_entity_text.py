"""The text the local catalog stores an entity's attributes as: one text per value,
whichever featmesh wrote the row, and rows an earlier featmesh wrote still compare as
unchanged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from featmesh.connector.catalog import plan as plan_module
from featmesh.connector.catalog.local import entity_text
from tests.conftest import SAMPLE_MESH_ENTITIES, SAMPLES, run_json

MANIFESTS = str(SAMPLES / "manifests")


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, "é", {"z": True, "y": False}]},
        {"a": None, "b": "null"},
        {"a": float("nan"), "b": float("inf")},
        {"a": "\ud800"},  # a lone surrogate: a file name that is not UTF-8
        {"a": 2**70},
        {},
    ],
)
def test_the_text_reads_back_as_the_value(value):
    text = entity_text(value)
    assert text == entity_text(json.loads(text))  # written again, the same text
    back = json.loads(text)
    assert json.dumps(back, sort_keys=True) == json.dumps(value, sort_keys=True)  # NaN stays NaN
    assert entity_text(value) != entity_text({**value, "extra": 1})


def test_values_that_differ_only_in_type_have_different_texts():
    assert entity_text({"a": 1}) != entity_text({"a": 1.0})
    assert entity_text({"a": None}) != entity_text({"a": float("nan")})
    assert entity_text({"a": "1"}) != entity_text({"a": 1})


def _rows(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT guid, attributes, relationship_attributes FROM entities ORDER BY guid"
        ).fetchall()


def test_rows_an_earlier_featmesh_wrote_compare_unchanged_by_their_text(tmp_path, monkeypatch):
    db = tmp_path / "c.db"
    first, _ = run_json("scan", MANIFESTS, "--catalog", f"local:{db}", "--json")
    assert first.exit_code == 0, first.stderr
    written = _rows(db)
    assert all(a == entity_text(json.loads(a)) and r == entity_text(json.loads(r)) for _, a, r in written)
    with sqlite3.connect(db) as conn:  # as the featmesh that wrote every row by json's encoder
        for guid, a, r in written:
            conn.execute(
                "UPDATE entities SET attributes = ?, relationship_attributes = ? WHERE guid = ?",
                (json.dumps(json.loads(a), sort_keys=True), json.dumps(json.loads(r), sort_keys=True), guid),
            )
    earlier = _rows(db)
    assert sum(a != b for a, b in zip(earlier, written, strict=True)) > SAMPLE_MESH_ENTITIES // 2

    compared: list[object] = []
    diff_fields = plan_module.diff_fields
    monkeypatch.setattr(plan_module, "diff_fields", lambda *a: compared.append(a) or diff_fields(*a))
    dry, summary = run_json("scan", MANIFESTS, "--catalog", f"local:{db}", "--json", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert summary["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES
    assert compared == []  # each compared by its stored text, none decoded
    assert _rows(db) == earlier  # a dry run opens the catalog read-only: nothing rewritten

    again, summary = run_json("scan", MANIFESTS, "--catalog", f"local:{db}", "--json")
    assert again.exit_code == 0, again.stderr
    assert summary["plan"]["unchanged"] == SAMPLE_MESH_ENTITIES and compared == []
    assert _rows(db) == earlier  # an unchanged row is left as it was written

    changed = tmp_path / "m"
    changed.mkdir()
    text = (SAMPLES / "manifests" / "payments.yaml").read_text()
    (changed / "payments.yaml").write_text(text.replace("ttl: 2d", "ttl: 3d"))
    for other in Path(MANIFESTS).glob("*.yaml"):
        if other.name != "payments.yaml":
            (changed / other.name).write_text(other.read_text())
    third, summary = run_json("scan", str(changed), "--catalog", f"local:{db}", "--json")
    assert third.exit_code == 0, third.stderr
    updated = [row for row in _rows(db) if row not in earlier]
    assert 0 < len(updated) == summary["plan"]["update"] < SAMPLE_MESH_ENTITIES
    assert all(a == entity_text(json.loads(a)) for _, a, _ in updated)  # written in this form
