"""Patterns from packs, configs and waivers run in linear time; what would need
backtracking is refused with the file and line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import run

EVIL_OWNER = "a" * 40 + "!"
HEAD = "apiVersion: featmesh/v1\nkind: PolicyPack\nname: evil\nversion: '1'\n"


def _manifest(folder: Path, owner: str = EVIL_OWNER, uri: str = "main.sales.orders") -> Path:
    path = folder / "store.yaml"
    path.write_text(
        "apiVersion: featmesh/v1\n"
        f"store: {{name: s, domain: d, owner: '{owner}', platform: databricks}}\n"
        "entities:\n  - {name: c, join_keys: [{name: c_id, dtype: string}]}\n"
        "feature_sets:\n  - name: fs\n    version: 1\n"
        "    description: A feature set of one feature for tests.\n"
        "    entities: [c]\n    timestamp_field: ts\n"
        f"    sources:\n      - {{kind: delta, uri: '{uri}'}}\n"
        "    features:\n      - {name: f_one, dtype: int64, description: The one feature of this set.}\n",
        encoding="utf-8",
    )
    return path


def test_a_catastrophic_pack_pattern_runs_in_linear_time(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        HEAD + "rules:\n  - {id: owner-evil, check: owner_principal, severity: error,"
        " params: {pattern: '^(a+)+$'}}\n",
        encoding="utf-8",
    )
    _manifest(tmp_path)
    started = time.monotonic()
    result = run("check", str(tmp_path / "store.yaml"), "--policy", str(pack), "--format", "json")
    assert time.monotonic() - started < 10
    assert result.exit_code in (0, 1), result.stderr


def test_a_catastrophic_config_rule_runs_in_linear_time(tmp_path: Path) -> None:
    _manifest(tmp_path, owner="team@contoso.com", uri="a" * 5000 + "!")
    (tmp_path / "featmesh.yaml").write_text(
        "version: 1\ncatalog: {uri: 'local:catalog.db'}\nsources:\n  - uri: manifest:store.yaml\n"
        "data_products:\n  - match: '^(a|a)*$'\n    type: databricks_table\n    qualified_name: 'x'\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = run("scan", "--config", str(tmp_path / "featmesh.yaml"), "--dry-run")
    assert time.monotonic() - started < 20
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 3), result.stderr


def test_a_waiver_target_with_many_stars_runs_in_linear_time(tmp_path: Path) -> None:
    from featmesh.connector.patterns import glob

    pattern = glob("*a" * 30 + "b")
    started = time.monotonic()
    assert pattern.match("a" * 20000) is None
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("pattern", [r"^(a)\\1$", "^(?=a)a$", "^(?!b).*$", "^(?P<x>a)(?P=x)$"])
def test_a_backtracking_only_pattern_is_refused_with_file_and_line(tmp_path: Path, pattern: str) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        HEAD + "rules:\n  - {id: r, check: set_naming, severity: error, "
        f'params: {{pattern: "{pattern}"}}}}\n',
        encoding="utf-8",
    )
    result = run("policies", "validate", str(pack))
    assert result.exit_code == 2, result.stderr
    assert f"{pack}:6" in result.stderr
    assert "linear time" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_config_rule_needing_backtracking_names_the_line(tmp_path: Path) -> None:
    _manifest(tmp_path, owner="team@contoso.com")
    config = tmp_path / "featmesh.yaml"
    config.write_text(
        "version: 1\nsources:\n  - uri: manifest:store.yaml\n"
        "data_products:\n  - match: '^(?P<a>x)(?P=a)$'\n"
        "    type: databricks_table\n    qualified_name: 'x'\n",
        encoding="utf-8",
    )
    result = run("scan", "--config", str(config), "--dry-run")
    assert result.exit_code == 2, result.stderr
    assert f"{config}:5" in result.stderr
    assert "linear time" in result.stderr


def test_remembered_answers_are_re2_answers_and_long_texts_bypass_the_memo() -> None:
    from connector import patterns

    pattern = patterns.compile_linear(r"^(?P<head>[a-z]+)_(?P<tail>\d+)$")
    texts = ["order_12", "Order_12", "x_", "order_12", "a" * (patterns.MEMO_CHARS + 1) + "_1"]
    for text in texts:
        for method in ("fullmatch", "search", "match"):
            got = getattr(pattern, method)(text)
            want = getattr(pattern._compiled, method)(text)
            assert (got is None) == (want is None), (method, text)
            if got is not None:
                assert got.groupdict() == want.groupdict()
    remembered = {text for _, text in pattern._found}
    assert remembered == {"order_12", "Order_12", "x_"}
    # positional arguments (pos, endpos) go to RE2 as they are, never to the memo
    unanchored = patterns.compile_linear(r"[a-z]+_\d+")
    assert unanchored.match("zz order_12", 3) is not None and unanchored.match("zz order_12") is None
    assert patterns.compile_linear("b").search("abc", 0, 1) is None


def test_the_memo_stops_growing_at_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from connector import patterns

    monkeypatch.setattr(patterns, "MEMO_ENTRIES", 3)
    pattern = patterns.compile_linear("a")
    for i in range(10):
        assert pattern.search(f"a{i}") is not None
    assert len(pattern._found) == 3 and pattern.search("a9") is not None
