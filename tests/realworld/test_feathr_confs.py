"""Feathr's own confs as published (feathr-ai/feathr, see feathr/SOURCE.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

from featmesh.connector.model import DERIVED, PASSTHROUGH, FeatureSet, FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source
from featmesh.policies import evaluate, load_policy

FEATHR = Path(__file__).parent / "feathr"


def scan(location: Path, **options: str) -> FeatureStore:
    spec = parse_source(f"feathr:{location}", options or None)
    (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
    return store


def sets(store: FeatureStore) -> dict[str, FeatureSet]:
    return {fs.name: fs for fs in store.feature_sets}


def test_engine_conf_counts_and_inherited_keys() -> None:
    found = sets(scan(FEATHR / "default-conf"))
    assert sum(fs.kind != DERIVED for fs in found.values()) == 7
    assert sum(fs.kind == DERIVED for fs in found.values()) == 5
    derived = found["derivedF1"]  # "isPresent(anchoredF1) ? Math.log(anchoredF1) : null"
    assert [r.name for r in derived.derived_from] == ["anchor1"]
    assert [k.name for k in derived.join_keys] == ["mId"] and derived.extra["keys_inherited"] is True
    two_keys = found["multi_key_simple_mvel_feature"]
    assert [k.name for k in two_keys.join_keys] == [k.name for k in found["anchor4"].join_keys]


def test_key_expressions_extractors_and_passthrough() -> None:
    found = sets(scan(FEATHR / "swa-extractor"))
    (key,) = found["swaAnchor"].join_keys
    assert key.expression == "substring(x, 0)"
    assert [k.expression for k in found["swaAnchor2"].join_keys] == [None]
    extractor = found["swaAnchorWithKeyExtractor3"]
    assert extractor.extra["key_extractor"].endswith("SimpleSampleKeyExtractor2")
    assert found["ptAnchor"].kind == PASSTHROUGH
    (single,) = scan(FEATHR / "key-extractor").feature_sets
    assert single.extra["key_extractor"] == "com.linkedin.feathr.offline.SeqJoinExpansionKeyExtractor"


def test_passthrough_and_untyped_get_rules_that_fit() -> None:
    store = scan(FEATHR / "swa-extractor")
    evaluation = evaluate(load_policy(), list(store.feature_sets))
    by_rule = {}
    for r in evaluation.results():
        if r.feature_set.endswith("/ptAnchor@latest"):
            by_rule.setdefault(r.rule, set()).add((r.state.value, r.reason.value if r.reason else None))
    assert by_rule["source-resolves"] == {("skipped", "not_applicable")}
    assert by_rule["version-present"] == {("skipped", "not_applicable")}
    assert by_rule["dtype-allowlist"] == {("skipped", "not_applicable")}
    assert by_rule["feature-type-declared"] == {("failed", None)}


def test_store_named_by_project_name_or_by_the_source(tmp_path: Path) -> None:
    for team in ("a", "b"):
        root = tmp_path / team / "workspace"
        shutil.copytree(FEATHR / "swa-extractor", root)
    shutil.copy(FEATHR / "user-workspace" / "feathr_config.yaml", tmp_path / "a" / "workspace")
    assert scan(tmp_path / "a" / "workspace").name == "feathr_getting_started"
    assert scan(tmp_path / "b" / "workspace").name == "workspace"
    renamed = scan(tmp_path / "b" / "workspace", store="team_b")
    assert renamed.name == "team_b" and {fs.store for fs in renamed.feature_sets} == {"team_b"}


def test_featmesh_yaml_names_the_store_of_each_source(tmp_path: Path) -> None:
    from featmesh.connector.config import load_config
    from featmesh.connector.runreport import RunReport
    from featmesh.connector.scan.read import read_sources

    for team in ("a", "b"):
        shutil.copytree(FEATHR / "swa-extractor", tmp_path / team / "workspace")
    config = tmp_path / "featmesh.yaml"
    config.write_text(
        "version: 1\nsources:\n"
        "  - {uri: 'feathr:a/workspace', store: payments_feathr}\n"
        "  - {uri: 'feathr:b/workspace', store: risk_feathr}\n"
    )
    report = RunReport(command="test")
    result = read_sources(load_config(config).sources, report)
    assert [s.status for s in report.sources] == ["ok", "ok"]
    assert [s.name for s in result.stores] == ["payments_feathr", "risk_feathr"]


def test_scan_store_name_option(tmp_path: Path) -> None:
    from tests.conftest import run, run_json

    result, summary = run_json(
        "scan",
        f"feathr:{FEATHR / 'swa-extractor'}",
        "--store-name",
        "swa_team",
        "--dry-run",
        "--json",
        "--catalog",
        f"local:{tmp_path / 'c.db'}",
    )
    assert result.exit_code == 0, result.stderr
    assert "featmesh://feathr/swa_team/swaAnchor@latest" in summary["revisions"]
    two = run("scan", str(FEATHR / "swa-extractor"), str(FEATHR / "key-extractor"), "--store-name", "x")
    assert two.exit_code == 2 and "exactly one" in two.stderr


def test_check_store_name_option(tmp_path: Path) -> None:
    """``check --store-name`` names the store as ``scan --store-name`` and a source's
    ``store:`` do: two workspaces in folders of one name stay two stores."""
    from tests.conftest import run, run_json

    for team in ("a", "b"):
        shutil.copytree(FEATHR / "swa-extractor", tmp_path / team / "workspace")
    names = []
    for team in ("a", "b"):
        result, summary = run_json(
            "check", f"feathr:{tmp_path / team / 'workspace'}", "--store-name", f"team_{team}", "--json"
        )
        assert result.exit_code in (0, 1), result.stderr
        names.append(set(summary["sets"]))
    assert "featmesh://feathr/team_a/swaAnchor@latest" in names[0]
    assert "featmesh://feathr/team_b/swaAnchor@latest" in names[1]
    a, b = (str(tmp_path / t / "workspace") for t in ("a", "b"))
    two = run("check", a, b, "--store-name", "x")
    assert two.exit_code == 2 and "exactly one" in two.stderr
    for bad in ("a/b", "team a", "x@1", ""):
        for command in ("check", "scan"):
            extra = ("--dry-run",) if command == "scan" else ()
            refused = run(command, str(tmp_path / "a" / "workspace"), "--store-name", bad, *extra)
            assert refused.exit_code == 2, (command, bad, refused.stdout)
            assert "--store-name" in refused.stderr and "Traceback" not in refused.stderr


def test_a_java_class_in_an_expression_is_not_an_input() -> None:
    spec = parse_source(f"feathr:{FEATHR / 'default-conf'}")
    report = SourceReport(uri=spec.uri, kind=spec.kind)
    read_source(spec, report)
    assert not any("'Math'" in w for w in report.warnings.items)


SHARED_CONF = Path(__file__).parents[2].parent / "shared" / "fixtures" / "feathr" / "features.conf"


def _place(fs: FeatureSet, check: str, feature: str | None = None) -> tuple[str, int | None]:
    from featmesh.policies.locations import place

    where = place(fs.origin, check, feature)
    return Path(where.path).name, where.line


def test_findings_point_at_the_conf_lines_of_their_keys() -> None:
    """pyhocon keeps no positions: the lines come from a token search of the conf, inside
    the anchor's own block (``swaAnchor``'s ``explode(features)`` and ``'f1'`` in a filter
    are not taken for its ``features`` block or its feature ``f1``)."""
    found = sets(scan(FEATHR / "swa-extractor"))
    swa = found["swaAnchor"]
    assert _place(swa, "owner_present") == ("swaWithExtractor.conf", 25)  # the anchor
    assert _place(swa, "source_resolves") == ("swaWithExtractor.conf", 26)  # source:
    assert _place(swa, "join_keys_typed") == ("swaWithExtractor.conf", 27)  # key:
    assert _place(swa, "feature_description", "f1") == ("swaWithExtractor.conf", 33)
    assert _place(found["swaAnchor2"], "feature_naming", "f1Sum") == ("swaWithExtractor.conf", 51)


def test_a_feature_type_is_placed_at_its_type_block() -> None:
    found = sets(scan(SHARED_CONF))
    anchor = found["nonAggFeatures"]
    assert _place(anchor, "dtype_allowlist", "f2") == ("features.conf", 18)  # f2's 'type : {'
    assert _place(anchor, "feature_description", "f2") == ("features.conf", 16)
    assert _place(anchor, "feature_description", "f_gen_day_of_week") == ("features.conf", 70)


def test_key_lines_are_searched_only_when_asked(monkeypatch) -> None:
    from featmesh.connector.sources.feathr import lines

    calls: list[str] = []
    real = lines.key_lines
    monkeypatch.setattr(lines, "key_lines", lambda *a: calls.append(a[2]) or real(*a))
    monkeypatch.setattr("featmesh.connector.sources.feathr.reader.key_lines", lines.key_lines)
    found = sets(scan(SHARED_CONF))
    assert calls == []
    _place(found["nonAggFeatures"], "owner_present")
    assert calls == ["nonAggFeatures"]
