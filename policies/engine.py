"""The engine: rules x feature sets -> results.

:func:`evaluate` runs every rule of a :class:`PolicySet` on every feature set read in
this run (the *local* sets), with the rest of the mesh (sets already published)
visible to mesh-wide checks. Each rule on each set gives a :class:`RuleRun`; each
holds :class:`Result` objects in one of four states (passed, failed, skipped with a
reason, error). A check that raises gives an ``error`` result and the run goes on.

Feature-level rules keep only the features that did not pass; the passing ones are
counted and produced on demand (:meth:`Evaluation.results`), which keeps a mesh of
hundreds of thousands of features small in memory.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from featmesh.connector.collector import collector_paused
from featmesh.connector.model import Consumer, ContractTerms, DatasetProfile, FeatureDrift, FeatureSet, Origin
from featmesh.policies.context import CheckContext, Mesh
from featmesh.policies.locations import place
from featmesh.policies.packs import PolicySet, Rule
from featmesh.policies.types import PASS, Outcome, Related, Severity, SkipReason, State, Target
from featmesh.policies.waivers import EXPIRED, MALFORMED, TOO_LONG, UNUSED, Waiver, WaiverSet, meta_severity

log = logging.getLogger(__name__)


class Progress(Protocol):
    """What :func:`evaluate` reports its progress to (``connector.progress.Meter``): told
    the number of units first, then each unit done. A unit is one set under one mesh-wide
    rule, or one set under all the other rules."""

    def expect(self, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class Result(NamedTuple):
    """One rule on one target (a feature set or feature qualifiedName).

    A named tuple: immutable, and cheap to make by the hundred thousand."""

    rule: str
    target: str
    state: State
    severity: Severity
    message: str = ""
    reason: SkipReason | None = None
    feature_set: str = ""
    """The qualifiedName of the set the target belongs to ('' for waiver findings)."""
    feature: str | None = None
    waiver: Waiver | None = None
    origin: Origin | None = None
    """Where the target (or the waiver) is written, for SARIF and messages."""
    related: tuple[Related, ...] = ()
    """The other definitions a mesh-wide finding involves, with their places."""

    @property
    def suppressed(self) -> bool:
        return self.reason is SkipReason.WAIVED

    @property
    def is_finding(self) -> bool:
        """An unwaived failure: what counts towards ``findings`` and ``--fail-on``."""
        return self.state is State.FAILED

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "target": self.target,
            "state": self.state.value,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.reason is not None:
            out["reason"] = self.reason.value
        if self.waiver is not None:
            out["waiver"] = self.waiver.to_json()
        return out


@dataclass(slots=True)
class RuleRun:
    """One rule on one feature set.

    For a feature-set rule ``results`` holds its one result. For a feature rule it
    holds the features that did not pass (``passed`` counts the others), or a single
    result about the whole set (out of scope, not applicable, error).
    """

    rule: Rule
    feature_set: FeatureSet
    results: list[Result]
    passed: int = 0

    @property
    def whole_set(self) -> bool:
        return self.rule.check.target is Target.FEATURE_SET or (
            len(self.results) == 1 and self.results[0].feature is None
        )

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.state is State.FAILED)

    def passed_features(self) -> Iterator[str]:
        """The features a feature rule passed without a result of their own, in order."""
        if self.rule.check.target is Target.FEATURE_SET or not self.passed:
            return
        named = {r.feature for r in self.results}
        for feature in self.feature_set.features:
            if feature.name not in named:
                yield feature.name

    def passed_results(self) -> Iterator[Result]:
        """The implicit passes of a feature rule, as results."""
        fs = self.feature_set
        for name in self.passed_features():
            yield Result(
                rule=self.rule.id,
                target=fs.feature_qn(name),
                state=State.PASSED,
                severity=self.rule.severity,
                feature_set=fs.qualified_name,
                feature=name,
                origin=fs.origin,
            )


@dataclass
class Evaluation:
    policy: PolicySet
    feature_sets: list[FeatureSet]
    runs: dict[str, list[RuleRun]]
    """Rule runs by feature set qualifiedName, in the order the sets were read."""
    extra: list[Result] = field(default_factory=list)
    """Results about no feature set: findings about waivers."""
    evaluated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    waivers: WaiverSet | None = None

    def results(self, *, include_passed: bool = True) -> Iterator[Result]:
        for runs in self.runs.values():
            for run in runs:
                yield from run.results
                if include_passed:
                    yield from run.passed_results()
        yield from self.extra

    def findings(self) -> list[Result]:
        """Every unwaived failure."""
        return [r for r in self.results(include_passed=False) if r.state is State.FAILED]

    def errors(self) -> list[Result]:
        return [r for r in self.results(include_passed=False) if r.state is State.ERROR]

    def worst(self) -> Severity | None:
        ranks = [r.severity for r in self.findings()]
        return max(ranks, key=lambda s: s.rank) if ranks else None


@dataclass(frozen=True, slots=True)
class _Set:
    """A feature set with what every rule on it needs, computed once."""

    fs: FeatureSet
    qn: str
    names: frozenset[str]

    @classmethod
    def of(cls, fs: FeatureSet) -> _Set:
        return cls(fs, fs.qualified_name, frozenset(f.name for f in fs.features))


class _Builder:
    """Turns check outcomes into results for one evaluation, applying waivers."""

    def __init__(self, waivers: WaiverSet | None, today: dt.date):
        self.today = today
        self.by_rule = waivers.by_rule() if waivers else {}
        self.used: set[int] = set()

    def result(self, rule: Rule, t: _Set, feature: str | None, outcome: Outcome) -> Result:
        target = t.qn if feature is None else f"{t.qn}#{feature}"
        state, message, related = outcome
        reason = waiver = None
        if state is State.SKIPPED:
            reason = SkipReason.NOT_APPLICABLE
        elif state is State.FAILED and rule.id in self.by_rule:
            waiver, lapsed = self._waiver(rule.id, target, t.qn)
            if waiver is not None:
                state, reason = State.SKIPPED, SkipReason.WAIVED
                message = f"{message} (waived by {waiver.owner} until {waiver.expires}: {waiver.reason})"
            elif lapsed is not None:
                message = f"{message} (waiver at {lapsed.origin} expired on {lapsed.expires})"
        # a pass needs no line: key lines are looked up only for what is reported
        origin = t.fs.origin if state is State.PASSED else place(t.fs.origin, rule.check.id, feature)
        return Result(
            rule.id, target, state, rule.severity, message, reason, t.qn, feature, waiver, origin, related,
        )  # fmt: skip

    def _waiver(self, rule: str, target: str, set_qn: str) -> tuple[Waiver | None, Waiver | None]:
        lapsed = None
        for waiver in self.by_rule[rule]:
            if waiver.covers(target, set_qn):
                if waiver.expired(self.today):
                    lapsed = lapsed or waiver
                    continue
                self.used.add(id(waiver))
                return waiver, None
        return None, lapsed

    @staticmethod
    def whole(rule: Rule, t: _Set, state: State, reason: SkipReason | None, message: str) -> Result:
        return Result(
            rule=rule.id,
            target=t.qn,
            state=state,
            severity=rule.severity,
            message=message,
            reason=reason,
            feature_set=t.qn,
            origin=place(t.fs.origin, rule.check.id, None),
        )


def _raised(rule: Rule, err: Exception) -> str:
    log.debug("check %s of rule %s raised", rule.check.id, rule.id, exc_info=err)
    return f"check '{rule.check.id}' raised {type(err).__name__}: {err}"


def _error_run(rule: Rule, t: _Set, message: str) -> RuleRun:
    return RuleRun(rule, t.fs, [_Builder.whole(rule, t, State.ERROR, None, message)])


def _set_run(builder: _Builder, rule: Rule, t: _Set, outcome: Any) -> RuleRun:
    if not isinstance(outcome, Outcome):
        return _error_run(
            rule, t, f"check '{rule.check.id}' returned {type(outcome).__name__}, not an Outcome"
        )
    result = builder.result(rule, t, None, outcome)
    return RuleRun(rule, t.fs, [result], passed=int(result.state is State.PASSED))


def _mesh_set_run(
    builder: _Builder, rule: Rule, t: _Set, found: Sequence[tuple[str | None, Outcome]]
) -> RuleRun:
    """A mesh feature-set rule on one set: one result, or one per failure when the check
    yields several (each break of a breaking change is its own finding). A failure about
    one feature (``(fs, name, outcome)``) targets ``SET#name``, even a feature the set no
    longer has; the others target the set."""
    failures = [(f, o) for f, o in found if isinstance(o, Outcome) and o.state is State.FAILED]
    if len(failures) < 2 and not any(f is not None for f, _ in failures):
        outcome = next((o for f, o in found if f is None), None)
        return _set_run(builder, rule, t, outcome or PASS)
    results = [builder.result(rule, t, f, o) for f, o in dict.fromkeys(failures)]
    return RuleRun(rule, t.fs, results)


def _feature_run(builder: _Builder, rule: Rule, t: _Set, outcomes: Iterable[tuple[str, Outcome]]) -> RuleRun:
    results: list[Result] = []
    names = t.names
    seen: set[str] = set()
    for name, outcome in outcomes:
        if name in seen or name not in names or outcome[0] is State.PASSED:
            continue  # a pass is implicit; a name twice or unknown is the check's slip
        seen.add(name)
        results.append(builder.result(rule, t, name, outcome))
    return RuleRun(rule, t.fs, results, passed=len(names) - len(seen))


def _run_local(builder: _Builder, rule: Rule, t: _Set, ctx: CheckContext) -> RuleRun:
    chk = rule.check
    try:
        answer = chk.fn(t.fs, rule.params, ctx)
        if chk.target is Target.FEATURE_SET:
            return _set_run(builder, rule, t, answer)
        if isinstance(answer, Outcome):
            if answer.state is State.PASSED:
                return RuleRun(rule, t.fs, [], passed=len(t.names))
            if answer.state is State.SKIPPED:
                result = builder.whole(rule, t, State.SKIPPED, SkipReason.NOT_APPLICABLE, answer.message)
                return RuleRun(rule, t.fs, [result])
            return _error_run(
                rule, t, f"check '{chk.id}' failed a whole set; a feature check must name features"
            )
        return _feature_run(builder, rule, t, answer)
    except MemoryError:
        raise  # the run cannot go on: not the check's fault
    except Exception as err:  # the run goes on and reports it
        return _error_run(rule, t, _raised(rule, err))


def _run_mesh(
    builder: _Builder, rule: Rule, mesh: Mesh, local: Sequence[_Set], progress: Progress | None = None
) -> dict[str, RuleRun]:
    in_scope = [t for t in local if rule.scope.matches(t.fs)]
    if progress is not None:
        progress.advance(len(local) - len(in_scope))
    by_set: dict[int, list[tuple[str | None, Outcome]]] = {}
    try:
        for fs, feature, outcome in rule.check.fn(mesh, rule.params):
            by_set.setdefault(id(fs), []).append((feature, outcome))
    except MemoryError:
        raise
    except Exception as err:
        message = _raised(rule, err)
        if progress is not None:
            progress.advance(len(in_scope))
        return {t.qn: _error_run(rule, t, message) for t in in_scope}
    runs = {}
    for t in in_scope:
        if progress is not None:
            progress.advance()
        found = by_set.get(id(t.fs), [])
        if rule.check.target is Target.FEATURE_SET:
            runs[t.qn] = _mesh_set_run(builder, rule, t, found)
        else:
            runs[t.qn] = _feature_run(builder, rule, t, [(f, o) for f, o in found if f is not None])
    return runs


def evaluate(
    policy: PolicySet,
    feature_sets: Sequence[FeatureSet],
    *,
    published: Sequence[FeatureSet] = (),
    profiles: Mapping[str, DatasetProfile] | None = None,
    drift: Mapping[str, Sequence[FeatureDrift]] | None = None,
    waivers: WaiverSet | None = None,
    now: dt.datetime | None = None,
    order: Mapping[str, int] | None = None,
    previous: Sequence[FeatureSet] = (),
    consumers: Sequence[Consumer] = (),
    contracts: Mapping[str, ContractTerms] | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate ``policy`` on ``feature_sets``.

    ``published``: feature sets of the rest of the mesh (from a catalog), seen by mesh
    checks but not reported on. ``profiles`` / ``drift``: by feature set qualifiedName;
    data-quality rules are not applicable to sets without a profile. ``now`` fixes the
    evaluation time (waiver expiry, ``evaluatedAt``). ``order``: qualifiedName -> position
    of the sets in the mesh the mesh-wide checks see (``Mesh.of``). ``previous``: the
    published copies of the sets evaluated, and ``consumers``: who reads the mesh's sets,
    for the breaking-change rules; ``contracts``: what data contracts promise, by table.
    ``progress``: told how far the evaluation is (see :class:`Progress`).
    """
    with cyclic_gc_paused():
        return _evaluate(
            policy,
            feature_sets,
            published,
            profiles,
            drift,
            waivers,
            now,
            order,
            previous,
            consumers,
            contracts,
            progress,
        )


