"""``featmesh check --format junit`` validates against a published JUnit XML schema: the
Jenkins xUnit plugin's ``junit-10.xsd`` (MIT; source and licence in
``tests/data/junit/README.md``), the schema a Jenkins job checks JUnit input with.

Each report shape is validated: findings, waived and skipped rules, waiver findings, a file
that could not be read (the suite ``inputs``) and a run that read nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from featmesh.connector.model import Origin
from featmesh.connector.reports.junit import render_junit
from featmesh.connector.runreport import InputProblem
from featmesh.policies import evaluate, load_policy, summarize
from featmesh.policies.waivers import WaiverSet, make_waiver
from tests.conftest import run
from tests.policies.helpers import feature, good_set

XSD = Path(__file__).parents[1] / "data" / "junit" / "junit-10.xsd"
FIXTURES = Path(__file__).parents[1] / "policies" / "fixtures"
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(XSD)))


def assert_valid(schema, text: str) -> None:
    document = etree.fromstring(text.encode("utf-8"))
    if not schema.validate(document):
        problems = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"JUnit report breaks junit-10.xsd:\n{problems}")


def _evaluation(expired: bool = False):
    waiver = make_waiver(
        rule="feature-naming",
        target="*#DebtRatio",
        owner="risk-ml@contoso.com",
        reason="Kept for the scorecard model.",
        expires=dt.date(2026, 5, 1) if expired else dt.date(2026, 12, 31),
        origin=Origin(path="waivers.yaml", line=4, pointer="waivers[0]"),
    )
    sets = [
        good_set(features=(feature("customer_email"), feature("DebtRatio"), feature("ok_one"))),
        good_set(name="no_origin", owner=None, origin=None),
    ]
    return evaluate(load_policy(), sets, waivers=WaiverSet([waiver], "waivers.yaml"), now=NOW)


def test_findings_waivers_and_skips_validate(schema) -> None:
    evaluation = _evaluation()
    text = render_junit(evaluation, summarize(evaluation))
    assert "<failure" in text and "<skipped" in text
    assert_valid(schema, text)


def test_waiver_findings_and_input_problems_validate(schema) -> None:
    evaluation = _evaluation(expired=True)
    assert evaluation.extra  # the expired waiver is a finding of the suite 'waivers'
    problem = InputProblem(
        path="features/typo.yaml", line=3, message="invalid YAML: <&>", source="manifest:features"
    )
    text = render_junit(
        evaluation, summarize(evaluation), problems=[problem], failures=["catalog atlas+https://h: refused"]
    )
    assert 'name="inputs"' in text and 'name="waivers"' in text
    assert_valid(schema, text)


def test_the_schema_catches_a_broken_report(schema) -> None:
    """The validation can fail: a suite without its required counts is refused."""
    with pytest.raises(AssertionError, match="tests"):
        assert_valid(schema, '<testsuites><testsuite name="x" failures="0" errors="0"/></testsuites>')


@pytest.mark.parametrize(
    "args",
    [["failing"], ["broken"], ["unreadable"]],
    ids=["findings", "one-broken-file", "nothing-read"],
)
def test_every_check_report_file_validates(schema, tmp_path: Path, args: list[str]) -> None:
    if args == ["failing"]:
        source = str(FIXTURES / "failing")
    elif args == ["broken"]:
        folder = tmp_path / "features"
        folder.mkdir()
        (folder / "good.yaml").write_text((FIXTURES / "failing" / "risk.yaml").read_text())
        (folder / "typo.yaml").write_text("apiVersion: featmesh/v1\nstore: {name: risk\nfeature_sets: []\n")
        source = str(folder)
    else:
        bad = tmp_path / "bad.yaml"
        bad.write_text("apiVersion: featmesh/v1\nstore: {name: x}\nfeature_sets: [{name: a}]\n")
        source = f"manifest:{bad}"
    out = tmp_path / "report.xml"
    result = run("check", source, "--format", "junit", "-o", str(out))
    assert result.exit_code in (1, 2, 3), result.output
    assert_valid(schema, out.read_text())
