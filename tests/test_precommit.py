"""The pre-commit hooks as a domain team meets them: a real ``pre-commit run`` in a
temporary git repository with the layout the README recommends (manifests under
``features/``, the team's pack under ``policies/``, ``waivers.yaml``, ``featmesh.yaml``).

The hooks are taken from this repository's ``.pre-commit-hooks.yaml`` (id, entry, default
args, files, pass_filenames) into a ``repo: local`` config with ``language: system`` and
the ``featmesh`` of this environment, so the run is offline: pre-commit would otherwise
clone the repository and build a virtualenv from the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "policies" / "fixtures"
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")

pytestmark = pytest.mark.skipif(
    not Path(PRE_COMMIT).exists() or shutil.which("git") is None,
    reason="pre-commit (dev extra) and git are needed",
)


def _hooks() -> list[dict]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    featmesh = str(Path(sys.executable).parent / "featmesh")
    out = []
    for hook in hooks:
        entry = hook["entry"].replace("featmesh", featmesh, 1)
        out.append({**hook, "entry": entry, "language": "system"})
    return out


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _repo(tmp_path: Path, manifest: str) -> Path:
    repo = tmp_path / "domain"
    (repo / "features").mkdir(parents=True)
    (repo / "policies").mkdir()
    (repo / "features" / "risk.yaml").write_text(manifest)
    (repo / "policies" / "team.yaml").write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: team\nversion: 1\n"
        "extends: [mesh-baseline]\nrules: []\n"
    )
    (repo / "waivers.yaml").write_text("apiVersion: featmesh/v1\nkind: Waivers\nwaivers: []\n")
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": _hooks()}]})
    )
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def _run(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / ".pre-commit-home"), "NO_COLOR": "1"}
    return subprocess.run(
        [PRE_COMMIT, "run", "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hooks_pass_with_their_default_args_on_the_recommended_layout(tmp_path: Path) -> None:
    repo = _repo(tmp_path, (FIXTURES / "clean" / os.listdir(FIXTURES / "clean")[0]).read_text())
    result = _run(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "featmesh policy check" in result.stdout and "Passed" in result.stdout


def test_the_check_hook_fails_on_findings_and_says_where(tmp_path: Path) -> None:
    repo = _repo(tmp_path, (FIXTURES / "failing" / "risk.yaml").read_text())
    result = _run(repo)
    assert result.returncode == 1
    assert "features/risk.yaml:20:1: pii-tagged-by-name [critical]" in result.stdout
    assert "featmesh: exit 1:" in result.stdout
