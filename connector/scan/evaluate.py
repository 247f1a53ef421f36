"""The evaluation stage ``scan`` and ``check`` share: the policy packs over the sets.

``load_rules`` reads the policy packs and waivers first, so a bad pack stops a run
before any source is read. ``evaluate_sets`` runs the engine and turns its outcome into
the featmesh classifications; ``run_record`` and ``merged_record`` give what a run keeps
of it (the contract's ``findings`` and ``score`` blocks among it).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from featmesh.connector import progress
from featmesh.connector.contracts import Proposal, load_contracts, proposals
from featmesh.connector.errors import EXIT_FINDINGS, EXIT_OK
from featmesh.connector.model import (
    PREVIOUS_HASH,
    REVISION_DIGITS,
    Consumer,
    ContractTerms,
    FeatureSet,
    FeatureStore,
    with_derived,
)
from featmesh.connector.scan.increment import Increment, count_findings, key_types, merge_scores, mesh_facts
from featmesh.connector.scan.profile import Profiles
from featmesh.policies import (
    Evaluation,
    MeshScore,
    PolicySet,
    Severity,
    SkipReason,
    State,
    WaiverSet,
    classification_outcomes,
    evaluate,
    load_policy,
    load_waivers,
    summarize,
)
from featmesh.policies.consumers import ConsumerAt, Standing, evaluate_consumers, unused_waiver_targets
from featmesh.policies.waivers import UNUSED

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Rules:
    policy: PolicySet
    waivers: WaiverSet | None = None
    contracts: Mapping[str, ContractTerms] = field(default_factory=dict)
    """What data contracts promise, by table."""
    proposals: Sequence[Proposal] = ()
    """Proposed or draft contract versions newer than the ones in force, with their breaks."""


def load_rules(
    packs: Sequence[str] = (), waivers: Path | str | None = None, contracts: Sequence[Path] = ()
) -> Rules:
    policy = load_policy(list(packs) or None)
    return Rules(
        policy=policy,
        waivers=load_waivers(str(waivers), policy) if waivers else None,
        contracts=load_contracts(contracts),
        proposals=proposals(contracts),
    )


@dataclass
class Outcome:
    evaluation: Evaluation
    summary: MeshScore
    classifications: dict[str, list[dict[str, Any]]]


def evaluate_sets(
    rules: Rules,
    sets: Sequence[FeatureSet],
    *,
    published: Sequence[FeatureSet] = (),
    profiles: Profiles | None = None,
    run_id: str,
    order: Mapping[str, int] | None = None,
    consumers: Sequence[Consumer] = (),
) -> Outcome:
    """Evaluate ``sets`` (the mesh-wide rules also see ``published``, in ``order`` when
    given: the read order of all the sets, so an incremental scan meets them as a full one;
    and ``consumers``, the models and services of the stores read, for the rules about
    who reads a set)."""
    label = f"evaluating {len(sets)} feature sets against {', '.join(rules.policy.packs)}"
    with progress.meter(label, None) as bar:
        evaluation = evaluate(
            rules.policy,
            sets,
            published=published,
            consumers=consumers,
            profiles=profiles.by_set if profiles else None,
            drift=profiles.drift if profiles else None,
            waivers=rules.waivers,
            order=order,
            contracts=rules.contracts,
            progress=bar,
        )
    summary = summarize(evaluation)
    classifications: dict[str, list[dict[str, Any]]] = {}
    for outcome in classification_outcomes(evaluation, run_id=run_id, summary=summary):
        classifications.setdefault(outcome.qualified_name, []).append(outcome.to_json())
    return Outcome(evaluation=evaluation, summary=summary, classifications=classifications)


def _finding(result: Any) -> bool:
    """Failures, check errors and waived failures: what a report lists."""
    return result.state in (State.FAILED, State.ERROR) or result.reason is SkipReason.WAIVED


def with_parent_hashes(
    sets: Sequence[FeatureSet], published: Sequence[FeatureSet], last: Mapping[str, Any] | None
) -> list[FeatureSet]:
    """Record on each derived set its parents' definition hashes as of when its own
    definition last changed (carried from the last run while it stays the same), so the
    ``stale-derived`` rule can tell a parent that changed after the set was built.

    Each set also gets the hash of the definition its qualifiedName was first
    published with (``extra["previous_content_hash"]``: as the last scan recorded it,
    else the catalog's, else the last scan's definition), for the ``version-unchanged``
    rule; the run record keeps it, so a version changed in place stays flagged until
    it is bumped."""
    sets = _with_previous_hashes(sets, published, last)
    current = {fs.qualified_name: fs.content_hash for fs in sets}
    for fs in published:
        current.setdefault(fs.qualified_name, fs.extra.get("published_content_hash") or fs.content_hash)
    before: Mapping[str, Mapping[str, Any]] = ((last or {}).get("evaluation") or {}).get("sets", {})
    out = []
    for fs in sets:
        if not fs.derived_from or "parent_hashes" in fs.extra:
            out.append(fs)
            continue
        earlier = before.get(fs.qualified_name) or {}
        if earlier.get("content_hash") == fs.content_hash and isinstance(earlier.get("parent_hashes"), dict):
            recorded = dict(earlier["parent_hashes"])
        else:
            recorded = {
                r.qualified_name: current[r.qualified_name]
                for r in fs.derived_from
                if r.qualified_name in current
            }
        out.append(with_derived(fs, parent_hashes=recorded))
    return out


def _with_previous_hashes(
    sets: Sequence[FeatureSet], published: Sequence[FeatureSet], last: Mapping[str, Any] | None
) -> list[FeatureSet]:
    before: Mapping[str, Mapping[str, Any]] = ((last or {}).get("evaluation") or {}).get("sets", {})
    catalog = {
        fs.qualified_name: fs.extra.get("published_content_hash") or fs.content_hash for fs in published
    }
    out = []
    for fs in sets:
        qn = fs.qualified_name
        earlier = before.get(qn) or {}
        previous = earlier.get(PREVIOUS_HASH) or catalog.get(qn) or earlier.get("content_hash")
        if previous and PREVIOUS_HASH not in fs.extra:
            fs = with_derived(fs, **{PREVIOUS_HASH: previous})
        out.append(fs)
    return out


MAX_REVISIONS = 20
"""Earlier revisions kept per set in each run record (the newest first)."""


def with_revisions(
    record: dict[str, Any],
    last: Mapping[str, Any] | None,
    run_id: str,
    now: str,
    hashes: Mapping[str, str],
    published: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Give each set of the run record its revision: the definition it has now, named by
    its revision hash (``hashes``: :attr:`FeatureSet.revision_hash` by qualifiedName;
    ``content_hash`` in the record), with the run and time it was first seen and the time
    it was last seen, and the revisions before it. Stores without versions (Feast, Feathr)
    edit a set in place; the revision is what a model can name to say exactly which
    definition it was trained on. Carried from the last scan while the definition stays
    the same; a new reader of the set leaves it as it was. A set the last scan did not
    read (a scan of other stores came between) takes its revision from what the catalog
    holds (``published``: the feature set entities' attributes by qualifiedName)."""
    before: Mapping[str, Mapping[str, Any]] = ((last or {}).get("evaluation") or {}).get("sets", {})
    for qn, entry in record.get("sets", {}).items():
        digest = hashes.get(qn)
        if not digest:
            continue
        earlier = (before.get(qn) or {}).get("revision") or _published_revision((published or {}).get(qn))
        if earlier.get("content_hash") == digest:
            revision = {**earlier, "last_seen": now, "last_run": run_id}
        else:
            history = list(earlier.get("history") or [])
            if earlier:
                history.insert(
                    0, {k: earlier[k] for k in ("id", "content_hash", "first_seen", "first_run", "last_seen")}
                )
            revision = {
                "id": digest[:REVISION_DIGITS],
                "content_hash": digest,
                "first_seen": now,
                "first_run": run_id,
                "last_seen": now,
                "last_run": run_id,
                "history": history[:MAX_REVISIONS],
            }
        entry["revision"] = revision