def cyclic_gc_paused() -> AbstractContextManager[None]:
    """The collector paused while evaluating: an evaluation makes hundreds of thousands of
    small acyclic objects next to a large, long-lived mesh, and every collection their
    allocations trigger would walk the whole mesh again (see ``collector_paused``)."""
    return collector_paused()


def _evaluate(
    policy: PolicySet,
    feature_sets: Sequence[FeatureSet],
    published: Sequence[FeatureSet],
    profiles: Mapping[str, DatasetProfile] | None,
    drift: Mapping[str, Sequence[FeatureDrift]] | None,
    waivers: WaiverSet | None,
    now: dt.datetime | None,
    order: Mapping[str, int] | None = None,
    previous: Sequence[FeatureSet] = (),
    consumers: Sequence[Consumer] = (),
    contracts: Mapping[str, ContractTerms] | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    now = now or dt.datetime.now(dt.timezone.utc)
    local = list({t.qn: t for t in map(_Set.of, feature_sets)}.values())
    mesh = Mesh.of([t.fs for t in local], published, order, previous, consumers)
    ctx = CheckContext(mesh=mesh, profiles=profiles or {}, drift=drift or {}, contracts=contracts or {})
    builder = _Builder(waivers, now.date())
    mesh_rules = [
        rule for rule in policy.rules if rule.check.mesh and rule.check.target is not Target.CONSUMER
    ]
    if progress is not None:
        progress.expect(len(local) * (len(mesh_rules) + 1))
    mesh_runs = {rule.id: _run_mesh(builder, rule, mesh, local, progress) for rule in mesh_rules}
    runs: dict[str, list[RuleRun]] = {}
    for t in local:
        if progress is not None:
            progress.advance()
        fs_runs = []
        for rule in policy.rules:
            if rule.check.target is Target.CONSUMER:
                continue  # judged after the sets, by consumers.evaluate_consumers
            if not rule.scope.matches(t.fs):
                result = builder.whole(
                    rule, t, State.SKIPPED, SkipReason.OUT_OF_SCOPE, "outside the rule's scope"
                )
                fs_runs.append(RuleRun(rule, t.fs, [result]))
            elif (reason := rule.check.not_applicable(t.fs)) is not None:
                result = builder.whole(rule, t, State.SKIPPED, SkipReason.NOT_APPLICABLE, reason)
                fs_runs.append(RuleRun(rule, t.fs, [result]))
            elif rule.check.mesh:
                fs_runs.append(mesh_runs[rule.id][t.qn])
            else:
                fs_runs.append(_run_local(builder, rule, t, ctx))
        runs[t.qn] = fs_runs
    extra = waiver_findings(policy, waivers, now.date(), builder.used)
    return Evaluation(
        policy=policy,
        feature_sets=[t.fs for t in local],
        runs=runs,
        extra=extra,
        evaluated_at=now,
        waivers=waivers,
    )


def waiver_findings(
    policy: PolicySet, waivers: WaiverSet | None, today: dt.date, used: set[int] | None = None
) -> list[Result]:
    """The findings about waivers: malformed, expired, too long and (given ``used``, the
    ids of the waivers that waived a result) unused ones."""
    if waivers is None:
        return []
    found = [_meta_result(MALFORMED, origin, message, policy) for origin, message in waivers.malformed]
    for waiver in waivers.waivers:
        problems = []
        if waiver.expired(today):
            problems.append(
                (
                    EXPIRED,
                    f"waiver for rule '{waiver.rule}' on '{waiver.target}' "
                    f"(owner {waiver.owner}) expired on {waiver.expires}",
                )
            )
        elif (waiver.expires - today).days > policy.waiver_max_days:
            problems.append(
                (
                    TOO_LONG,
                    f"waiver for rule '{waiver.rule}' on '{waiver.target}' runs "
                    f"until {waiver.expires}, more than {policy.waiver_max_days} days ahead",
                )
            )
        if used is not None and not waiver.expired(today) and id(waiver) not in used:
            problems.append(
                (
                    UNUSED,
                    f"waiver for rule '{waiver.rule}' on '{waiver.target}' matches no failure of this run",
                )
            )
        found += [_meta_result(rule, waiver.origin, message, policy) for rule, message in problems]
    return found


def _meta_result(rule: str, origin: Origin, message: str, policy: PolicySet) -> Result:
    """A finding about a waivers file entry, located at its line."""
    return Result(
        rule=rule,
        target=f"{origin.path}:{origin.line}",
        state=State.FAILED,
        severity=meta_severity(rule, policy),
        message=message,
        origin=origin,
    )
