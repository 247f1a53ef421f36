"""Consumer rules: judged after the feature sets, on what the run knows of each set read.

A model, endpoint or feature service is not a feature set: it has no score of its own.
What a rule can say about one is whether the sets it reads can be trusted, which is known
only once every set has been evaluated. :func:`evaluate_consumers` runs the rules whose
check targets ``consumer`` over each :class:`ConsumerAt` (the consumer, its qualifiedName
and store) its scope matches, given each
set's :class:`Standing`: the compliance an evaluation gave it (in this run, in the run
an incremental scan kept it from, or, for a set of a store not read now, in the newest run
that recorded it), or that it was retired.

A result targets the consumer and names, as its ``feature_set``, the set it is about, so
it is listed with that set and kept apart from the set's score. Nothing here is stored
between runs: an incremental scan judges every consumer again, so an unchanged model gets
the finding as soon as a set it reads stops being compliant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from featmesh.connector.model import Consumer
from featmesh.policies.engine import Result
from featmesh.policies.packs import PolicySet
from featmesh.policies.types import Outcome, SkipReason, State, Target
from featmesh.policies.waivers import Waiver, WaiverSet


@dataclass(frozen=True, kw_only=True)
class Standing:
    """What a run knows of one feature set a consumer reads."""

    name: str
    """How a message names the set (``store/name@version``)."""
    compliant: bool | None = None
    """None: not known to be evaluated (in this run, the run it was kept from, or the
    newest run that recorded a set of a store not read now)."""
    grade: str | None = None
    score: float | None = None
    retired: str | None = None
    """Why the set is retired (removed from its store, classified retired), or None."""


class ConsumerAt(NamedTuple):
    """A consumer with its qualifiedName and the store that records it."""

    qualified_name: str
    store_kind: str
    store: str
    consumer: Consumer


@dataclass(frozen=True)
class ConsumerResults:
    results: list[Result]
    used: frozenset[int]
    """ids of the waivers that waived a result here (so they are not reported unused)."""


def evaluate_consumers(
    policy: PolicySet,
    consumers: Iterable[ConsumerAt],
    standing: Mapping[str, Standing],
    *,
    waivers: WaiverSet | None = None,
    today: dt.date | None = None,
) -> ConsumerResults:
    """Every consumer rule of ``policy`` on every consumer its scope matches (the
    consumer's domain and tags, the store that records it): failures and errors only."""
    rules = [r for r in policy.rules if r.check.target is Target.CONSUMER]
    by_rule = waivers.by_rule() if waivers else {}
    today = today or dt.date.today()
    results: list[Result] = []
    used: set[int] = set()
    placed = list(consumers)
    for rule in rules:
        for qn, store_kind, store, consumer in placed:
            if not rule.scope.matches_consumer(store_kind, store, consumer):
                continue
            try:
                found = list(rule.check.fn(consumer, standing, rule.params))
            except MemoryError:
                raise
            except Exception as err:  # the run goes on and reports it
                results.append(
                    Result(
                        rule.id,
                        qn,
                        State.ERROR,
                        rule.severity,
                        f"check '{rule.check.id}' raised {type(err).__name__}: {err}",
                    )
                )
                continue
            for set_qn, outcome in found:
                if not isinstance(outcome, Outcome) or outcome.state is not State.FAILED:
                    continue
                waiver = _waiver(by_rule.get(rule.id, ()), qn, set_qn, today)
                state, reason, message = State.FAILED, None, outcome.message
                if waiver is not None:
                    used.add(id(waiver))
                    state, reason = State.SKIPPED, SkipReason.WAIVED
                    message = f"{message} (waived by {waiver.owner} until {waiver.expires}: {waiver.reason})"
                results.append(
                    Result(
                        rule.id, qn, state, rule.severity, message, reason, set_qn, None, waiver,
                        consumer.origin,
                    )
                )  # fmt: skip
    return ConsumerResults(results=results, used=frozenset(used))


def _waiver(waivers: Sequence[Waiver], target: str, set_qn: str, today: dt.date) -> Waiver | None:
    return next((w for w in waivers if w.covers(target, set_qn) and not w.expired(today)), None)


def unused_waiver_targets(waivers: WaiverSet | None, used: Iterable[int]) -> set[str]:
    """The ``waiver-unused`` finding targets (``path:line``) of waivers in ``used``: the
    set evaluation could not see these waivers used, the consumer rules did."""
    ids = set(used)
    if waivers is None or not ids:
        return set()
    return {f"{w.origin.path}:{w.origin.line}" for w in waivers.waivers if id(w) in ids}