def _published_revision(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A set's revision as a catalog holds it (its entity's attributes); {} when it holds none."""
    if not attributes or not attributes.get("revisionHash"):
        return {}
    return {
        "id": attributes.get("revision"),
        "content_hash": attributes["revisionHash"],
        "first_seen": attributes.get("revisionFirstSeen"),
        "first_run": attributes.get("revisionFirstRun"),
        "last_seen": None,
        "history": [{"id": i} for i in attributes.get("previousRevisions") or ()],
    }


FAIL_ON = ("critical", "error", "warning", "info", "never")


def findings_exit_code(evaluation: Evaluation, fail_on: str) -> int:
    """1 when an unwaived failure is at or above ``fail_on``, else 0."""
    if fail_on == "never":
        return EXIT_OK
    worst = evaluation.worst()
    return EXIT_FINDINGS if worst is not None and worst.rank >= Severity(fail_on).rank else EXIT_OK


def run_record(
    outcome: Outcome,
    sets: Sequence[FeatureSet],
    *,
    signature: str | None = None,
    fingerprints: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """What a run keeps of its evaluation, for reports and incremental scans: every
    set's score, owner, lineage and hashes, and every finding (passes are not kept)."""
    summary = outcome.summary
    waivers = outcome.evaluation.waivers
    fingerprints = fingerprints or {}
    return {
        "signature": signature,
        "policy": {
            "name": outcome.evaluation.policy.name,
            "version": outcome.evaluation.policy.version,
            "packs": list(outcome.evaluation.policy.packs),
            "checks": {rule.id: rule.check.id for rule in outcome.evaluation.policy.rules},
        },
        "sets": {
            fs.qualified_name: {
                "name": fs.name,
                "version": fs.version,
                "store": f"{fs.store_kind}/{fs.store}",
                "domain": summary.domain_of.get(fs.qualified_name),
                "owner": fs.owner,
                "description": fs.description,
                "sources": [s.uri for s in fs.sources],
                "derived_from": [r.qualified_name for r in fs.derived_from],
                "features": [f.name for f in fs.features],
                "join_keys": key_types(fs),
                "mesh_facts": mesh_facts(fs),
                "score": summary.sets[fs.qualified_name].score,
                "grade": summary.sets[fs.qualified_name].grade,
                "compliant": summary.sets[fs.qualified_name].compliant,
                "dimensions": dict(summary.sets[fs.qualified_name].dimensions),
                "content_hash": fs.content_hash,
                "data_fingerprint": fingerprints.get(fs.qualified_name),
                "parent_hashes": fs.extra.get("parent_hashes"),
                PREVIOUS_HASH: fs.extra.get(PREVIOUS_HASH) or fs.content_hash,
            }
            for fs in sets
            if fs.qualified_name in summary.sets
        },
        "findings": [r.to_json() for r in outcome.evaluation.results(include_passed=False) if _finding(r)],
        "waivers": [w.to_json() for w in waivers.waivers] if waivers else [],
    }


