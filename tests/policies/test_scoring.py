"""The scoring formula (policies/scoring.py docstring), pinned by worked examples."""

from __future__ import annotations

import pytest

from featmesh.policies import evaluate, load_policy, summarize
from featmesh.policies.scoring import feature_scores
from tests.policies.helpers import feature, good_set, profile


@pytest.fixture
def pack(make_pack):
    rules = [
        {"id": "owner", "check": "owner_present", "severity": "error"},
        {"id": "desc", "check": "set_description", "severity": "warning"},
        {"id": "naming", "check": "feature_naming", "severity": "warning"},
        {"id": "nulls", "check": "null_fraction", "severity": "error"},
    ]
    return load_policy([str(make_pack({"name": "t", "rules": rules}))])


def test_worked_example_from_the_docstring(pack) -> None:
    # owner passed (error, 4), desc failed (warning, 2), naming 3 of 4 (warning, 2),
    # nulls not applicable (no profile): 100 * (4 + 0 + 1.5) / 8 = 68.75 -> 68.8, D
    fs = good_set(description="", features=tuple(feature(n) for n in ("a", "b", "c", "NotSnake")))
    summary = summarize(evaluate(pack, [fs]))
    score = summary.sets[fs.qualified_name]
    assert score.score == 68.8 and score.grade == "D"
    assert score.dimensions == {"documentation": 0.0, "ownership": 100.0, "standardization": 75.0}
    assert score.compliant  # failures only at warning


def test_a_critical_failure_caps_the_score(make_pack) -> None:
    rules = [
        {"id": "owner", "check": "owner_present", "severity": "error"},
        {"id": "pii", "check": "pii_tagged_by_name", "severity": "critical"},
    ]
    policy = load_policy([str(make_pack({"name": "t", "rules": rules}))])
    # owner 4*1; pii 9 of 10 features pass: 8*0.9 = 7.2 -> 100*11.2/12 = 93.3, capped at 40
    fs = good_set(features=(feature("customer_email"), *(feature(f"f{i}") for i in range(9))))
    score = summarize(evaluate(policy, [fs])).sets[fs.qualified_name]
    assert score.score == 40.0 and score.grade == "F" and not score.compliant
    assert score.counts["critical"] == 1


def test_domains_and_mesh_are_means(pack) -> None:
    # payments: mean(100, 68.8) = 84.4; risk: owner fails, 100 * (0 + 2 + 2) / 8 = 50
    a = good_set(name="a")
    b = good_set(name="b", description="", features=tuple(feature(n) for n in ("a", "b", "c", "NotSnake")))
    c = good_set(name="c", store="risk", domain="risk", owner=None)  # 100 * (0 + 2 + 2) / 8 = 50
    ev = evaluate(pack, [a, b, c])
    summary = summarize(ev)
    assert summary.sets[a.qualified_name].score == 100.0
    assert summary.sets[c.qualified_name].score == 50.0
    assert summary.domains["payments"].score == 84.4  # mean(100, 68.75 rounded 68.8) = 84.4
    assert summary.domains["risk"].score == 50.0
    assert summary.mesh == 67.2 and summary.grade == "D"  # mean(84.4, 50) = 67.2


def test_not_applicable_and_waived_leave_the_denominator(pack) -> None:
    fs = good_set(features=(feature("a"), feature("b")))
    prof = {fs.qualified_name: profile(fs, [{"name": "a", "null_count": 500}])}  # b not profiled
    # owner 4, desc 2, naming 2 pass; nulls: a fails, b not applicable -> credit 0/1, weight 4:
    # 100 * 8 / 12 = 66.7 (had 'b' counted as a pass, nulls would give 0.5: 83.3)
    score = summarize(evaluate(pack, [fs], profiles=prof)).sets[fs.qualified_name]
    assert score.score == 66.7
    features = feature_scores(evaluate(pack, [fs], profiles=prof).runs[fs.qualified_name], pack.scoring)
    # feature a: naming pass (2) + nulls fail (4) -> 33.3; b: naming only -> 100
    assert features["a"].score == 33.3 and not features["a"].compliant
    assert features["b"].score == 100.0 and features["b"].compliant
