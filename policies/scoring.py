"""Scores and grades: one formula, documented here and pinned by tests.

**Rule credit.** For one rule on one feature set, count the targets that passed
(``p``) and failed without a waiver (``f``). A feature-set rule has one target; a
feature rule has one per feature. The rule *applies* when ``p + f > 0``, and then its
credit is ``p / (p + f)``. Not-applicable, out-of-scope, waived and errored targets
count in neither, so a rule with only those leaves the denominator.

**Score** of a feature set = ``100 * sum(w[s_r] * credit_r) / sum(w[s_r])`` over the
rules that apply, ``w`` the pack's severity weights (default info 1, warning 2,
error 4, critical 8). No rule applies: 100. An unwaived critical failure on the set
or any of its features caps the score at ``critical_cap`` (default 40). Scores are
rounded to one decimal.

**Per dimension**: the same formula over the rules of that dimension.
**Per feature**: the same formula over the feature rules, counting that feature only.
**Domain** = mean of its feature sets' scores (per dimension: mean over the sets that
have the dimension). **Mesh** = mean of the domain scores, so each domain weighs the
same whatever its size. **Grade**: the first grade whose lowest score the score
reaches, from the pack's ``scoring.grades`` (default A 90, B 80, C 70, D 60, F 0).

Worked example (default weights): owner-present (error) passed, set-description
(warning) failed, feature-naming (warning) 3 of 4 features passed, null-fraction not
applicable: ``100 * (4*1 + 2*0 + 2*0.75) / (4 + 2 + 2) = 68.75 -> 68.8``, grade D.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from featmesh.policies.engine import Evaluation, Result, RuleRun, cyclic_gc_paused
from featmesh.policies.packs import Scoring
from featmesh.policies.types import Severity, SkipReason, State, Target

COUNT_KEYS = ("critical", "error", "warning", "info", "waived")


def counts_of(results: Iterable[Result]) -> dict[str, int]:
    """Unwaived failures by severity, waived results, and check errors."""
    counts = dict.fromkeys((*COUNT_KEYS, "check_errors"), 0)
    for r in results:
        if r.state is State.FAILED:
            counts[r.severity.value] += 1
        elif r.reason is SkipReason.WAIVED:
            counts["waived"] += 1
        elif r.state is State.ERROR:
            counts["check_errors"] += 1
    return counts


@dataclass(frozen=True, kw_only=True)
class Score:
    score: float
    grade: str
    dimensions: Mapping[str, float] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def compliant(self) -> bool:
        """No unwaived failure at error or critical severity."""
        return not (self.counts.get("critical") or self.counts.get("error"))


class _Sum:
    __slots__ = ("credit", "weight")

    def __init__(self) -> None:
        self.credit = 0.0
        self.weight = 0.0

    def add(self, weight: float, credit: float) -> None:
        self.credit += weight * credit
        self.weight += weight

    def value(self) -> float:
        return 100.0 * self.credit / self.weight if self.weight else 100.0


def _finish(total: float, capped: bool, scoring: Scoring) -> float:
    if capped:
        total = min(total, scoring.critical_cap)
    return round(total, 1)


def score_runs(runs: Iterable[RuleRun], scoring: Scoring) -> Score:
    """The score of one feature set from its rule runs."""
    overall = _Sum()
    dims: dict[str, _Sum] = {}
    critical = False
    results: list[Result] = []
    for run in runs:
        results.extend(run.results)
        failed = run.failed
        if failed and run.rule.severity is Severity.CRITICAL:
            critical = True
        applicable = run.passed + failed
        if not applicable:
            continue
        weight = scoring.weights[run.rule.severity]
        credit = run.passed / applicable
        overall.add(weight, credit)
        dims.setdefault(run.rule.dimension.value, _Sum()).add(weight, credit)
    score = _finish(overall.value(), critical, scoring)
    return Score(
        score=score,
        grade=scoring.grade(score),
        dimensions={d: _finish(s.value(), False, scoring) for d, s in sorted(dims.items())},
        counts=counts_of(results),
    )


def feature_scores(runs: Iterable[RuleRun], scoring: Scoring) -> dict[str, Score]:
    """Scores of the features of one set, over its feature rules that ran on features.

    Only features some feature rule judged are scored (a set whose feature rules were
    all out of scope or not applicable has no feature scores)."""
    feature_runs = [r for r in runs if r.rule.check.target is Target.FEATURE and not r.whole_set]
    if not feature_runs:
        return {}
    fs = feature_runs[0].feature_set
    sums = {f.name: _Sum() for f in fs.features}
    results: dict[str, list[Result]] = {f.name: [] for f in fs.features}
    critical: set[str] = set()
    for run in feature_runs:
        weight = scoring.weights[run.rule.severity]
        judged = {r.feature: r for r in run.results}
        for name, total in sums.items():
            result = judged.get(name)
            if result is None:
                total.add(weight, 1.0)
                continue
            results[name].append(result)
            if result.state is State.FAILED:
                total.add(weight, 0.0)
                if run.rule.severity is Severity.CRITICAL:
                    critical.add(name)
    out = {}
    for name, total in sums.items():
        if not total.weight:
            continue
        score = _finish(total.value(), name in critical, scoring)
        out[name] = Score(score=score, grade=scoring.grade(score), counts=counts_of(results[name]))
    return out


@dataclass(frozen=True, kw_only=True)
class MeshScore:
    sets: Mapping[str, Score]
    domains: Mapping[str, Score]
    mesh: float
    grade: str
    domain_of: Mapping[str, str]


def summarize(evaluation: Evaluation) -> MeshScore:
    with cyclic_gc_paused():
        return _summarize(evaluation)


def _summarize(evaluation: Evaluation) -> MeshScore:
    scoring = evaluation.policy.scoring
    sets = {qn: score_runs(runs, scoring) for qn, runs in evaluation.runs.items()}
    domain_of = {fs.qualified_name: fs.domain or fs.store for fs in evaluation.feature_sets}
    members: dict[str, list[Score]] = {}
    for qn, score in sets.items():
        members.setdefault(domain_of[qn], []).append(score)
    domains = {}
    for name, scores in sorted(members.items()):
        value = round(fmean(s.score for s in scores), 1)
        dims: dict[str, list[float]] = {}
        for s in scores:
            for d, v in s.dimensions.items():
                dims.setdefault(d, []).append(v)
        counts = dict.fromkeys(scores[0].counts, 0)
        for s in scores:
            for k, v in s.counts.items():
                counts[k] += v
        domains[name] = Score(
            score=value,
            grade=scoring.grade(value),
            dimensions={d: round(fmean(v), 1) for d, v in sorted(dims.items())},
            counts=counts,
        )
    mesh = round(fmean(d.score for d in domains.values()), 1) if domains else 100.0
    return MeshScore(sets=sets, domains=domains, mesh=mesh, grade=scoring.grade(mesh), domain_of=domain_of)


def findings_block(evaluation: Evaluation) -> dict[str, int]:
    """The ``findings`` block of the scan / check JSON contract."""
    return counts_of(evaluation.results(include_passed=False))


def score_block(summary: MeshScore) -> dict[str, Any]:
    """The ``score`` block of the scan / check JSON contract (plus per-domain detail)."""
    return {
        "mesh": summary.mesh,
        "grade": summary.grade,
        "domains": {name: d.score for name, d in summary.domains.items()},
        "domain_grades": {name: d.grade for name, d in summary.domains.items()},
        "dimensions": {name: dict(d.dimensions) for name, d in summary.domains.items()},
    }


def contract_blocks(evaluation: Evaluation) -> dict[str, Any]:
    """``{"findings": ..., "score": ...}`` for ``featmesh scan --json`` and ``check --json``."""
    return {"findings": findings_block(evaluation), "score": score_block(summarize(evaluation))}