def set_consumers(stores: Sequence[FeatureStore]) -> dict[str, list[dict[str, Any]]]:
    """Who reads each feature set, by set qualifiedName: a compact entry per consumer
    (``kind``, ``name``, ``version``, ``owner``, ``domain``, ``features`` it reads, empty
    for all, the ``revision`` of the set it was trained on, where it names one, and the
    consumers it ``serves``), from every store's consumers, whichever store holds the set."""
    out: dict[str, list[dict[str, Any]]] = {}
    for store in stores:
        for consumer in store.consumers:
            for read in consumer.reads:
                out.setdefault(read.feature_set.qualified_name, []).append(
                    {
                        "kind": consumer.kind,
                        "name": consumer.name,
                        "version": consumer.version,
                        "owner": consumer.owner or store.owner,
                        "domain": consumer.domain or store.domain,
                        "features": list(read.features),
                        "revision": read.revision,
                        "serves": list(consumer.serves),
                    }
                )
    return out


def merged_record(
    outcome: Outcome,
    increment: Increment,
    rules: Rules,
    signature: str,
    fingerprints: Mapping[str, str | None],
    consumers: Mapping[str, list[dict[str, Any]]] | None = None,
    stores: Sequence[FeatureStore] = (),
    last: Mapping[str, Any] | None = None,
    history: Sequence[Mapping[str, Any]] = (),
    held: Collection[str] | None = None,
) -> dict[str, Any]:
    """The run's evaluation record: the sets evaluated now, and the sets an incremental
    scan skipped with their scores and findings from the run they were evaluated in.
    Every set's ``consumers`` (:func:`set_consumers`) are this run's, kept sets' too:
    consumers are not part of a set's hash, so a model added since is still shown.

    Then the consumer rules judge every consumer of ``stores`` on the merged sets'
    compliance, and on the sets retired since (``retired``: sets of the stores read now
    that an earlier run recorded and this one no longer reads, carried from ``last`` while
    a consumer still reads them): an unchanged model gets its finding whether its set was
    evaluated now or kept. A set of a store not read now is judged on what the run
    ``history`` recorded of it, and ``held``, the published sets of the other stores
    (:func:`standing_elsewhere`)."""
    record = run_record(outcome, increment.evaluate, signature=signature, fingerprints=fingerprints)
    record["sets"].update(increment.kept_sets)
    if consumers is not None:
        for qn, entry in record["sets"].items():
            record["sets"][qn] = {**entry, "consumers": list(consumers.get(qn, []))}
    record["findings"].extend(increment.kept_findings)
    record["findings"] = _without_waivers_used_by_kept(
        record["findings"], increment.kept_findings, rules.waivers
    )
    record["stores"] = sorted({f"{s.kind}/{s.name}" for s in stores})
    record["retired"] = retired_sets(record["sets"], stores, last)
    placed = store_consumers(stores)
    known = standing(record["sets"], record["retired"])
    known.update(standing_elsewhere(placed, known, history, held))
    judged = evaluate_consumers(
        rules.policy,
        placed,
        known,
        waivers=rules.waivers,
        today=outcome.evaluation.evaluated_at.date(),
    )
    if judged.results:
        drop = unused_waiver_targets(rules.waivers, judged.used)
        record["findings"] = [
            f for f in record["findings"] if not (f.get("rule") == UNUSED and f.get("target") in drop)
        ] + [r.to_json() | {"feature_set": r.feature_set} for r in judged.results]
    record["increment"] = increment.to_json()
    record["score"] = merge_scores(record["sets"], rules.policy.scoring.grade)
    record["domains"] = {
        name: {
            "score": value,
            "grade": record["score"]["domain_grades"][name],
            "dimensions": record["score"]["dimensions"][name],
        }
        for name, value in record["score"]["domains"].items()
    }
    record["counts"] = count_findings(record["findings"])
    return record


