"""The feathr reader on conf files shaped like Feathr's public test workspaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featmesh.connector.errors import InputError
from featmesh.connector.model import to_dict
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source
from featmesh.connector.sources.feathr import read

DATA = Path(__file__).parent / "data"
WORKSPACE = DATA / "feathr_workspace"
REAL_CONF = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "feathr" / "features.conf"


def read_one(location, report=None):
    report = report or SourceReport(uri=str(location), kind="feathr")
    [store] = read(str(location), report, {})
    return store, report


def test_workspace_anchors_sources_and_types():
    store, report = read_one(WORKSPACE)
    assert store.name == "feathr_workspace"
    sets = {fs.name: fs for fs in store.feature_sets}
    assert report.counters["files"] == 1 and report.counters["files_skipped"] == 1

    trips = sets["tripAggregates"]
    assert [k.name for k in trips.join_keys] == ["DOLocationID"]
    assert trips.timestamp_field == "lpep_dropoff_datetime"
    [source] = trips.sources
    assert source.kind == "blob" and source.uri.startswith("wasbs://public@")
    avg, peak = trips.features
    assert (avg.dtype, avg.extra["aggregation"], avg.extra["window_seconds"]) == (
        "float32",
        "AVG",
        90 * 86400,
    )
    assert avg.transformation == "cast_float(fare_amount)" and avg.extra["window"] == "90d"
    assert (peak.dtype, peak.extra["def_language"], peak.extra["window_seconds"]) == (
        "float32",
        "sql",
        3 * 3600,
    )

    users = sets["userEmbeddings"]
    assert [k.name for k in users.join_keys] == ["user_id", "region"]
    assert users.sources[0].kind == "hdfs"
    dtypes = {f.name: (f.dtype, f.raw_type) for f in users.features}
    assert dtypes["f_user_embedding"] == ("array<float64>", "TENSOR<DENSE>[INT]:DOUBLE")
    assert dtypes["f_user_matrix"][0] == "array<unknown>"
    assert dtypes["f_user_segment"] == ("string", "CATEGORICAL")
    assert users.features[0].source_columns == ("embedding",)

    ratings = sets["ratings"]
    assert [k.name for k in ratings.join_keys] == ["user_id", "movie_id"]
    assert (ratings.sources[0].kind, ratings.timestamp_field) == ("s3", "rated_at")
    assert ratings.features[0].dtype == "int64"


def test_jdbc_source_keeps_the_table_and_masks_the_password():
    store, _ = read_one(WORKSPACE)
    customers = next(fs for fs in store.feature_sets if fs.name == "customers")
    [source] = customers.sources
    assert (source.kind, source.name, source.extra["auth"]) == ("jdbc", "dbo.customers", "USERPASS")
    assert "password=***" in source.uri
    assert "hunter2" not in json.dumps(to_dict(store))


def test_derivations_link_to_the_sets_of_their_inputs():
    store, report = read_one(WORKSPACE)
    sets = {fs.name: fs for fs in store.feature_sets}
    parents = {
        name: [r.name for r in sets[name].derived_from]
        for name in ("f_fare_ratio", "f_rating_by_segment", "f_fare_ratio_squared")
    }
    assert parents == {
        "f_fare_ratio": ["tripAggregates"],
        "f_rating_by_segment": ["ratings", "userEmbeddings"],
        "f_fare_ratio_squared": ["f_fare_ratio"],
    }
    assert sets["f_rating_by_segment"].features[0].dtype == "float32"
    assert [k.name for k in sets["f_rating_by_segment"].join_keys] == ["user_id"]
    assert not report.warnings.items


def test_a_conf_that_does_not_parse_names_the_line():
    with pytest.raises(InputError) as info:
        read_one(DATA / "feathr_broken" / "features.conf")
    assert str(info.value).startswith(f"{DATA / 'feathr_broken' / 'features.conf'}:6")


def test_environment_substitutions_and_url_includes_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATMESH_SECRET", "s3cr3t")
    conf = tmp_path / "env.conf"
    conf.write_text(
        'anchors: {\n  a: {\n    source: "${FEATMESH_SECRET}"\n    source: ${FEATMESH_SECRET}\n  }\n}\n'
    )
    with pytest.raises(InputError, match=r"env.conf:4: \$\{FEATMESH_SECRET\} is not defined"):
        read_one(conf)
    include = tmp_path / "inc.conf"
    include.write_text('\ninclude url("http://example.invalid/x.conf")\nanchors: {}\n')
    with pytest.raises(InputError, match=r"inc\.conf:2: include of a URL"):
        read_one(include)


def test_detection_of_files_and_workspaces():
    assert parse_source(str(WORKSPACE)).kind == "feathr"
    assert parse_source(str(WORKSPACE / "feature_conf" / "features.conf")).kind == "feathr"
    assert parse_source(f"feathr:{WORKSPACE}").kind == "feathr"


@pytest.mark.skipif(not REAL_CONF.exists(), reason="shared fixture feathr/features.conf is absent")
def test_real_feathr_conf_with_a_broken_derivation():
    store, report = read_one(REAL_CONF)
    assert store.name == "feathr"  # the folder holding the conf: its workspace
    sets = {fs.name: fs for fs in store.feature_sets}
    assert set(sets) == {
        "nonAggFeatures",
        "snowflakeFeatures",
        "aggregationFeatures",
        "passthroughFeatures",
        "f_trip_time_distance",
    }
    derived = sets["f_trip_time_distance"]
    assert derived.derived_from == ()
    assert derived.extra["unresolved_inputs"] == ["f_trip_distance", "f_trip_time_duration"]
    [warning] = report.warnings.items
    assert "f_trip_time_distance" in warning and "'f_trip_distance'" in warning
    assert derived.origin.line == 142
    tensors = {f.name: f.dtype for f in sets["nonAggFeatures"].features}
    assert tensors["f1"] == "array<float32>" and tensors["f4"] == "array<bool>"
    assert tensors["f6"] == "array<int64>" and tensors["f_gen_trip_distance"] == "unknown"
    snowflake = sets["snowflakeFeatures"]
    assert snowflake.sources[0].kind == "jdbc"
    assert snowflake.features[0].dtype == "string"
    assert sets["passthroughFeatures"].sources == () and sets["passthroughFeatures"].join_keys == ()
    assert sets["aggregationFeatures"].features[0].extra["window_seconds"] == 90 * 86400
    json.dumps(to_dict(store))


def test_a_workspace_is_one_store_however_it_is_named(tmp_path: Path) -> None:
    ws = tmp_path / "fraud_ws" / "feature_conf"
    ws.mkdir(parents=True)
    (ws / "features.conf").write_text(
        'anchors: { a: { source: PASSTHROUGH, key: "id", features: { f: "x" } } }\n'
    )
    names = {
        read(str(p), SourceReport(uri=str(p), kind="feathr"), {})[0].name
        for p in (tmp_path / "fraud_ws", ws, ws / "features.conf")
    }
    assert names == {"fraud_ws"}


def test_an_included_file_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "common.conf").write_text(
        'sources: { txns: { location: { path: "abfss://raw@acct.dfs.core.windows.net/txns" } } }\n'
    )
    (tmp_path / "features.conf").write_text(
        'include "common.conf"\n'
        'anchors: { a: { source: txns, key: "id",\n'
        '  features: { amount: { def: "amount", type: NUMERIC } } } }\n'
    )
    report = SourceReport(uri="x", kind="feathr")
    (store,) = read(str(tmp_path), report, {})
    assert [fs.name for fs in store.feature_sets] == ["a"]
    assert store.feature_sets[0].sources[0].uri == "abfss://raw@acct.dfs.core.windows.net/txns"
    assert report.counters.get("files_included") == 1
