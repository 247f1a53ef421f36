"""The sample plugin in samples/plugin, found through a real entry point.

The test lays down the package's installed metadata (a ``.dist-info`` folder with its
``entry_points.txt``, as pip would) and its source on ``sys.path``: importlib.metadata
then finds the entry point the same way it does for an installed package.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

import featmesh.policies.registry as registry_module
from featmesh.policies import all_checks, evaluate, load_policy
from tests.policies.helpers import good_set

PLUGIN = Path(__file__).resolve().parents[2] / "samples" / "plugin"


def _entry_points_txt() -> str:
    """The entry_points.txt pip would write, from the plugin's pyproject.toml."""
    import tomllib

    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    parser = configparser.ConfigParser()
    for group, entries in project["entry-points"].items():
        parser[group] = entries
    lines = []
    for section in parser.sections():
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {v}" for k, v in parser[section].items())
    return "\n".join(lines) + "\n"


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    dist = tmp_path / "featmesh_sample_checks-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: featmesh-sample-checks\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(_entry_points_txt())
    monkeypatch.syspath_prepend(str(PLUGIN / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry_module.plugin_checks.cache_clear()
    yield
    registry_module.plugin_checks.cache_clear()


def test_plugin_checks_are_registered_and_usable(installed_plugin) -> None:
    checks = all_checks()
    assert checks["consumers_declared"].provider == "featmesh-sample-checks"
    assert checks["cost_center_tagged"].params["pattern"]["default"] == ".+"
    policy = load_policy([str(PLUGIN / "pack.yaml")])
    assert policy.rule("consumers-declared") is not None
    ok = good_set(consumers=("fraud-model",), tags={"cost_center": "4711"})
    bad = good_set(name="bad", tags={"cost_center": "payments"})
    ev = evaluate(policy, [ok, bad])
    states = {
        (r.target.rsplit("/", 1)[-1], r.rule): r.state.value
        for r in ev.results()
        if r.rule in ("consumers-declared", "cost-center-tagged")
    }
    assert states == {
        ("card_txn_7d@1", "consumers-declared"): "passed",
        ("card_txn_7d@1", "cost-center-tagged"): "passed",
        ("bad@1", "consumers-declared"): "failed",
        ("bad@1", "cost-center-tagged"): "failed",
    }


def test_without_the_plugin_its_pack_names_an_unknown_check() -> None:
    from featmesh.connector.errors import InputError

    if "consumers_declared" in all_checks():
        pytest.skip("the sample plugin is installed in this environment")
    with pytest.raises(InputError, match="unknown check 'consumers_declared'"):
        load_policy([str(PLUGIN / "pack.yaml")])
