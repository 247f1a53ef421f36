"""What ``featmesh policies explain RULE`` says about a rule, and how to fix what it finds.

Built from the rule (its pack, severity, scope, settings) and its check (the docstring:
what it catches, a failing and a passing example, and a ``Fix:`` paragraph). The report
embeds the same text beside each failed rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from featmesh.policies.packs import PolicySet, Rule
from featmesh.policies.registry import Check, all_checks
from featmesh.policies.waivers import META_FIXES, META_RULES


@dataclass(frozen=True, kw_only=True)
class Explanation:
    rule: str
    title: str
    """One line: the rule's description."""
    text: str
    """Everything ``policies explain`` prints."""
    fix: str
    """How to fix what the rule finds (the check's ``Fix:`` paragraph)."""


def explain(policy: PolicySet, rule_id: str) -> Explanation | None:
    """The explanation of a rule of ``policy``, a waiver rule, or a check id; None if none."""
    if rule_id in META_RULES:
        return Explanation(
            rule=rule_id,
            title=META_RULES[rule_id],
            text=f"{rule_id} (waivers)\n\n{META_RULES[rule_id]}",
            fix=META_FIXES[rule_id],
        )
    rule = policy.rule(rule_id)
    if rule is not None:
        return explain_rule(rule)
    chk = all_checks().get(rule_id)
    return explain_check(chk) if chk is not None else None


def explain_rule(rule: Rule) -> Explanation:
    chk = rule.check
    scope = rule.scope.to_json()
    everything = "every consumer" if chk.target.value == "consumer" else "every feature set"
    lines = [
        f"{rule.id}: {rule.description}",
        f"  severity {rule.severity.value}, dimension {rule.dimension.value}, "
        f"check {chk.id} on each {chk.target.value}{' (mesh-wide)' if chk.mesh else ''}, "
        f"pack {rule.pack} ({rule.origin})",
        f"  scope: {json.dumps(scope) if scope else everything}",
        "",
        chk.doc,
        *_params(dict(rule.settings), chk.params),
    ]
    return Explanation(rule=rule.id, title=rule.description, text="\n".join(lines), fix=chk.fix)


def explain_check(chk: Check) -> Explanation:
    lines = [
        f"check {chk.id} ({chk.target.value}, {chk.dimension.value}, from {chk.provider})",
        "",
        chk.doc,
        *_params(dict(chk.defaults()), chk.params),
    ]
    return Explanation(rule=chk.id, title=chk.description, text="\n".join(lines), fix=chk.fix)


def _params(values: dict[str, object], specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not values:
        return []
    lines = ["", "Parameters:"]
    for name, value in values.items():
        about = specs.get(name, {}).get("description", "")
        lines.append(f"  {name} = {json.dumps(value)}" + (f"  ({about})" if about else ""))
    return lines
