"""featmesh installs under its own namespace: a user's folders never shadow it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_repo_with_its_own_policies_and_connector_folders_runs_featmesh(tmp_path: Path) -> None:
    for name in ("policies", "connector", "typedefs"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise SystemExit('the user folder was imported')\n")
    (tmp_path / "policies" / "team.yaml").write_text("name: team\n")
    result = _python(tmp_path, "-m", "featmesh.connector", "policies", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert "owner-present" in result.stdout


def test_no_top_level_connector_policies_or_typedefs_package_is_installed(tmp_path: Path) -> None:
    code = (
        "import importlib.util as u; "
        "print([n for n in ('connector', 'policies', 'typedefs') if u.find_spec(n) is not None])"
    )
    result = _python(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    found = _python(tmp_path, "-c", "import featmesh.connector, featmesh.policies, featmesh.typedefs")
    assert found.returncode == 0, found.stderr
