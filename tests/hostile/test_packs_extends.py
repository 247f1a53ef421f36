"""A pack's ``extends`` reaches only built-in packs and files beside the pack, and an
error never quotes a file that is not a pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run

SECRET = "ATLAS_PASSWORD=hunter2-canary"
RULES = "rules:\n  - {id: t-owner, check: owner_present, severity: error}\n"


def _pack(folder: Path, extends: str, name: str = "team.yaml") -> Path:
    path = folder / name
    head = "apiVersion: featmesh/v1\nkind: PolicyPack\nname: team\nversion: '1'\n"
    path.write_text(head + f"extends: ['{extends}']\n" + RULES, encoding="utf-8")
    return path


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    (tmp_path / ".env").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / ".env").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "packs" / "notes.yaml").write_text(f"password: {SECRET}\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("extends", "message"),
    [
        ("../.env", "leads out of this pack's folder"),
        ("/etc/passwd", "an absolute path"),
        (".env", "is not a policy pack"),
        ("notes.yaml", "is not a policy pack"),
        ("missing.yaml", "not found"),
    ],
)
def test_extends_is_refused_without_quoting(layout: Path, extends: str, message: str) -> None:
    pack = _pack(layout / "packs", extends)
    result = run("policies", "validate", str(pack))
    assert result.exit_code == 2, result.output
    assert f"{pack}:5" in result.stderr
    assert message in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "root:" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_cli_named_file_that_is_not_a_pack_is_not_quoted(layout: Path) -> None:
    result = run("policies", "validate", str(layout / ".env"))
    assert result.exit_code == 2
    assert "not a policy pack" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_a_file_beside_the_pack_and_a_built_in_still_extend(layout: Path) -> None:
    (layout / "packs" / "base.yaml").write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: base\nversion: '1'\nextends: [mesh-baseline]\n",
        encoding="utf-8",
    )
    pack = _pack(layout / "packs", "base.yaml")
    result = run("policies", "validate", str(pack))
    assert result.exit_code == 0, result.stderr
