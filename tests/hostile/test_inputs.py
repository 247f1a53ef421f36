"""Hostile inputs across readers, config and CLI arguments: exit 2, a message naming
the file and place, no traceback, nothing written, bounded time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run

STORE = (
    "apiVersion: featmesh/v1\n"
    "store: {name: s, domain: d, owner: team@contoso.com, platform: databricks}\n"
    "entities:\n  - {name: c, join_keys: [{name: c_id, dtype: string}]}\n"
    "feature_sets:\n"
)


def _set(name: str, derived: str, ttl: str = "2d") -> str:
    return (
        f"  - name: {name}\n    version: 1\n    description: A feature set for the hostile tests.\n"
        f"    entities: [c]\n    timestamp_field: ts\n    ttl: {ttl}\n"
        "    sources:\n      - {kind: delta, uri: main.sales.orders}\n"
        "    features:\n      - {name: f_one, dtype: int64, description: The one feature of this set.}\n"
        f"    derived_from: [{derived}]\n"
    )


def _scan(tmp_path: Path, *args: str):
    catalog = tmp_path / "out" / "catalog.db"
    result = run("scan", *args, "--catalog", f"local:{catalog}")
    assert "Traceback" not in result.stderr
    return result, catalog


def test_a_set_derived_from_itself_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(STORE + _set("a", "a@1"), encoding="utf-8")
    result, catalog = _scan(tmp_path, f"manifest:{path}")
    assert result.exit_code == 2, result.stderr
    assert f"{path}:6" in result.stderr and "derived from itself" in result.stderr
    assert "featmesh://manifest/s/a@1 -> featmesh://manifest/s/a@1" in result.stderr
    if catalog.exists():  # the catalog was asked about references elsewhere: nothing published
        with sqlite3.connect(catalog) as conn:
            assert conn.execute("SELECT count(*) FROM entities").fetchone()[0] == 0


def test_a_cycle_of_sets_names_them(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(STORE + _set("a", "b") + _set("b", "c") + _set("c", "a"), encoding="utf-8")
    result, _ = _scan(tmp_path, f"manifest:{path}")
    assert result.exit_code == 2, result.stderr
    assert "makes a cycle" in result.stderr
    for name in "abc":
        assert f"featmesh://manifest/s/{name}@1" in result.stderr


def test_a_cycle_in_one_source_does_not_block_another(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    (bad / "m.yaml").write_text(STORE + _set("a", "a"), encoding="utf-8")
    (good / "m.yaml").write_text(STORE.replace("name: s,", "name: t,") + _set("x", ""), encoding="utf-8")
    result, _ = _scan(tmp_path, f"manifest:{bad}", f"manifest:{good}", "--json")
    assert result.exit_code == 3, result.stderr


def test_a_python_tag_in_feature_store_yaml_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        'project: p\nregistry: !!python/object/apply:os.system ["touch pwned"]\nprovider: local\n',
        encoding="utf-8",
    )
    result, catalog = _scan(tmp_path, f"feast:{repo}")
    assert result.exit_code == 2, result.stderr
    assert "feature_store.yaml:2" in result.stderr and "YAML tag" in result.stderr
    assert not (tmp_path / "pwned").exists()
    assert not catalog.exists()


@pytest.mark.parametrize(
    "uri",
    ["nosuch://x", "atlas+https://", "purview://a.b", "atlas+https://u:p@host", "purview:/x"],
)
def test_a_bad_catalog_uri_in_the_config_names_file_and_line(tmp_path: Path, uri: str) -> None:
    (tmp_path / "m.yaml").write_text(STORE + _set("a", ""), encoding="utf-8")
    config = tmp_path / "featmesh.yaml"
    config.write_text(f"version: 1\ncatalog:\n  uri: '{uri}'\nsources:\n  - uri: manifest:m.yaml\n")
    result = run("scan", "--config", str(config))
    assert result.exit_code == 2, result.stderr
    assert f"{config}:3" in result.stderr
    assert "u:p" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".featmesh").exists()


@pytest.mark.parametrize("ttl", ["99999999999999999999999d", "9223372036854775808", "P99999999999999999999W"])
def test_a_ttl_beyond_an_atlas_long_is_an_input_error_with_its_line(tmp_path: Path, ttl: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(STORE + _set("a", "", ttl=ttl), encoding="utf-8")
    result, catalog = _scan(tmp_path, f"manifest:{path}")
    assert result.exit_code == 2, result.stderr
    assert f"{path}:11" in result.stderr and "more than a catalog can hold" in result.stderr
    assert not catalog.exists()


def test_an_out_of_range_ttl_does_not_block_the_other_sources(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    (bad / "m.yaml").write_text(STORE + _set("a", "", ttl="99999999999999999999999d"), encoding="utf-8")
    (good / "m.yaml").write_text(STORE.replace("name: s,", "name: t,") + _set("x", ""), encoding="utf-8")
    result, catalog = _scan(tmp_path, f"manifest:{bad}", f"manifest:{good}")
    assert result.exit_code == 3, result.stderr
    with sqlite3.connect(catalog) as conn:
        names = {row[0] for row in conn.execute("SELECT qualified_name FROM entities")}
    assert "featmesh://manifest/t/x@1" in names
