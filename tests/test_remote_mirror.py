"""Rescans against Atlas and Purview ask the catalog about what changed, not the mesh.

featmesh keeps what it wrote to a remote catalog in its run history (``connector/catalog/
mirror.py``) and trusts it: an unchanged rescan sends a constant number of requests,
whatever the size of the mesh; a changed set adds a constant number more. ``scan --verify``
reads everything again and so finds what someone changed by hand. Requests are counted on
the stateful fake (``tests/fakeatlas.py``), which answers like Atlas's v2 REST API
(``GET /entity/bulk/uniqueAttribute/type/{type}``, ``GET /entity/bulk``, ``POST /search/basic``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import run_json
from tests.fakeatlas import FakeAtlas

ATLAS_URI = "atlas+https://atlas.example.com:21000"
BASE = "https://atlas.example.com:21000/api/atlas/v2"
AUTH = ("featmesh", "pw")
SET = "featmesh_feature_set"


@pytest.fixture(autouse=True)
def setting(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_USERNAME", AUTH[0])
    monkeypatch.setenv("ATLAS_PASSWORD", AUTH[1])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("featmesh.connector.catalog.rest.time.sleep", lambda _s: None)


def _mesh(folder: Path, sets: int, *, stores: int = 2, note: str = "") -> Path:
    """``stores`` manifest stores of ``sets`` feature sets in all, 5 features each, sharing
    a source per store (the mesh-wide rules compare them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for s in range(stores):
        members = [
            {
                "name": f"set_{i:03d}",
                "version": 1,
                "description": f"Feature set {i} of store {s}.{note if i == 0 and s == 0 else ''}",
                "owner": f"team{s}@contoso.com",
                "entities": ["customer"],
                "timestamp_field": "event_ts",
                "ttl": "1d",
                "sources": [{"name": "events", "kind": "delta", "uri": f"main.s{s}.events"}],
                "features": [
                    {"name": f"f{i}_{k}", "dtype": "int64", "description": "A count."} for k in range(5)
                ],
            }
            for i in range(s, sets, stores)
        ]
        doc = {
            "apiVersion": "featmesh/v1",
            "store": {
                "name": f"store{s}",
                "platform": "databricks",
                "domain": f"d{s}",
                "owner": "o@contoso.com",
            },
            "entities": [{"name": "customer", "join_keys": [{"name": "customer_id", "dtype": "string"}]}],
            "feature_sets": members,
        }
        (folder / f"store{s}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def _scan(folder: Path, *extra: str) -> dict:
    result, summary = run_json("scan", str(folder), "--catalog", ATLAS_URI, "--json", *extra)
    assert result.exit_code in (0, 1), summary
    return summary


def _requests(atlas: FakeAtlas, folder: Path, *extra: str) -> tuple[int, dict]:
    before = len(atlas.calls)
    summary = _scan(folder, *extra)
    return len(atlas.calls) - before, summary


def _delete_by_hand(qualified_name: str) -> None:
    answer = requests.delete(
        f"{BASE}/entity/uniqueAttribute/type/{SET}", params={"attr:qualifiedName": qualified_name}, auth=AUTH
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("sets", [10, 40])
def test_an_unchanged_rescan_sends_the_same_few_requests_whatever_the_mesh_size(tmp_path, sets):
    with FakeAtlas(BASE, auth=AUTH) as atlas:
        folder = _mesh(tmp_path / "m", sets)
        _scan(folder)
        count, summary = _requests(atlas, folder)
        # per set: itself, 5 features, its pipeline; per store: itself, an entity, a data product
        assert summary["plan"]["unchanged"] == sets * 7 + 2 * 3
        assert summary["plan"]["create"] == summary["plan"]["update"] == summary["plan"]["delete"] == 0
        assert count <= 2  # the type headers and the typedefs: nothing per set
        full, verified = _requests(atlas, folder, "--verify")
        assert verified["plan"] == summary["plan"]  # the same plan as reading everything
        assert full > 4 * count


def test_one_changed_set_adds_a_constant_number_of_requests(tmp_path):
    with FakeAtlas(BASE, auth=AUTH) as atlas:
        folder = _mesh(tmp_path / "m", 40)
        _scan(folder)
        unchanged, _ = _requests(atlas, folder)
        _mesh(folder, 40, note=" Now with a longer description.")
        changed, summary = _requests(atlas, folder)
        assert summary["plan"]["update"] == 1
        assert changed - unchanged <= 6  # look the set up again, write it, its classifications
        held = atlas.entity(SET, "featmesh://manifest/store0/set_000@1")
        assert held is not None and held["attributes"]["description"].endswith("longer description.")
        again, summary = _requests(atlas, folder)
        assert again == unchanged and summary["plan"]["update"] == 0


def test_verify_recreates_a_set_deleted_by_hand(tmp_path):
    qn = "featmesh://manifest/store1/set_003@1"
    with FakeAtlas(BASE, auth=AUTH) as atlas:
        folder = _mesh(tmp_path / "m", 10)
        _scan(folder)
        _delete_by_hand(qn)
        assert atlas.entity(SET, qn) is None
        summary = _scan(folder)  # trusted: featmesh recorded writing it, nothing is asked
        assert summary["plan"]["create"] == 0
        assert atlas.entity(SET, qn) is None
        summary = _scan(folder, "--verify")
        assert summary["plan"]["create"] >= 1
        assert atlas.entity(SET, qn) is not None
        count, summary = _requests(atlas, folder)  # and the mirror is trusted again
        assert count <= 2 and summary["plan"]["create"] == 0


def test_a_set_deleted_by_hand_that_the_plan_writes_makes_featmesh_read_everything_again(tmp_path):
    qn = "featmesh://manifest/store0/set_000@1"
    with FakeAtlas(BASE, auth=AUTH) as atlas:
        folder = _mesh(tmp_path / "m", 10)
        _scan(folder)
        _delete_by_hand(qn)
        _mesh(folder, 10, note=" Changed.")
        summary = _scan(folder)
        assert summary["status"] == "ok", summary["failures"]
        assert atlas.entity(SET, qn) is not None
        assert atlas.entity(SET, qn)["attributes"]["description"].endswith("Changed.")
        assert _scan(folder)["plan"]["create"] == 0


def test_a_store_scanned_first_from_this_history_is_read_in_full(tmp_path):
    """Another machine wrote store1: this history knows nothing of it, so it is not trusted."""
    with FakeAtlas(BASE, auth=AUTH) as atlas:
        folder = _mesh(tmp_path / "m", 10)
        _scan(folder)
        (tmp_path / ".featmesh" / "history.db").unlink()
        count, summary = _requests(atlas, folder)
        assert summary["plan"]["create"] == 0 and summary["plan"]["unchanged"] > 0
        assert count > 2
        assert _requests(atlas, folder)[0] <= 2


def test_the_rest_of_the_mesh_comes_from_the_recorded_index(tmp_path):
    """Scanning one store reads the other stores' sets from the index, without a search."""
    with FakeAtlas(BASE, auth=AUTH) as atlas:
        folder = _mesh(tmp_path / "m", 10)
        _scan(folder)
        one = tmp_path / "one"
        one.mkdir()
        (one / "store0.yaml").write_text((folder / "store0.yaml").read_text())
        before = atlas.count("POST", "/search/basic")
        summary = _scan(one)
        assert atlas.count("POST", "/search/basic") == before
        assert summary["plan"]["delete"] == 0
        assert _requests(atlas, one)[0] <= 2
