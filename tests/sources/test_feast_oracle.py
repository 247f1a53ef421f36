"""Oracle: what featmesh reads from a registry equals what Feast's own SDK lists.

Runs only where ``feast`` is installed (it is not a featmesh dependency). Feast is
pointed at a copy of each fixture repo, since its SQL registry creates tables on open.
The fixtures keep no pickled transformation bodies (see
tests/fixtures/feast/regenerate.py), which the SDK would unpickle when listing
stream and on-demand views; those are decoded with Feast's own generated protobuf
classes instead, and on-demand views rebuilt with ``skip_udf``.
"""

from __future__ import annotations

import shutil
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest
from golden import SHARED_FIXTURES, TESTS

from featmesh.connector.model import FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source

feast = pytest.importorskip("feast", reason="the Feast SDK is not installed (oracle only)")

FIXTURES = TESTS / "fixtures" / "feast"
DQM = SHARED_FIXTURES / "feast-registries" / "dqm-tutorial-2023"
REPOS = [FIXTURES / "all_sources", FIXTURES / "sql_registry"] + ([DQM] if DQM.is_dir() else [])


@pytest.fixture(params=REPOS, ids=lambda p: p.name)
def repos(request: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FeatureStore, Any]:
    copy = tmp_path / request.param.name
    shutil.copytree(request.param, copy)
    copy.chmod(0o755)
    for path in copy.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.chdir(copy)  # Feast resolves sqlite:/// paths against the working folder
    (ours,) = read_source(parse_source(f"feast:{copy}"), SourceReport(uri="t", kind="feast"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = feast.FeatureStore(repo_path=str(copy))
    return ours, theirs


def test_feature_views_match_the_sdk(repos: tuple[FeatureStore, Any]) -> None:
    ours, store = repos
    sets = {fs.name: fs for fs in ours.feature_sets}
    views = store.list_feature_views()
    assert {v.name for v in views} <= set(sets)
    for view in views:
        fs = sets[view.name]
        assert [(f.name, f.dtype.to_value_type().name) for f in view.features] == [
            (f.name, f.raw_type) for f in fs.features
        ], view.name
        assert list(fs.entities) == [e for e in view.entities if e != "__dummy"], view.name
        assert fs.owner == (view.owner or view.tags.get("owner") or None)
        assert fs.description == view.description
        assert fs.ttl_seconds == (int(view.ttl.total_seconds()) or None if view.ttl else None)
        source_names = {s.name for s in fs.sources}
        assert view.batch_source.name in source_names, view.name
        if view.stream_source is not None:
            assert view.stream_source.name in source_names, view.name


def _feast_protos(store: Any, table: str) -> list[Any]:
    """Stream or on-demand view protos of the store's registry, decoded by Feast."""
    from feast.protos.feast.core.OnDemandFeatureView_pb2 import OnDemandFeatureView
    from feast.protos.feast.core.Registry_pb2 import Registry
    from feast.protos.feast.core.StreamFeatureView_pb2 import StreamFeatureView

    config = store.config.registry
    path = Path(config.path.removeprefix("sqlite:///"))
    if config.registry_type == "sql":
        message = OnDemandFeatureView if table == "on_demand_feature_views" else StreamFeatureView
        with sqlite3.connect(path) as connection:
            rows = connection.execute(f"SELECT feature_view_proto FROM {table}").fetchall()
        return [message.FromString(blob) for (blob,) in rows]
    registry = Registry.FromString((Path(store.repo_path) / path).read_bytes())
    return list(getattr(registry, table))


def test_stream_views_match_the_registry(repos: tuple[FeatureStore, Any]) -> None:
    ours, store = repos
    from feast.field import Field

    sets = {fs.name: fs for fs in ours.feature_sets}
    for proto in _feast_protos(store, "stream_feature_views"):
        spec = proto.spec
        fs = sets[spec.name]
        features = [Field.from_proto(f) for f in spec.features]
        assert [(f.name, f.dtype.to_value_type().name) for f in features] == [
            (f.name, f.raw_type) for f in fs.features
        ]
        assert list(fs.entities) == list(spec.entities)
        assert {s.name for s in fs.sources} == {spec.batch_source.name, spec.stream_source.name}
        assert fs.ttl_seconds == spec.ttl.seconds


def test_on_demand_views_match_the_registry(repos: tuple[FeatureStore, Any]) -> None:
    ours, store = repos
    from feast.on_demand_feature_view import OnDemandFeatureView

    odfvs = [
        OnDemandFeatureView.from_proto(p, skip_udf=True)
        for p in _feast_protos(store, "on_demand_feature_views")
    ]
    sets = {fs.name: fs for fs in ours.feature_sets}
    for odfv in odfvs:
        fs = sets[odfv.name]
        assert [(f.name, f.dtype.to_value_type().name) for f in odfv.features] == [
            (f.name, f.raw_type) for f in fs.features
        ]
        parents = sorted(p.name for p in odfv.source_feature_view_projections.values())
        assert sorted(r.name for r in fs.derived_from) == parents
        requests = sorted(odfv.source_request_sources)
        assert sorted(s.name for s in fs.sources if s.kind == "request") == requests


def test_entities_and_services_match_the_sdk(repos: tuple[FeatureStore, Any]) -> None:
    ours, store = repos
    entities = {e.name: e for e in store.list_entities()}
    assert {e.name for e in ours.entities} == set(entities) - {"__dummy"}
    for entity in ours.entities:
        (column,) = entity.columns
        assert column.name == entities[entity.name].join_key
        assert column.raw_type == entities[entity.name].value_type.name
    consumers: dict[str, set[str]] = {}
    for service in store.list_feature_services():
        for projection in service.feature_view_projections:
            consumers.setdefault(projection.name, set()).add(service.name)
    for fs in ours.feature_sets:
        assert set(fs.consumers) == consumers.get(fs.name, set()), fs.name
