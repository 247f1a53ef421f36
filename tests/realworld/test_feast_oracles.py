"""Every Feast repo of the corpus, read by featmesh, against the Feast SDK's own listing.

Each folder holds the ``registry.db`` that ``feast apply`` wrote from the repo (in an
environment of its own, never featmesh's; the folder's SOURCE.md says which Feast, which
commit and what was changed to build it) and ``oracle.json``, what the Feast SDK lists
from that registry (``feast_oracle.py``). featmesh reads the registry with protobuf only.
The comparison covers sets, features (name, type, description, tags), entities and join
keys, timestamps, TTLs, tags, owners, sources and feature services.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from featmesh.connector.model import BATCH, ON_DEMAND, STREAM, FeatureSet, FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source

HERE = Path(__file__).parent
REPOS = sorted(p.parent.name for p in HERE.glob("feast-*/oracle.json"))

FEAST_TYPES = {
    # the Feast SDK's type names (feast.types) -> featmesh dtypes, written by hand
    "Bool": "bool",
    "Float32": "float32",
    "Float64": "float64",
    "Int32": "int32",
    "Int64": "int64",
    "String": "string",
    "UnixTimestamp": "timestamp",
}
Repo = tuple[FeatureStore, SourceReport, dict[str, Any]]
DUMMY_ENTITY = "__dummy"
"""The entity Feast adds to every registry for views without one; featmesh leaves it out."""


def load(repo: str) -> tuple[FeatureStore, SourceReport, dict[str, Any]]:
    spec = parse_source(f"feast:{HERE / repo / 'registry.db'}")
    report = SourceReport(uri=spec.uri, kind=spec.kind)
    (store,) = read_source(spec, report)
    oracle = json.loads((HERE / repo / "oracle.json").read_text())
    return store, report, oracle


def sets(store: FeatureStore) -> dict[str, FeatureSet]:
    return {fs.name: fs for fs in store.feature_sets}


@pytest.fixture(params=REPOS)
def repo(request: pytest.FixtureRequest) -> Repo:
    return load(request.param)


def test_the_corpus_holds_the_feast_repos() -> None:
    assert len(REPOS) >= 6, REPOS


def test_store_and_set_names(repo: Repo) -> None:
    store, report, oracle = repo
    assert report.status == "ok" and not report.problems
    assert store.name == oracle["project"]
    assert sorted(sets(store)) == [v["name"] for v in oracle["feature_views"]]


def test_features_types_descriptions_and_tags(repo: Repo) -> None:
    store, _, oracle = repo
    by_name = sets(store)
    for view in oracle["feature_views"]:
        fs = by_name[view["name"]]
        got = [(f.name, f.raw_type, f.dtype, f.description, dict(f.tags)) for f in fs.features]
        want = [
            (f["name"], f["value_type"], FEAST_TYPES[f["dtype"]], f["description"], f["tags"])
            for f in view["features"]
        ]
        assert got == want, view["name"]


def test_set_metadata(repo: Repo) -> None:
    store, _, oracle = repo
    by_name = sets(store)
    for view in oracle["feature_views"]:
        fs = by_name[view["name"]]
        assert fs.description == view["description"], view["name"]
        # featmesh's documented rule: spec.owner, else tags["owner"]
        assert (fs.owner or "") == (view["owner"] or view["tags"].get("owner", "")), view["name"]
        assert dict(fs.tags) == view["tags"], view["name"]
        if view["kind"] == "on_demand":
            assert fs.kind == ON_DEMAND and fs.ttl_seconds is None and fs.timestamp_field is None
            derived = sorted(r.name for r in fs.derived_from)
            requests = sorted(s.name or "" for s in fs.sources if s.kind == "request")
            assert sorted(derived + requests) == view["sources"], view["name"]
            continue
        streaming = view["kind"] == "stream" or view["stream_source"] is not None
        pushed = view["batch_source"] is not None and view["batch_source"]["class"] == "PushSource"
        assert fs.kind == (STREAM if streaming or pushed else BATCH), view["name"]
        assert (fs.ttl_seconds or 0) == view["ttl_seconds"], view["name"]
        assert fs.timestamp_field == (view["batch_source"]["timestamp_field"] or None), view["name"]
        assert list(fs.entities) == [e for e in view["entities"] if e != DUMMY_ENTITY], view["name"]
        want_keys = [(c["name"], FEAST_TYPES[c["dtype"]]) for c in view["entity_columns"]]
        assert [(k.name, k.dtype) for k in fs.join_keys] == want_keys, view["name"]
        by_source = {s.name or "": s for s in fs.sources}
        for source in (view["batch_source"], view["stream_source"]):
            if source is not None:
                ref = by_source[source["name"]]
                stamps = source
                if source["class"] == "PushSource" and not source["timestamp_field"]:
                    # Feast's PushSource.to_proto stores its batch source's timestamps,
                    # which PushSource.from_proto does not give back to the SDK object
                    stamps = view["batch_source"]
                assert (ref.timestamp_field or "") == stamps["timestamp_field"], source["name"]
                assert ref.extra.get("created_timestamp_column", "") == stamps["created_timestamp_column"]
                assert ref.extra.get("owner", "") == source["owner"], source["name"]
                assert ref.extra.get("tags", {}) == source["tags"], source["name"]
                if "path" in source:  # as written, whether featmesh resolved it or not
                    assert ref.extra.get("path_as_written", ref.uri) == source["path"], source["name"]


def test_entities_and_join_keys(repo: Repo) -> None:
    store, _, oracle = repo
    key_types = {
        c["name"]: FEAST_TYPES[c["dtype"]]
        for v in oracle["feature_views"]
        for c in v.get("entity_columns", [])
    }
    got = {e.name: e for e in store.entities}
    want = [e for e in oracle["entities"] if e["name"] != DUMMY_ENTITY]
    assert sorted(got) == [e["name"] for e in want]
    for entity in want:
        (column,) = got[entity["name"]].columns
        assert column.name == entity["join_key"]
        assert got[entity["name"]].description == entity["description"]
        assert dict(got[entity["name"]].tags) == entity["tags"]
        if entity["value_type"] == "UNKNOWN":  # Feast recorded none: the views give it
            assert column.dtype == key_types[entity["join_key"]], entity["name"]
        else:
            assert column.dtype == FEAST_TYPES[_sdk_type(entity["value_type"])], entity["name"]


def test_on_demand_keys_take_the_type_of_their_entity(repo: Repo) -> None:
    store, _, _ = repo
    types = {e.name: e.columns[0].dtype for e in store.entities}
    for fs in store.feature_sets:
        if fs.kind == ON_DEMAND:
            for entity, key in zip(fs.entities, fs.join_keys, strict=True):
                assert key.dtype == types[entity], (fs.name, key)


def test_feature_services(repo: Repo) -> None:
    store, _, oracle = repo
    services = {c.name: c for c in store.consumers if c.kind == "feature-service"}
    assert sorted(services) == [s["name"] for s in oracle["feature_services"]]
    for service in oracle["feature_services"]:
        consumer = services[service["name"]]
        assert (consumer.owner or "") == (service["owner"] or service["tags"].get("owner", ""))
        reads = sorted(f"{r.feature_set.name}:{f}" for r in consumer.reads for f in r.features)
        assert reads == service["features"], service["name"]
    readers: dict[str, set[str]] = {}
    for service in oracle["feature_services"]:
        for ref in service["features"]:
            readers.setdefault(ref.split(":", 1)[0], set()).add(service["name"])
    for fs in store.feature_sets:
        assert set(fs.consumers) == readers.get(fs.name, set()), fs.name


def _sdk_type(value_type: str) -> str:
    """A Feast ValueType name as the SDK's type name (``INT64`` -> ``Int64``)."""
    return {
        "BOOL": "Bool",
        "FLOAT": "Float32",
        "DOUBLE": "Float64",
        "INT32": "Int32",
        "INT64": "Int64",
        "STRING": "String",
        "UNIX_TIMESTAMP": "UnixTimestamp",
    }[value_type]
