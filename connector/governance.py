"""The governance stage ``scan`` and ``check`` share: profile the data, evaluate the packs.

``load_rules`` reads the policy packs and waivers first, so a bad pack stops a run
before any source is read. ``profile_sets`` profiles each feature set's sources with
pyarrow (a source that cannot be read is a warning for that set; the run goes on),
computes drift against the previous stored profile, and gives the compact per-feature
``profile`` attribute the catalog shows. ``evaluate_sets`` runs the engine and turns
its outcome into the featmesh classifications and the contract's ``findings`` and
``score`` blocks.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connector.errors import EXIT_FINDINGS, EXIT_OK
from connector.incremental import Increment, count_findings, merge_scores
from connector.model import DatasetProfile, FeatureDrift, FeatureSet, stable_hash
from connector.runreport import RunReport
from policies import (
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

log = logging.getLogger(__name__)

Previous = Callable[[Iterable[str]], Mapping[tuple[str, str], str]]
"""Given feature set qualifiedNames, the newest stored profile JSON per (set, source)."""


@dataclass(frozen=True, kw_only=True)
class Rules:
    policy: PolicySet
    waivers: WaiverSet | None = None


def load_rules(packs: Sequence[str] = (), waivers: Path | str | None = None) -> Rules:
    policy = load_policy(list(packs) or None)
    return Rules(policy=policy, waivers=load_waivers(str(waivers), policy) if waivers else None)


# --------------------------------------------------------------------------- profiles


@dataclass
class Profiles:
    by_set: dict[str, DatasetProfile] = field(default_factory=dict)
    drift: dict[str, list[FeatureDrift]] = field(default_factory=dict)
    feature_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    """``(set qn, source uri, profiled_at, profile JSON)`` to store with the run."""
    fingerprints: dict[str, list[str]] = field(default_factory=dict)
    """Data fingerprints of each set's profiled sources (for incremental scans)."""

    def fingerprint(self, qn: str) -> str | None:
        found = self.fingerprints.get(qn)
        return stable_hash(sorted(found)) if found else None


def profile_sets(
    sets: Sequence[FeatureSet],
    report: RunReport,
    *,
    sample_rows: int | None = None,
    previous: Previous | None = None,
    progress: bool | None = None,
    reuse: bool = False,
    remote: bool = False,
) -> Profiles:
    """Profile every feature set's file sources; never raises for one source's data.

    With ``reuse``, a source whose data fingerprint equals its stored profile's is not
    read again (incremental scans); drift is measured only on data that changed."""
    from connector.commands.profile import StderrProgress
    from connector.profiling import (
        ProfileOptions,
        compute_drift,
        feature_columns,
        feature_profile_json,
        profile_feature_set,
        profile_from_json,
        profile_to_json,
    )

    show = sys.stderr.isatty() if progress is None else progress
    options = ProfileOptions(
        sample_rows=sample_rows, progress=StderrProgress() if show else None, remote=remote
    )
    if not show:
        log.info("profiling the sources of %d feature sets", len(sets))
    before = dict(previous(fs.qualified_name for fs in sets)) if previous else {}
    out = Profiles()
    for number, fs in enumerate(sets, start=1):
        if not fs.sources:
            continue
        if show:
            print(f"profiling {number}/{len(sets)}: {fs.qualified_name}", file=sys.stderr)
        stored = {
            source: profile_from_json(text)
            for (qn, source), text in before.items()
            if qn == fs.qualified_name
        }
        results = profile_feature_set(fs, options, earlier=stored if reuse else None)
        for result in results:
            if result.reused and result.profile is not None:
                report.count("profiles_reused")
                out.by_set.setdefault(fs.qualified_name, result.profile)
                out.fingerprints.setdefault(fs.qualified_name, []).append(result.profile.fingerprint or "")
                continue
            if result.status == "skipped":
                report.count("profiles_skipped")
                continue
            if result.status == "failed":
                report.warn(f"{fs.qualified_name}: profiling {result.uri} failed: {result.error}")
                report.count("profiles_failed")
            elif result.profile is not None:
                report.count("profiles")
                text = profile_to_json(result.profile)
                key = result.source.uri  # as declared: the same on every machine
                out.rows.append((fs.qualified_name, key, result.profile.profiled_at, text))
                out.by_set.setdefault(fs.qualified_name, result.profile)
                out.fingerprints.setdefault(fs.qualified_name, []).append(result.profile.fingerprint or "")
                earlier = before.get((fs.qualified_name, key))
                if earlier is not None:
                    drift = compute_drift(profile_from_json(earlier), result.profile)
                    out.drift.setdefault(fs.qualified_name, []).extend(drift)
        for name, (column, dataset) in feature_columns(fs, results).items():
            out.feature_attributes[fs.feature_qn(name)] = {"profile": feature_profile_json(column, dataset)}
    return out


# --------------------------------------------------------------------------- evaluation


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
) -> Outcome:
    """Evaluate ``sets`` (the mesh-wide rules also see ``published``)."""
    evaluation = evaluate(
        rules.policy,
        sets,
        published=published,
        profiles=profiles.by_set if profiles else None,
        drift=profiles.drift if profiles else None,
        waivers=rules.waivers,
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
    ``stale-derived`` rule can tell a parent that changed after the set was built."""
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
        out.append(replace(fs, extra={**fs.extra, "parent_hashes": recorded}))
    return out


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
                "score": summary.sets[fs.qualified_name].score,
                "grade": summary.sets[fs.qualified_name].grade,
                "compliant": summary.sets[fs.qualified_name].compliant,
                "dimensions": dict(summary.sets[fs.qualified_name].dimensions),
                "content_hash": fs.content_hash,
                "data_fingerprint": fingerprints.get(fs.qualified_name),
                "parent_hashes": fs.extra.get("parent_hashes"),
            }
            for fs in sets
            if fs.qualified_name in summary.sets
        },
        "findings": [r.to_json() for r in outcome.evaluation.results(include_passed=False) if _finding(r)],
        "waivers": [w.to_json() for w in waivers.waivers] if waivers else [],
    }


def merged_record(
    outcome: Outcome,
    increment: Increment,
    rules: Rules,
    signature: str,
    fingerprints: Mapping[str, str | None],
) -> dict[str, Any]:
    """The run's evaluation record: the sets evaluated now, and the sets an incremental
    scan skipped with their scores and findings from the run they were evaluated in."""
    record = run_record(outcome, increment.evaluate, signature=signature, fingerprints=fingerprints)
    record["sets"].update(increment.kept_sets)
    record["findings"].extend(increment.kept_findings)
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


def record_exit_code(record: Mapping[str, Any], fail_on: str) -> int:
    """1 when a recorded unwaived failure is at or above ``fail_on``, else 0."""
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    for finding in record.get("findings", []):
        if finding.get("state") == "failed" and Severity(finding["severity"]).rank >= threshold:
            return EXIT_FINDINGS
    return EXIT_OK
