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
    (repo / "featmesh.yaml").write_text(
        "version: 1\nsources:\n  - uri: manifest:features\n"
        "policies:\n  packs: [policies/team.yaml]\n  waivers: waivers.yaml\n"
    )
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


# --------------------------------------------------------------------------- changed files


def _changed_repo(tmp_path: Path, args: list[str] | None = None) -> Path:
    """The recommended layout with a featmesh.yaml naming its sources: two manifests of two
    stores (a failing ``risk``, a clean ``payments``) and a Feast repo (Feast's java-demo
    registry and featmesh's restatement of its definitions, ``definitions.py``), with the hook
    ``featmesh-check-changed`` run on the files pre-commit passes."""
    repo = _repo(tmp_path, (FIXTURES / "failing" / "risk.yaml").read_text())
    (repo / "features" / "payments.yaml").write_text((FIXTURES / "clean" / "payments.yaml").read_text())
    demo = ROOT / "tests" / "realworld" / "feast-java-demo"
    (repo / "feature_repo").mkdir()
    shutil.copy(demo / "registry.db", repo / "feature_repo" / "registry.db")
    shutil.copy(demo / "definitions.py", repo / "feature_repo" / "definitions.py")
    (repo / "README.md").write_text("# features of the risk domain\n")
    (repo / "ci.yaml").write_text("steps: []\n")
    (repo / "featmesh.yaml").write_text(
        "version: 1\nsources:\n  - uri: manifest:features\n  - uri: feast:feature_repo/registry.db\n"
        "policies:\n  packs: [policies/team.yaml]\n  waivers: waivers.yaml\n"
    )
    hooks = [h for h in _hooks() if h["id"] == "featmesh-check-changed"]
    if args is not None:
        hooks = [{**h, "args": args} for h in hooks]
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]})
    )
    _git(repo, "add", "-A")
    return repo


def _run_files(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / ".pre-commit-home"), "NO_COLOR": "1"}
    return subprocess.run(
        [PRE_COMMIT, "run", "--color", "never", "--verbose", "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_changed_files_check_only_the_stores_they_belong_to(tmp_path: Path) -> None:
    repo = _changed_repo(tmp_path)
    clean = _run_files(repo, "features/payments.yaml", "ci.yaml")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "featmesh://manifest/payments/" in clean.stdout
    assert "manifest/risk/" not in clean.stdout  # the other store of the folder is not checked
    assert "source feast:" not in clean.stdout  # nor the Feast repo
    assert "ci.yaml: belongs to no configured source and is not a manifest; not checked" in clean.stdout
    failing = _run_files(repo, "features/risk.yaml")
    assert failing.returncode == 1
    assert "features/risk.yaml:20:1: pii-tagged-by-name [critical]" in failing.stdout
    assert "featmesh://manifest/payments/" not in failing.stdout


def test_a_file_of_a_feast_repo_checks_that_repo(tmp_path: Path) -> None:
    repo = _changed_repo(tmp_path, ["--fail-on", "critical"])
    result = _run_files(repo, "feature_repo/definitions.py", "README.md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "source feast:" in result.stdout and "2 feature sets" in result.stdout
    assert (
        "feature_repo/definitions.py:20:1: owner-present [error] driver_hourly_stats@latest" in result.stdout
    )
    assert "manifest/risk/" not in result.stdout and "manifest/payments/" not in result.stdout


def test_a_changed_pack_or_waivers_file_checks_every_source(tmp_path: Path) -> None:
    repo = _changed_repo(tmp_path)
    result = _run_files(repo, "waivers.yaml")
    assert result.returncode == 1
    for store in ("manifest/risk/", "manifest/payments/", "feast/feast_java_demo/"):
        assert f"featmesh://{store}" in result.stdout


def test_the_rest_of_the_mesh_comes_from_the_catalog(tmp_path: Path) -> None:
    """Only ``payments`` is checked, yet its mesh-wide rules see the ``customer`` domain the
    catalog holds: a feature it defines under another dtype is a conflict."""
    repo = _changed_repo(tmp_path, ["--catalog", "local:mesh.db", "--fail-on", "warning"])
    other = tmp_path / "customer.yaml"
    payments = yaml.safe_load((repo / "features" / "payments.yaml").read_text())
    name = payments["feature_sets"][0]["features"][0]["name"]
    other.write_text(
        "apiVersion: featmesh/v1\nstore: {name: crm, domain: customer, owner: crm@contoso.com}\n"
        "feature_sets:\n  - name: profile\n    version: 1\n"
        f"    features: [{{name: {name}, dtype: map}}]\n"
    )
    featmesh = str(Path(sys.executable).parent / "featmesh")
    scan = [featmesh, "scan", f"manifest:{other}", "--catalog", f"local:{repo / 'mesh.db'}"]
    subprocess.run(scan, check=True, capture_output=True)
    result = _run_files(repo, "features/payments.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "feature-meaning-conflict" in result.stdout and "featmesh://manifest/crm/profile@1" in result.stdout
    )
    assert "manifest/risk/" not in result.stdout
