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


def test_findings_point_at_the_repo_python_that_defines_them(tmp_path, monkeypatch) -> None:
    """SARIF results of the java-demo views point at ``definitions.py`` (the repo the
    registry was applied from): a set's finding at its ``FeatureView(...)`` call or
    ``@on_demand_feature_view(...)`` decorator, a feature's at its ``Field(...)``."""
    import json

    from tests.conftest import run

    monkeypatch.chdir(REGISTRY.parent)
    out = tmp_path / "out.sarif"
    run("check", f"feast:{REGISTRY}", "--format", "sarif", "-o", str(out))
    places = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].rsplit("/", 1)[-1]): (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in json.loads(out.read_text())["runs"][0]["results"]
    }
    assert places[("owner-present", "driver_hourly_stats@latest")] == ("definitions.py", 20)
    assert places[("feature-description", "driver_hourly_stats@latest#avg_daily_trips")] == (
        "definitions.py",
        30,
    )
    assert places[("owner-present", "transformed_conv_rate@latest")] == ("definitions.py", 41)
    assert places[("feature-description", "transformed_conv_rate@latest#conv_rate_plus_val2")] == (
        "definitions.py",
        45,
    )


def test_the_repo_is_parsed_only_when_a_finding_needs_a_line_and_once(monkeypatch) -> None:
    import ast

    from featmesh.connector.sources.feast import pylines
    from featmesh.policies.locations import place

    parsed: list[str] = []
    real = ast.parse

    def counting(source, filename="<unknown>", *args, **kwargs):
        parsed.append(filename)
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(pylines.ast, "parse", counting)
    store = scan()
    assert parsed == []  # reading the registry reads no Python
    view, odfv = store.feature_sets
    assert place(view.origin, "owner_present", None).line == 20
    assert place(odfv.origin, "feature_description", "conv_rate_plus_val1").line == 44
    assert [Path(p).name for p in parsed] == ["definitions.py"]  # once for the whole repo


def test_without_the_repo_a_finding_stays_at_the_registry(tmp_path) -> None:
    import shutil

    from featmesh.policies.locations import place

    copy = tmp_path / "registry.db"
    shutil.copy(REGISTRY, copy)
    spec = parse_source(f"feast:{copy}")
    (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
    origin = place(store.feature_sets[0].origin, "owner_present", None)
    assert (origin.path, origin.line) == (str(copy), None)
