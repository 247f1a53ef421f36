"""Feast's java-demo repo, its registry built by `feast apply` (see feast-java-demo/SOURCE.md),
against the Feast SDK's own listing."""

from __future__ import annotations

from pathlib import Path

from featmesh.connector.model import ON_DEMAND, FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source
from featmesh.policies import evaluate, load_policy

REGISTRY = Path(__file__).parent / "feast-java-demo" / "registry.db"


def scan() -> FeatureStore:
    spec = parse_source(f"feast:{REGISTRY}")
    (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
    return store


def test_matches_the_sdk_listing() -> None:
    store = scan()
    assert store.name == "feast_java_demo"
    assert [(fs.name, fs.kind, len(fs.features)) for fs in store.feature_sets] == [
        ("driver_hourly_stats", "batch", 4),
        ("transformed_conv_rate", ON_DEMAND, 2),
    ]
    assert [r.name for r in store.feature_sets[1].derived_from] == ["driver_hourly_stats"]
    (entity,) = store.entities
    assert (entity.name, entity.columns[0].name) == ("driver_id", "driver_id")
    # Feast recorded the entity's type as UNKNOWN; the view gives the column as int64
    assert entity.columns[0].dtype == "int64" and entity.extra["key_type_from"] == "feature views"


def test_on_demand_and_unversioned_rules_are_not_applicable() -> None:
    store = scan()
    evaluation = evaluate(load_policy(), list(store.feature_sets))
    states = {(r.feature_set.rsplit("/", 1)[-1], r.rule): r.state.value for r in evaluation.results()}
    odfv = "transformed_conv_rate@latest"
    assert states[(odfv, "timestamp-declared")] == "skipped"
    assert states[(odfv, "ttl-declared")] == "skipped"
    assert states[("driver_hourly_stats@latest", "version-present")] == "skipped"
    assert states[("driver_hourly_stats@latest", "timestamp-declared")] == "passed"
