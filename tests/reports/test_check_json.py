"""The ``featmesh check --json`` document's ``results``: every result of the evaluation,
the implicit passes included, each as :func:`_result` writes it."""

from __future__ import annotations

import datetime as dt

from featmesh.connector.model import Origin
from featmesh.connector.reports.check_json import _result, check_document
from featmesh.connector.runreport import RunReport
from featmesh.policies import evaluate, load_policy, summarize
from featmesh.policies.waivers import WaiverSet, make_waiver
from tests.policies.helpers import feature, good_set

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def test_results_are_every_result_in_order():
    waiver = make_waiver(
        rule="feature-naming",
        target="*#DebtRatio",
        owner="risk-ml@contoso.com",
        reason="Kept for the scorecard model.",
        expires=dt.date(2026, 12, 31),
        origin=Origin(path="waivers.yaml", line=4, pointer="waivers[0]"),
    )
    here = Origin(path="features/risk.yaml", line=7, pointer="feature_sets[0]")
    sets = [
        good_set(
            features=(feature("customer_email"), feature("DebtRatio"), feature("ok_one"), feature("ok_two")),
            origin=here,
        ),
        good_set(name="no_origin", owner=None, origin=None),
    ]
    evaluation = evaluate(load_policy(), sets, waivers=WaiverSet([waiver], "waivers.yaml"), now=NOW)
    document = check_document(evaluation, summarize(evaluation), RunReport("check"), {})
    expected = [_result(r) for r in evaluation.results(include_passed=True)]
    assert document["results"] == expected
    states = {r["state"] for r in expected}
    assert {"passed", "failed", "skipped"} <= states
    implicit = [r for r in expected if r["state"] == "passed" and r["target"].endswith("#ok_two")]
    assert implicit and all(r["location"] == {"path": here.path, "line": 7} for r in implicit)
    assert any(r["state"] == "passed" and "location" not in r for r in expected)  # the set without one