def store_consumers(stores: Sequence[FeatureStore]) -> list[ConsumerAt]:
    """Every consumer of ``stores`` with its qualifiedName and store, its owner and
    domain defaulted from the store's (as the report's readers show them)."""
    return [
        ConsumerAt(
            store.consumer_qn(c),
            store.kind,
            store.name,
            replace(c, owner=c.owner or store.owner, domain=c.domain or store.domain),
        )
        for store in stores
        for c in store.consumers
    ]


def standing_elsewhere(
    placed: Sequence[ConsumerAt],
    known: Mapping[str, Standing],
    history: Sequence[Mapping[str, Any]],
    held: Collection[str] | None,
) -> dict[str, Standing]:
    """The standing of each set a consumer reads that this run did not record: as the
    newest scan in ``history`` (newest first) recorded it, compliant or not, or retired.
    A set recorded as evaluated that no store holds any more (not in ``held``, the sets
    the other stores publish; the stores read now hold only what this run recorded) is
    retired, and so is one a newer scan of its store did not find. Sets no run in
    ``history`` recorded are not judged; ``held`` None (the published sets could not be
    read) leaves a recorded evaluation as it was.
    Costs one lookup per set read and run, never a pass over the mesh."""
    wanted = {r.feature_set.qualified_name: r.feature_set for p in placed for r in p.consumer.reads}
    if all(qn in known for qn in wanted):
        return {}  # the earlier records are not decoded
    scans = [
        (run, set(run["evaluation"].get("stores") or ()))
        for run in history
        if run.get("command") == "scan" and run.get("evaluation")
    ]
    out: dict[str, Standing] = {}
    for qn, ref in sorted(wanted.items()):
        if qn in known:
            continue
        store = f"{ref.store_kind}/{ref.store}"
        for run, read in scans:
            entry = (run["evaluation"].get("sets") or {}).get(qn)
            gone = (run["evaluation"].get("retired") or {}).get(qn)
            if entry is None and gone is None and store in read:
                why = f"not defined in {store} when run {run.get('run_id')} read it"
                out[qn] = Standing(name=f"{ref.store}/{ref.name}@{ref.version or 'latest'}", retired=why)
                break
            if entry is not None:
                if held is not None and qn not in held:
                    why = f"no store publishes it any more; last recorded by run {run.get('run_id')}"
                    out[qn] = Standing(name=_shown(entry), retired=why)
                else:
                    out[qn] = Standing(
                        name=_shown(entry),
                        compliant=entry.get("compliant"),
                        grade=entry.get("grade"),
                        score=entry.get("score"),
                    )
                break
            if gone is not None:  # retired then, and not defined by any newer scan
                out[qn] = _retired(gone)
                break
    return out


