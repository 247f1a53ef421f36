"""Pass / fail cases of every built-in check, from the small data files in cases/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from featmesh.connector.model import ContractTerms, FeatureDrift
from featmesh.policies import all_checks, evaluate
from tests.policies.helpers import from_case, profile

CASES = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    found = []
    for path in sorted(CASES.glob("*.yaml")):
        for block in yaml.safe_load(path.read_text()):
            for case in block["cases"]:
                found.append(pytest.param(block["check"], case, id=f"{block['check']}: {case['name']}"))
    return found


@pytest.mark.parametrize(("check", "case"), _cases())
def test_case(check: str, case: dict[str, Any], one_rule) -> None:
    policy = one_rule(check, case.get("params"))
    fs = from_case(case.get("set", {}))
    profiles = {fs.qualified_name: profile(fs, **case["profile"])} if "profile" in case else None
    drift = {fs.qualified_name: [FeatureDrift(**d) for d in case["drift"]]} if "drift" in case else None
    contracts = {t: ContractTerms(table=t, **c) for t, c in case.get("contracts", {}).items()}
    evaluation = evaluate(policy, [fs], profiles=profiles, drift=drift, contracts=contracts)
    results = list(evaluation.results())
    assert all(r.state.value != "error" for r in results), [r.message for r in results]
    expect = case["expect"]
    if isinstance(expect, str):
        assert {r.state.value for r in results} == {expect}, [r.message for r in results]
    else:
        got = {r.feature: r.state.value for r in results}
        assert got == expect, [r.message for r in results]


def test_every_builtin_check_has_cases_and_examples() -> None:
    covered = {block["check"] for p in CASES.glob("*.yaml") for block in yaml.safe_load(p.read_text())}
    mesh = {c.id for c in all_checks().values() if c.mesh}
    consumer = {c.id for c in all_checks().values() if c.target.value == "consumer"}
    for chk in all_checks().values():
        assert "Fails:" in chk.doc and "Passes:" in chk.doc, chk.id
        if chk.provider == "featmesh":  # the report's "how to fix" beside each failed rule
            assert chk.fix and not chk.fix.startswith("Fix"), chk.id
        if chk.provider == "featmesh" and not chk.mesh and chk.id not in consumer:
            assert chk.id in covered, f"no cases for {chk.id}"
    assert consumer == {"consumer_on_noncompliant_set"}  # cases in test_consumer_rules.py
    assert mesh == {
        "feature_meaning_conflict",
        "duplicate_engineering",
        "stale_derived",
        "breaking_change",
        "consumer_on_old_version",
        "consumer_on_old_revision",
        "join_key_type_consistent",
    }
