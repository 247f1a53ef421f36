"""`featmesh check` and `featmesh policies` end to end (CliRunner, offline)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import featmesh.connector.catalog
from featmesh.connector.cli import cli
from featmesh.connector.errors import CatalogError
from tests.policies.helpers import feature, good_set

FIXTURES = Path(__file__).parent / "fixtures"
CLEAN = str(FIXTURES / "clean")
FAILING = str(FIXTURES / "failing")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_clean_repo_exits_0_with_the_json_contract() -> None:
    result = run("check", CLEAN, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["status"] == "ok"
    assert set(doc) >= {"run_id", "status", "sources", "counts", "findings", "score", "results"}
    assert doc["sources"] == [
        {
            "uri": f"manifest:{CLEAN}",
            "kind": "manifest",
            "status": "ok",
            "feature_sets": 1,
            "error": None,
        }
    ]
    assert doc["counts"] == {
        "stores": 1,
        "feature_sets": 1,
        "features": 2,
        "entities": 1,
        "lineage": 1,
    }
    assert doc["findings"] == {
        "critical": 0,
        "error": 0,
        "warning": 0,
        "info": 0,
        "waived": 0,
        "check_errors": 0,
    }
    assert doc["score"]["mesh"] == 100.0 and doc["score"]["domains"] == {"payments": 100.0}
    assert {r["state"] for r in doc["results"]} == {"passed", "skipped"}
    assert set(doc["results"][0]) >= {"rule", "target", "state", "severity", "message"}


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("error", 1), ("never", 0)])
def test_fail_on(fail_on: str, code: int) -> None:
    assert run("check", FAILING, "--fail-on", fail_on).exit_code == code


def test_text_report_lists_findings_and_waivers() -> None:
    result = run("check", FAILING, "--waivers", str(FIXTURES / "waivers.yaml"))
    assert result.exit_code == 1
    out = result.stdout
    assert "risk.yaml:20:1: pii-tagged-by-name [critical] customer_email: " in out
    assert "risk.yaml:21:1: feature-naming [waived] DebtRatio: " in out
    assert "featmesh.waiver-too-long" in out
    assert "mesh score" in out


def test_bad_pack_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: t\nversion: 1\nrules:\n"
        "  - {id: a, check: nope, severity: error}\n"
    )
    result = run("check", CLEAN, "--policy", str(pack))
    assert result.exit_code == 2
    assert f"{pack}:6: rules[0].check: unknown check 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_every_source_failing_on_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: featmesh/v1\nstore: {name: x}\nfeature_sets: [{name: a}]\n")
    result = run("check", f"manifest:{bad}")
    assert result.exit_code == 2 and str(bad) in result.stderr


def test_one_source_failing_exits_3_after_reporting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: featmesh/v1\nstore: {name: x}\nfeature_sets: [{name: a}]\n")
    result = run("check", FAILING, f"manifest:{bad}", "--json")
    assert result.exit_code == 3  # findings would give 1: an incomplete run says so first
    doc = json.loads(result.stdout)
    assert doc["status"] == "partial"
    assert [s["status"] for s in doc["sources"]] == ["ok", "failed"]
    assert doc["findings"]["critical"] == 1


def test_sarif_and_junit_files(tmp_path: Path) -> None:
    sarif = tmp_path / "out.sarif"
    result = run(
        "check",
        FAILING,
        "--format",
        "sarif",
        "--output",
        str(sarif),
        "--waivers",
        str(FIXTURES / "waivers.yaml"),
    )
    assert result.exit_code == 1 and result.stdout == ""
    doc = json.loads(sarif.read_text())
    assert doc["version"] == "2.1.0"
    junit = tmp_path / "out.xml"
    run("check", FAILING, "--format", "junit", "-o", str(junit))
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and int(root.get("failures", "0")) > 0


class FakeCatalog:
    def __init__(self, sets):
        self.sets = sets
        self.closed = False

    def published_feature_sets(self, **_):
        return self.sets

    def feature_set_versions(self, store_kind, store, name):
        return [
            fs.version for fs in self.sets if (fs.store_kind, fs.store, fs.name) == (store_kind, store, name)
        ]

    def runs(self, limit=50):
        return []

    def last_scan(self, **_):
        return None

    def published_models(self):
        return []

    def current(self, keys, scopes):
        return {}

    def close(self):
        self.closed = True


def test_catalog_lets_mesh_checks_see_other_domains(monkeypatch) -> None:
    other = good_set(
        name="customer_profile",
        store="crm",
        domain="customer",
        features=(feature("bureau_score", "string"),),
    )
    fake = FakeCatalog([other])
    opened = []

    def open_catalog(uri, *, read_only=False):
        opened.append((uri, read_only))
        return fake

    monkeypatch.setattr(featmesh.connector.catalog, "open_catalog", open_catalog, raising=False)
    result = run("check", FAILING, "--catalog", "atlas+https://atlas.example", "--json")
    doc = json.loads(result.stdout)
    conflicts = [
        r for r in doc["results"] if r["rule"] == "feature-meaning-conflict" and r["state"] == "failed"
    ]
    assert [r["target"] for r in conflicts] == ["featmesh://manifest/risk/customer_risk@1#bureau_score"]
    assert opened == [("atlas+https://atlas.example", True)] and fake.closed


def test_unreachable_catalog_exits_3(monkeypatch) -> None:
    def open_catalog(uri, *, read_only=False):
        raise CatalogError("connection refused")

    monkeypatch.setattr(featmesh.connector.catalog, "open_catalog", open_catalog, raising=False)
    result = run("check", CLEAN, "--catalog", "atlas+https://atlas.example:21000")
    assert result.exit_code == 3 and "connection refused" in result.stderr


def test_policies_commands(tmp_path: Path) -> None:
    listed = json.loads(run("policies", "list", "--json").stdout)
    assert len(listed) >= 20
    assert set(listed[0]) == {"id", "check", "severity", "dimension", "description"}
    explained = run("policies", "explain", "stale-derived").stdout
    assert "Fails:" in explained and "Passes:" in explained and "parent_hashes" in explained
    schema = json.loads(run("policies", "schema").stdout)
    assert schema["title"] == "featmesh policy pack"
    ok = run("policies", "validate", str(FIXTURES / "waivers.yaml"))
    assert ok.exit_code == 0 and "1 waivers" in ok.stdout
    pack = tmp_path / "p.yaml"
    pack.write_text(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: p\nversion: 1\nextends: [mesh-baseline]\n"
        "overrides:\n  owner-principal:\n    params: {pattern: '(unclosed'}\n"
    )
    bad = run("policies", "validate", str(pack))
    assert bad.exit_code == 2 and f"{pack}:8:" in bad.stderr and "bad regex" in bad.stderr
    assert run("policies", "explain", "no-such-rule").exit_code == 2


def _broken_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "good.yaml").write_text((FIXTURES / "failing" / "risk.yaml").read_text())
    (folder / "typo.yaml").write_text("apiVersion: featmesh/v1\nstore: {name: risk\nfeature_sets: []\n")
    return folder


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "text"])
def test_one_broken_file_is_a_result_in_every_format_the_rest_checked(tmp_path: Path, fmt: str) -> None:
    folder = _broken_folder(tmp_path)
    out = tmp_path / f"report.{fmt}"
    result = run("check", str(folder), "--format", fmt, "-o", str(out))
    assert result.exit_code == 3, result.output  # incomplete: a file could not be used
    assert "featmesh: exit 3: the run is incomplete: 1 file could not be used" in result.stderr
    text = out.read_text()
    typo = str(folder / "typo.yaml")
    if fmt == "json":
        doc = json.loads(text)
        (problem,) = doc["problems"]
        assert (problem["path"], problem["line"], problem["source"]) == (typo, 3, f"manifest:{folder}")
        assert "invalid YAML" in doc["problems"][0]["message"]
        assert doc["counts"]["feature_sets"] == 2 and doc["findings"]["critical"] == 1
    elif fmt == "sarif":
        import jsonschema

        from tests.policies.test_reports import sarif_schema

        doc = json.loads(text)
        jsonschema.Draft4Validator(sarif_schema()).validate(doc)
        run_ = doc["runs"][0]
        (broken,) = [r for r in run_["results"] if r["ruleId"] == "featmesh.input-error"]
        assert broken["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
        assert broken["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("typo.yaml")
        (note,) = run_["invocations"][0]["toolExecutionNotifications"]
        assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
        assert run_["invocations"][0]["executionSuccessful"] is False
        assert any(r["ruleId"] == "pii-tagged-by-name" for r in run_["results"])
    elif fmt == "junit":
        root = ET.fromstring(text)
        (case,) = [c for c in root.iter("testcase") if c.get("classname") == typo]
        assert case.find("failure") is not None and "invalid YAML" in case.find("failure").get("message")
        assert any(c.get("name") == "pii-tagged-by-name" for c in root.iter("testcase"))
    else:
        assert "typo.yaml:3:1: featmesh.input-error [error] invalid YAML" in text
        assert "good.yaml:20:1: pii-tagged-by-name [critical]" in text


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_every_source_failing_still_writes_a_complete_document(tmp_path: Path, fmt: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: featmesh/v1\nstore: {name: x}\nfeature_sets: [{name: a}]\n")
    out = tmp_path / f"report.{fmt}"
    result = run("check", f"manifest:{bad}", "--format", fmt, "-o", str(out))
    assert result.exit_code == 2, result.output
    assert "featmesh: exit 2: no source could be read" in result.stderr
    text = out.read_text()
    if fmt == "json":
        doc = json.loads(text)
        assert doc["status"] == "failed" and doc["problems"][0]["path"] == str(bad)
    elif fmt == "sarif":
        import jsonschema

        from tests.policies.test_reports import sarif_schema

        doc = json.loads(text)
        jsonschema.Draft4Validator(sarif_schema()).validate(doc)
        assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["featmesh.input-error"]
    else:
        root = ET.fromstring(text)
        assert root.get("failures") == "1"


def test_sarif_results_point_at_the_key_to_fix(tmp_path: Path) -> None:
    manifest = tmp_path / "risk.yaml"
    manifest.write_text(
        "apiVersion: featmesh/v1\n"
        "store: {name: risk, domain: risk}\n"  # 2
        "feature_sets:\n"
        "  - name: scores\n"  # 4
        "    description: Risk scores per customer, refreshed nightly.\n"
        "    features:\n"
        "      - name: ok_score\n"  # 7
        "        dtype: int64\n"
        "        description: A score.\n"
        "      - name: bad_one\n"  # 10
        "        dtype: map\n"  # 11
        "        description: A map.\n"
    )
    out = tmp_path / "out.sarif"
    run("check", str(manifest), "--format", "sarif", "-o", str(out))
    doc = json.loads(out.read_text())
    lines = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in doc["runs"][0]["results"]
    }
    assert lines["dtype-allowlist"] == 11  # the dtype key of the feature, not the set's '- name:'
    assert lines["owner-present"] == 4  # missing: the set that should declare it
    import jsonschema

    from tests.policies.test_reports import sarif_schema

    jsonschema.Draft4Validator(sarif_schema()).validate(doc)


def test_an_inherited_key_points_at_the_block_it_comes_from(tmp_path: Path) -> None:
    manifest = tmp_path / "risk.yaml"
    manifest.write_text(
        "apiVersion: featmesh/v1\n"
        "store:\n"
        "  name: risk\n"
        "  owner: not-an-address\n"  # 4
        "feature_sets:\n"
        "  - name: scores\n"
        "    features: [{name: s, dtype: int64}]\n"
    )
    result = run("check", str(manifest), "--json")
    doc = json.loads(result.stdout)
    assert doc["results"]
    out = tmp_path / "out.sarif"
    run("check", str(manifest), "--format", "sarif", "-o", str(out))
    results = json.loads(out.read_text())["runs"][0]["results"]
    owner = [r for r in results if r["ruleId"] == "owner-principal"]
    assert owner and owner[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_config_sources_are_the_default(tmp_path: Path) -> None:
    config = tmp_path / "featmesh.yaml"
    config.write_text(f"version: 1\nsources:\n  - uri: manifest:{CLEAN}\n")
    result = run("check", "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    assert [s["uri"] for s in json.loads(result.stdout)["sources"]] == [f"manifest:{CLEAN}"]


def test_a_missing_local_catalog_is_exit_2_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = run("check", CLEAN, "--catalog", f"local:{missing}")
    assert result.exit_code == 2
    assert f"no catalog file at {missing}" in result.stderr
    assert not missing.exists()


def test_exit_1_says_why(tmp_path: Path) -> None:
    result = run("check", FAILING)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "featmesh: exit 1: 5 unwaived findings at or above error (fail_on: the default --fail-on)"
    )


def test_did_you_mean_for_commands_and_rule_ids() -> None:
    result = CliRunner().invoke(cli, ["chek"])
    assert result.exit_code == 2 and "Did you mean 'check'?" in result.output
    result = CliRunner().invoke(cli, ["policies", "explain", "owner-presnt"])
    assert result.exit_code == 2 and "did you mean 'owner-present'?" in result.output


TEAM_PACK = (
    "apiVersion: featmesh/v1\nkind: PolicyPack\nname: team\nversion: 1\nextends: [mesh-baseline]\n"
    "rules:\n  - {id: team-owner, check: owner_present, severity: error}\n"
)


def test_validate_reads_waivers_in_the_context_of_the_packs_named_and_reports_every_error(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "team.yaml"
    pack.write_text(TEAM_PACK)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "apiVersion: featmesh/v1\nkind: Waivers\nwaivers:\n"
        '  - {rule: team-owner, target: "*", owner: a@x.com, reason: long reason here, expires: 2099-01-01}\n'
        '  - {rule: team-owner, target: "*", reason: long reason here, expires: 2099-01-01}\n'
        '  - {rule: nope-rule, target: "*", owner: a@x.com, reason: long reason here, expires: 2099-01-01}\n'
        '  - {rule: team-owner, target: "*", owner: a@x.com, reason: long reason here, expires: soon}\n'
    )
    result = run("policies", "validate", str(pack), str(waivers))
    assert result.exit_code == 2
    assert f"{waivers}:6: waivers[2].rule: unknown rule 'nope-rule'" in result.stderr
    assert f"{waivers}:7: waivers[3].expires: not a date" in result.stderr  # both, in one pass
    assert "featmesh: exit 2: 2 errors in 1 file\n" in result.stderr
    # what check will say about the entry without an owner, at its line
    assert f"{waivers}:5 (waivers[1]): featmesh.waiver-malformed [warning]" in result.stdout
    ok = tmp_path / "ok.yaml"
    ok.write_text("\n".join(waivers.read_text().splitlines()[:5]) + "\n")
    result = run("policies", "validate", str(pack), str(ok))
    assert result.exit_code == 0, result.output
    assert f"{ok}: ok, 1 waivers for team" in result.stdout and "1 malformed" in result.stdout
    # check with the same pack accepts the same file
    assert run("check", CLEAN, "--policy", str(pack), "--waivers", str(ok)).exit_code in (0, 1)


def test_runs_and_report_take_the_config_catalog(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "featmesh.yaml"
    config.parent.mkdir()
    config.write_text(
        f"version: 1\nsources:\n  - uri: manifest:{CLEAN}\ncatalog: {{uri: 'local:../cat/c.db'}}\n"
        "report: {format: markdown, output: out/r.md}\n"
    )
    result = run("runs", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"no runs recorded in local:{tmp_path / 'cat' / 'c.db'}" in result.stdout  # normalised