def standing(
    sets: Mapping[str, Mapping[str, Any]], retired: Mapping[str, Mapping[str, Any]]
) -> dict[str, Standing]:
    """Each recorded set's :class:`Standing`, from its entry in a run record."""
    out = {
        qn: Standing(
            name=_shown(entry),
            compliant=entry.get("compliant"),
            grade=entry.get("grade"),
            score=entry.get("score"),
        )
        for qn, entry in sets.items()
    }
    for qn, entry in retired.items():
        out[qn] = _retired(entry)
    return out


def _retired(entry: Mapping[str, Any]) -> Standing:
    return Standing(
        name=_shown(entry),
        retired=f"no longer defined in {entry.get('store')}, last defined in run {entry.get('since')}",
    )


def _shown(entry: Mapping[str, Any]) -> str:
    store = str(entry.get("store") or "").split("/", 1)[-1]
    return f"{store}/{entry.get('name')}@{entry.get('version') or 'latest'}"


def retired_sets(
    sets: Mapping[str, Mapping[str, Any]],
    stores: Sequence[FeatureStore],
    last: Mapping[str, Any] | None,
) -> dict[str, dict[str, Any]]:
    """Sets retired from the stores read now and still read: recorded by the last scan
    (as a set or as retired) and no longer defined, each with the last run that defined
    it (``since``: the same in an incremental and a full scan) and the stores whose
    consumers read it (``read_by``). A set defined again is no longer retired, nor is one
    that no consumer reads any more: the stores read now say who of theirs reads it, a
    store not read now keeps what was recorded of its readers. So the record holds what
    is still read, not every set ever removed."""
    before = (last or {}).get("evaluation") or {}
    read = {f"{s.kind}/{s.name}" for s in stores}
    readers = reader_stores(stores)
    out: dict[str, dict[str, Any]] = {}
    for qn, entry in (before.get("retired") or {}).items():
        if qn not in sets:
            kept = {s for s in entry.get("read_by") or () if s not in read}
            out[qn] = {**entry, "read_by": sorted(kept | readers.get(qn, set()))}
    for qn, entry in (before.get("sets") or {}).items():
        if qn in sets or qn in out or entry.get("store") not in read:
            continue
        out[qn] = {
            "name": entry.get("name"),
            "version": entry.get("version"),
            "store": entry.get("store"),
            "since": (last or {}).get("run_id"),
            "read_by": sorted(readers.get(qn, set())),
        }
    return {qn: entry for qn, entry in sorted(out.items()) if entry["read_by"]}


def reader_stores(stores: Sequence[FeatureStore]) -> dict[str, set[str]]:
    """Set qualifiedName -> the stores (``kind/name``) of ``stores`` whose consumers read it."""
    out: dict[str, set[str]] = {}
    for store in stores:
        for consumer in store.consumers:
            for read in consumer.reads:
                out.setdefault(read.feature_set.qualified_name, set()).add(f"{store.kind}/{store.name}")
    return out


def _without_waivers_used_by_kept(
    findings: list[dict[str, Any]], kept: Sequence[Mapping[str, Any]], waivers: WaiverSet | None
) -> list[dict[str, Any]]:
    """Drop this evaluation's ``waiver-unused`` findings for waivers that waive a kept
    finding: the sets an incremental scan skipped use them, as a full evaluation sees."""
    used = {
        (w.get("rule"), w.get("target"), w.get("origin"))
        for f in kept
        if f.get("reason") == SkipReason.WAIVED.value and isinstance(w := f.get("waiver"), dict)
    }
    if not used or waivers is None:
        return findings
    drop = {
        f"{w.origin.path}:{w.origin.line}"
        for w in waivers.waivers
        if (w.rule, w.target, str(w.origin)) in used
    }
    return [f for f in findings if not (f.get("rule") == UNUSED and f.get("target") in drop)]


def record_exit_code(record: Mapping[str, Any], fail_on: str) -> int:
    """1 when a recorded unwaived failure is at or above ``fail_on``, else 0."""
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    for finding in record.get("findings", []):
        if finding.get("state") == "failed" and Severity(finding["severity"]).rank >= threshold:
            return EXIT_FINDINGS
    return EXIT_OK
