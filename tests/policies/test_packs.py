"""Loading packs: extends, overrides, scope, and errors that name the file and line."""

from __future__ import annotations

import re

import pytest

from featmesh.connector.errors import InputError, UsageError
from featmesh.policies import Severity, load_policy
from featmesh.policies.packs import builtin_packs
from tests.policies.helpers import good_set


def test_mesh_baseline_has_at_least_20_rules_on_registered_checks() -> None:
    policy = load_policy()
    assert policy.name == "mesh-baseline" and policy.version == "1.0.0"
    assert len(policy.rules) >= 20
    assert len({r.id for r in policy.rules}) == len(policy.rules)
    assert {r.dimension.value for r in policy.rules} >= {
        "ownership",
        "documentation",
        "standardization",
        "security",
        "lineage",
        "quality",
        "freshness",
    }
    assert "mesh-baseline" in builtin_packs()


def test_extends_overrides_disables_and_adds(make_pack) -> None:
    path = make_pack(
        """
apiVersion: featmesh/v1
kind: PolicyPack
name: payments
version: 2
extends: [mesh-baseline]
scoring: {critical_cap: 25}
overrides:
  owner-principal: {severity: error, params: {pattern: "^[a-z-]+@contoso\\\\.com$"}}
  tag-vocabulary: {enabled: false}
  null-fraction: {scope: {domains: [payments]}}
rules:
  - id: ttl-max-30d
    check: ttl_declared
    severity: warning
    params: {max_seconds: 2592000}
"""
    )
    policy = load_policy([str(path)])
    assert policy.name == "payments" and policy.version == "2"
    assert policy.packs == ("mesh-baseline@1.0.0", "payments@2")
    assert policy.rule("tag-vocabulary") is None and "tag-vocabulary" in policy.disabled
    principal = policy.rule("owner-principal")
    assert principal is not None and principal.severity is Severity.ERROR
    assert principal.params["pattern"].pattern == "^[a-z-]+@contoso\\.com$"
    assert principal.pack == "mesh-baseline"
    ttl = policy.rule("ttl-max-30d")
    assert ttl is not None and ttl.params["max_seconds"] == 2592000 and ttl.pack == "payments"
    assert policy.scoring.critical_cap == 25
    scope = policy.rule("null-fraction").scope  # type: ignore[union-attr]
    assert scope.matches(good_set()) and not scope.matches(good_set(domain="risk"))


def test_scope_by_store_kind_and_tag(one_rule) -> None:
    policy = one_rule("owner_present", scope={"store_kinds": ["feast"], "tags": ["tier=gold", "critical"]})
    scope = policy.rules[0].scope
    assert not scope.matches(good_set())  # a manifest set
    assert scope.matches(good_set(store_kind="feast"))  # tier=gold
    assert not scope.matches(good_set(store_kind="feast", tags={"tier": "bronze"}))
    assert scope.matches(good_set(store_kind="feast", tags={"critical": "yes"}))


def _error(path, *args) -> InputError:
    with pytest.raises(InputError) as info:
        load_policy([str(path), *args])
    return info.value


def line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("rule", "needle", "message"),
    [
        (
            "{id: a, check: no_such_check, severity: error}",
            "no_such_check",
            r"unknown check 'no_such_check'",
        ),
        (
            "{id: a, check: set_description, severity: error, params: {min_length: ten}}",
            "ten",
            r"parameter 'min_length' of check 'set_description': 'ten' is not of type 'integer'",
        ),
        (
            "{id: a, check: set_naming, severity: error, params: {pattern: '([a-z'}}",
            "([a-z",
            r"parameter 'pattern' of check 'set_naming': bad regex",
        ),
        (
            "{id: a, check: set_naming, severity: error, params: {patern: x}}",
            "patern",
            r"check 'set_naming' has no parameter 'patern'",
        ),
        ("{id: a, check: set_naming, severity: fatal}", "fatal", r"'fatal' is not one of"),
        (
            "{id: a, check: set_naming, severity: error, colour: red}",
            "colour",
            r"Additional properties",
        ),
    ],
)
def test_bad_rules_name_file_and_line(make_pack, rule: str, needle: str, message: str) -> None:
    path = make_pack(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: t\nversion: 1\nrules:\n"
        f"  - {{id: ok, check: owner_present, severity: info}}\n  - {rule}\n"
    )
    err = _error(path)
    assert err.path == str(path)
    assert err.where == str(line_of(path, needle))
    assert re.search(message, err.message), err.message


