"""featmesh policy engine: policy packs, checks, scores and waivers.

The public API (what ``featmesh check`` and ``featmesh scan`` call)::

    policy = load_policy(["mesh-baseline", "team-pack.yaml"])   # InputError on bad packs
    waivers = load_waivers("waivers.yaml", policy)               # optional
    evaluation = evaluate(policy, feature_sets, published=..., profiles=..., waivers=waivers)
    blocks = contract_blocks(evaluation)                         # {"findings": ..., "score": ...}
    for outcome in classification_outcomes(evaluation, run_id=run_id): ...
"""

from featmesh.policies.engine import Evaluation, Result, RuleRun, evaluate
from featmesh.policies.outcomes import (
    COMPLIANT,
    NON_COMPLIANT,
    TargetOutcome,
    classification_outcomes,
)
from featmesh.policies.packs import DEFAULT_PACK, PolicySet, Rule, Scope, Scoring, builtin_packs, load_policy
from featmesh.policies.registry import Check, all_checks, check
from featmesh.policies.scoring import (
    MeshScore,
    Score,
    contract_blocks,
    feature_scores,
    findings_block,
    score_block,
    score_runs,
    summarize,
)
from featmesh.policies.types import (
    PASS,
    Dimension,
    Outcome,
    Severity,
    SkipReason,
    State,
    Target,
    fail,
    not_applicable,
)
from featmesh.policies.waivers import Waiver, WaiverSet, load_waivers

__all__ = [
    "COMPLIANT",
    "DEFAULT_PACK",
    "NON_COMPLIANT",
    "PASS",
    "Check",
    "Dimension",
    "Evaluation",
    "MeshScore",
    "Outcome",
    "PolicySet",
    "Result",
    "Rule",
    "RuleRun",
    "Scope",
    "Score",
    "Scoring",
    "Severity",
    "SkipReason",
    "State",
    "Target",
    "TargetOutcome",
    "Waiver",
    "WaiverSet",
    "all_checks",
    "builtin_packs",
    "check",
    "classification_outcomes",
    "contract_blocks",
    "evaluate",
    "fail",
    "feature_scores",
    "findings_block",
    "load_policy",
    "load_waivers",
    "not_applicable",
    "score_block",
    "score_runs",
    "summarize",
]
