"""Control characters in metadata: XML stays well-formed, terminals see escapes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run

NASTY = "\\a\\e[31m\\x00\\x0b\\x1b]0;owned\\x07\\u009b\\r"


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "store.yaml"
    path.write_text(
        "apiVersion: featmesh/v1\n"
        f'store: {{name: s, domain: d, owner: "bad{NASTY}@contoso.com", platform: databricks}}\n'
        "entities:\n  - {name: c, join_keys: [{name: c_id, dtype: string}]}\n"
        "feature_sets:\n  - name: fs\n    version: 1\n"
        f'    description: "A description with {NASTY} in it, long enough."\n'
        "    entities: [c]\n    timestamp_field: ts\n"
        "    sources:\n      - {kind: delta, uri: main.sales.orders}\n"
        f'    features:\n      - {{name: f_one, dtype: int64, description: "one {NASTY}"}}\n',
        encoding="utf-8",
    )
    return path


def test_junit_is_well_formed(manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    result = run("check", str(manifest), "--format", "junit", "--output", str(out))
    assert result.exit_code in (0, 1), result.stderr
    root = ET.fromstring(out.read_bytes())  # raises when not well-formed
    assert root.tag == "testsuites"
    assert "\\x07" in out.read_text(encoding="utf-8")


def test_junit_on_stdout_is_well_formed(manifest: Path) -> None:
    result = run("check", str(manifest), "--format", "junit")
    ET.fromstring(result.stdout.encode("utf-8"))


@pytest.mark.parametrize("fmt", ["text", "sarif", "json"])
def test_no_raw_control_character_reaches_the_terminal(manifest: Path, fmt: str) -> None:
    result = run("check", str(manifest), "--format", fmt)
    assert result.exit_code in (0, 1), result.stderr
    for char in "\x00\x07\x0b\x1b\x9b":
        assert char not in result.stdout + result.stderr
    if fmt == "text":
        assert "\\x1b" in result.stdout or "\\x07" in result.stdout