def test_bad_override_param_points_at_the_override(make_pack) -> None:
    path = make_pack(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: t\nversion: 1\nextends: [mesh-baseline]\n"
        "overrides:\n  null-fraction:\n    params: {max: 7}\n"
    )
    err = _error(path)
    assert err.where == "8" and "parameter 'max' of check 'null_fraction'" in err.message


def test_override_of_unknown_rule(make_pack) -> None:
    path = make_pack(
        "apiVersion: featmesh/v1\nkind: PolicyPack\nname: t\nversion: 1\n"
        "overrides:\n  nope: {enabled: false}\n"
    )
    err = _error(path)
    assert err.where == "6" and "overrides unknown rule 'nope'" in err.message


def test_cycle_in_extends(make_pack, tmp_path) -> None:
    make_pack({"name": "a", "extends": ["b.yaml"]}, name="a.yaml")
    b = make_pack({"name": "b", "extends": ["a.yaml"]}, name="b.yaml")
    err = _error(tmp_path / "a.yaml")
    assert "makes a cycle" in err.message and err.path == str(b)
    assert err.where == str(line_of(b, "a.yaml"))


def test_redefining_an_extended_rule_is_refused(make_pack) -> None:
    path = make_pack(
        {
            "name": "t",
            "extends": ["mesh-baseline"],
            "rules": [{"id": "owner-present", "check": "owner_present", "severity": "info"}],
        }
    )
    assert "already defined by pack 'mesh-baseline'" in _error(path).message


def test_diamond_extends_is_fine(make_pack, tmp_path) -> None:
    make_pack(
        {"name": "base", "rules": [{"id": "x", "check": "owner_present", "severity": "info"}]},
        name="base.yaml",
    )
    make_pack({"name": "l", "extends": ["base.yaml"]}, name="l.yaml")
    make_pack({"name": "r", "extends": ["base.yaml"]}, name="r.yaml")
    top = make_pack({"name": "top", "extends": ["l.yaml", "r.yaml"]}, name="top.yaml")
    policy = load_policy([str(top)])
    assert [r.id for r in policy.rules] == ["x"]


def test_missing_extended_file_and_unknown_builtin(make_pack) -> None:
    path = make_pack({"name": "t", "extends": ["nothere.yaml"]})
    assert "not found" in _error(path).message
    with pytest.raises(UsageError, match="no built-in policy pack 'mesh-basline'"):
        load_policy(["mesh-basline"])


def test_grades_need_a_zero(make_pack) -> None:
    path = make_pack({"name": "t", "scoring": {"grades": {"A": 90, "B": 50}}})
    assert "one grade must start at 0" in _error(path).message


def test_two_packs_with_one_rule_id(make_pack) -> None:
    a = make_pack({"name": "a", "rules": [{"id": "x", "check": "owner_present", "severity": "info"}]})
    b = make_pack({"name": "b", "rules": [{"id": "x", "check": "set_naming", "severity": "info"}]})
    with pytest.raises(UsageError, match="rule 'x' is defined by both packs 'a'"):
        load_policy([str(a), str(b)])
    both = load_policy(
        [
            "mesh-baseline",
            str(
                make_pack(
                    {
                        "name": "c",
                        "rules": [{"id": "y", "check": "owner_present", "severity": "info"}],
                    }
                )
            ),
        ]
    )
    assert both.name == "mesh-baseline+c" and both.version == "1.0.0+1"
