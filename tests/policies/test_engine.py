"""Engine states (error, out of scope), outcomes for the catalog, the JSON blocks."""

from __future__ import annotations

import datetime as dt

from featmesh.policies import (
    COMPLIANT,
    NON_COMPLIANT,
    State,
    all_checks,
    classification_outcomes,
    contract_blocks,
    evaluate,
    load_policy,
)
from featmesh.policies.registry import check
from featmesh.policies.types import PASS, SkipReason, fail
from tests.policies.helpers import feature, good_set


@check("explodes", dimension="quality")
def explodes(fs, p, ctx):
    """Raises on sets named boom.

    Fails:  never; Passes: anything not named boom
    """
    if fs.name == "boom":
        raise RuntimeError("kaboom")
    return PASS


@check("explodes_midway", target="feature", dimension="quality")
def explodes_midway(fs, p, ctx):
    """Yields one failure, then raises.

    Fails:  x; Passes: y
    """
    yield fs.features[0].name, fail("first")
    raise KeyError("second")


def _policy(make_pack, rules, extra_checks=()):
    checks = {**all_checks(), **{c.id: c for c in extra_checks}}
    return load_policy([str(make_pack({"name": "t", "rules": rules}))], checks=checks)


def test_a_check_that_raises_is_an_error_and_the_run_goes_on(make_pack) -> None:
    policy = _policy(
        make_pack,
        [
            {"id": "x", "check": "explodes", "severity": "error"},
            {"id": "y", "check": "explodes_midway", "severity": "error"},
            {"id": "owner", "check": "owner_present", "severity": "error"},
        ],
        [explodes, explodes_midway],
    )
    ev = evaluate(policy, [good_set(name="boom"), good_set(name="fine")])
    got = {(r.target.rsplit("/", 1)[-1], r.rule): r for r in ev.results(include_passed=True)}
    assert got[("boom@1", "x")].state is State.ERROR
    assert "raised RuntimeError: kaboom" in got[("boom@1", "x")].message
    assert got[("fine@1", "x")].state is State.PASSED
    assert got[("boom@1", "y")].state is State.ERROR  # a half-run feature check is one error
    assert got[("boom@1", "owner")].state is State.PASSED
    assert len(ev.errors()) == 3
    assert contract_blocks(ev)["findings"]["check_errors"] == 3


def test_out_of_scope_is_skipped_and_leaves_the_score(make_pack) -> None:
    policy = _policy(
        make_pack,
        [
            {
                "id": "owner",
                "check": "owner_present",
                "severity": "error",
                "scope": {"domains": ["risk"]},
            },
            {
                "id": "naming",
                "check": "feature_naming",
                "severity": "warning",
                "scope": {"domains": ["risk"]},
            },
        ],
    )
    fs = good_set(owner=None)
    ev = evaluate(policy, [fs])
    results = list(ev.results())
    assert [(r.state, r.reason, r.target) for r in results] == [
        (State.SKIPPED, SkipReason.OUT_OF_SCOPE, fs.qualified_name),
        (State.SKIPPED, SkipReason.OUT_OF_SCOPE, fs.qualified_name),
    ]
    assert contract_blocks(ev)["score"]["mesh"] == 100.0


def test_classification_outcomes_per_set_and_feature() -> None:
    policy = load_policy()
    now = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone.utc)
    bad = good_set(name="bad", features=(feature("customer_email"), feature("txn_count")))
    ok = good_set(name="ok", features=(feature("txn_count"), feature("AmountSum")))
    ev = evaluate(policy, [bad, ok], now=now)
    outcomes = {o.qualified_name: o for o in classification_outcomes(ev, run_id="run1")}
    s_bad = outcomes[bad.qualified_name]
    assert s_bad.classification == NON_COMPLIANT and s_bad.type_name == "featmesh_feature_set"
    assert s_bad.attributes == {
        "score": s_bad.attributes["score"],
        "grade": "F",
        "policyPack": "mesh-baseline",
        "policyPackVersion": "1.0.0",
        "evaluatedAt": 1772353800000,
        "criticalCount": 1,
        "errorCount": 0,
        "warningCount": 0,
        "infoCount": 0,
        "waivedCount": 0,
        "runId": "run1",
    }
    assert s_bad.attributes["score"] == 40.0
    email = outcomes[bad.feature_qn("customer_email")]
    assert email.classification == NON_COMPLIANT and email.type_name == "featmesh_feature"
    assert outcomes[bad.feature_qn("txn_count")].classification == COMPLIANT
    assert outcomes[ok.qualified_name].classification == COMPLIANT  # a warning only
    assert outcomes[ok.feature_qn("AmountSum")].attributes["warningCount"] == 1
    assert outcomes[ok.feature_qn("AmountSum")].to_json()["typeName"] == COMPLIANT


def test_contract_blocks_shape() -> None:
    ev = evaluate(load_policy(), [good_set(), good_set(name="r", store="risk", domain="risk", owner=None)])
    blocks = contract_blocks(ev)
    assert set(blocks["findings"]) >= {"critical", "error", "warning", "info", "waived"}
    assert blocks["findings"]["error"] == 1
    assert set(blocks["score"]) >= {"mesh", "grade", "domains"}
    assert set(blocks["score"]["domains"]) == {"payments", "risk"}
    assert blocks["score"]["domains"]["payments"] == 100.0
