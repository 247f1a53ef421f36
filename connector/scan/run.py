"""``featmesh scan``: the orchestrator of the scan path.

read (``read``) -> what to skip (``increment``) -> profile (``profile``) -> evaluate
(``evaluate``) -> map and publish (``publish``). This module only strings the stages
together and fills the run report and the JSON summary (the machine-readable contract).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featmesh.connector import progress
from featmesh.connector.catalog import Catalog, open_catalog
from featmesh.connector.catalog.plan import Plan
from featmesh.connector.contracts.impact import proposal_impacts
from featmesh.connector.errors import (
    EXIT_OK,
    EXIT_PARTIAL,
    CatalogError,
    FeatmeshError,
    InputError,
    UsageError,
)
from featmesh.connector.mapping.entities import (
    FEATURE_SET,
    MeshMapping,
    former_placeholder_keys,
    map_mesh,
    mesh_keys,
)
from featmesh.connector.mapping.rules import DEFAULT_RULES, MappingRule
from featmesh.connector.model import FeatureSet, FeatureStore
from featmesh.connector.runreport import RunReport, utcnow
from featmesh.connector.scan.evaluate import (
    Rules,
    evaluate_sets,
    load_rules,
    merged_record,
    record_exit_code,
    set_consumers,
    with_parent_hashes,
    with_revisions,
)
from featmesh.connector.scan.increment import last_scan, plan_increment, previous_record, rules_signature
from featmesh.connector.scan.profile import Profiles, profile_sets
from featmesh.connector.scan.publish import has_outcome, push
from featmesh.connector.scan.read import (
    ReadResult,
    all_failed,
    check_references,
    domain_mapping,
    read_counts,
    read_sources,
    resolve_domains,
    store_sources,
)
from featmesh.connector.scan.removed import Removed, removed_sources
from featmesh.connector.sources import SourceSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ScanOptions:
    sources: tuple[SourceSpec, ...] = ()
    catalog: str | None = None
    dry_run: bool = False
    rules: tuple[MappingRule, ...] = DEFAULT_RULES
    domains: Mapping[str, str] = field(default_factory=dict)
    source_domains: Mapping[str, str] = field(default_factory=dict)
    """Source URI -> domain of every feature set it yields (a config's ``domain``)."""
    batch_size: int | None = None
    keep_deleted: bool = False
    resume: bool = False
    packs: tuple[str, ...] = ()
    """Policy packs (names or files); empty: the built-in default pack."""
    waivers: Path | None = None
    fail_on: str = "never"
    profile: bool = False
    sample_rows: int | None = None
    full: bool = False
    """Evaluate every feature set and profile every source, even when nothing changed."""
    profile_remote: bool = False
    catalog_settings: Mapping[str, Any] = field(default_factory=dict)
    """Remote catalog options from the config (Purview collections, operations per second)."""
    contracts: tuple[Path, ...] = ()
    """Data contract files or folders the feature sets are checked against."""
    profile_engine: Any = None
    """An ``EnginePlan`` (or one ``EngineChoice``): where each source's profiles are
    computed, pyarrow here or pushed down to Spark or Databricks SQL (None: local)."""
    config_sources: bool = False
    """The sources are featmesh.yaml's: a source that left it since its last scan is named."""
    retire_removed: bool = False
    """Retire the feature sets of the stores of sources no longer scanned."""

    def catalog_options(self) -> dict[str, Any]:
        options: dict[str, Any] = dict(self.catalog_settings)
        if self.batch_size is not None:
            options["batch_size"] = self.batch_size
        return options


@dataclass
class ScanOutcome:
    summary: dict[str, Any]
    exit_code: int
    plan: Plan | None = None
    report: RunReport | None = None


def run_scan(options: ScanOptions) -> ScanOutcome:
    """Run a scan. Raises InputError (exit 2, nothing written) when no source could
    be used because of bad input; otherwise records what failed and goes on."""
    report = RunReport(command="scan")
    rules = load_rules(
        options.packs, options.waivers, options.contracts
    )  # a bad pack stops the run before any read
    if options.resume:
        catalog = open_catalog(options.catalog, **options.catalog_options())
        try:
            return _resume(options, report, catalog)
        finally:
            catalog.close()
    read = read_sources(options.sources, report)
    if not read.stores and read.input_errors:
        raise all_failed(read, report)
    catalog = open_catalog(options.catalog, read_only=options.dry_run, **options.catalog_options())
    try:
        return _scan(options, report, read, catalog, rules)
    finally:
        catalog.close()


def _scan(
    options: ScanOptions, report: RunReport, read: ReadResult, catalog: Catalog, rules: Rules
) -> ScanOutcome:
    read.replace_stores(
        resolve_domains(read.stores, domain_mapping(read, options.domains, options.source_domains))
    )
    down: CatalogError | None = None  # once the catalog is unreachable, it is not asked again
    try:
        check_references(
            read, elsewhere=lambda ref: catalog.feature_set_versions(ref.store_kind, ref.store, ref.name)
        )
    except CatalogError as err:
        down = err
        check_references(read)
    if not read.stores and read.input_errors:
        raise all_failed(read, report)
    stores = read.stores
    sets = [fs for store in stores for fs in store.feature_sets]
    scopes = [store.qualified_name for store in stores]
    current: dict[tuple[str, str], dict[str, Any]] = {}
    history = _history(catalog, report) if down is None else []
    removed = removed_sources(history, report.sources) if options.config_sources else []
    retire = _report_removed(report, removed, options.retire_removed)
    if down is None:
        try:  # what the catalog holds, read once: for the increment and for the plan
            progress.step(f"reading what {catalog.uri} holds for {len(sets)} feature sets")
            keys = mesh_keys(
                stores,
                rules=options.rules,
                exists=catalog.exists,
                own=not catalog.reads_scopes_whole,
            )
            keys += former_placeholder_keys(stores)
            current = catalog.current(keys, [*scopes, *retire])
        except CatalogError as err:
            down = err
    profiles = (
        _profiles(options, report, catalog if down is None else None, sets, store_sources(read))
        if options.profile
        else None
    )
    elsewhere = _published(catalog, stores, report) if down is None else None
    published = elsewhere or []
    fingerprints = (
        {fs.qualified_name: profiles.fingerprint(fs.qualified_name) for fs in sets} if profiles else {}
    )
    signature = rules_signature(rules.policy, options.waivers, contracts=rules.contracts)
    last = last_scan(history)  # the history read above holds it: decoded once
    sets = with_parent_hashes(sets, published, last)
    previous = None if options.full else previous_record([last] if last else [], signature)
    readers = set_consumers(stores)
    increment = plan_increment(
        sets, previous, fingerprints, held=lambda qn: has_outcome(current, qn), readers=readers
    )
    skipped = [fs for fs in sets if fs.qualified_name in increment.skipped]
    if increment.skipped:
        report.count("feature_sets_skipped", len(increment.skipped))
    outcome = evaluate_sets(
        rules,
        increment.evaluate,
        published=[*skipped, *published],
        profiles=profiles,
        run_id=report.run_id,
        order={fs.qualified_name: i for i, fs in enumerate(sets)},
        consumers=[c for store in stores for c in store.consumers],
    )
    for error in outcome.evaluation.errors():
        report.fail(f"check {error.rule} raised on {error.target}: {error.message}")
    progress.step(f"recording the evaluation of {len(sets)} feature sets")
    evaluation = merged_record(
        outcome,
        increment,
        rules,
        signature,
        fingerprints,
        consumers=readers,
        stores=stores,
        last=last,
        history=history,
        held=None if elsewhere is None else {fs.qualified_name for fs in elsewhere},
    )
    hashes = {fs.qualified_name: fs.revision_hash for fs in sets}
    with_revisions(evaluation, last, report.run_id, utcnow(), hashes, published=_HeldSets(current))
    revisions = {qn: e["revision"] for qn, e in evaluation["sets"].items() if "revision" in e}
    extra = profiles.feature_attributes if profiles else None
    if down is not None:
        # what was read and evaluated is still summarised and recorded
        report.fail(f"catalog unreachable, nothing was written: {down}")
        log.info("%s", down)  # recorded: the command prints it once
        offline = map_mesh(
            stores, rules=options.rules, classifications=outcome.classifications, revisions=revisions
        )
        evaluation["contract_changes"] = proposal_impacts(rules.proposals, offline.entities)
        summary = summarize(report, stores, offline, Plan(), None, options, evaluation)
        return _finish(options, report, catalog, summary, Plan(), pending=([], []), evaluation=evaluation)
    mapping = map_mesh(
        stores,
        rules=options.rules,
        exists=catalog.exists,  # answers were cached by the first mapping
        classifications=outcome.classifications,
        feature_attributes=extra,
        revisions=revisions,
        columns=_schema_reader(catalog, report),
        unchanged=_unchanged(options, rules, catalog, last, increment.skipped),
        held=current,
    )
    evaluation["contract_changes"] = proposal_impacts(rules.proposals, mapping.entities)
    for message in mapping.unmapped_columns:
        report.warn(message)
    plan, applied = push(
        dry_run=options.dry_run,
        keep_deleted=options.keep_deleted,
        report=report,
        catalog=catalog,
        desired=mapping.entities,
        scopes=scopes,
        keep=set(increment.skipped),
        current=current,
        retire=retire,
        kept=mapping.kept,
    )
    if applied is not None and not len(report.failures) and not options.dry_run:
        # what the catalog now holds of each set, for the next scan to trust while nothing
        # else writes to the catalog (None: a catalog others write to, nothing recorded)
        generation = catalog.generation()
        if generation is not None:
            evaluation["mapped"] = {"generation": generation, "sets": mapping.digests}
    if profiles and profiles.rows and not options.dry_run:
        try:
            catalog.record_profiles(report.run_id, profiles.rows)
        except CatalogError as err:
            report.warn(f"profiles not stored: {err}")
    summary = summarize(report, stores, mapping, plan, applied, options, evaluation)
    # retired once the plan is applied without a failure (a refused write may be a retirement)
    retired = set(retire) if applied is not None and not len(report.failures) else set()
    summary["removed_sources"] = [
        {
            **r.to_json(retired=bool(r.stores) and set(r.stores) <= retired),
            "retiring": bool(set(r.stores) & set(retire)),
        }
        for r in removed
    ]
    return _finish(
        options,
        report,
        catalog,
        summary,
        plan,
        pending=(mapping.entities, scopes),
        evaluation=evaluation,
    )


class _HeldSets(Mapping[str, Mapping[str, Any]]):
    """The attributes of the feature sets the catalog holds, by qualifiedName, decoded
    only for the sets asked about (those the last scan did not read)."""

    def __init__(self, current: Mapping[tuple[str, str], Mapping[str, Any]]) -> None:
        self._current = current

    def __getitem__(self, qn: str) -> Mapping[str, Any]:
        entity = self._current[(FEATURE_SET, qn)]
        return entity.get("attributes") or {}

    def __iter__(self) -> Iterator[str]:
        return (qn for kind, qn in self._current if kind == FEATURE_SET)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _unchanged(
    options: ScanOptions,
    rules: Rules,
    catalog: Catalog,
    last: Mapping[str, Any] | None,
    skipped: Iterable[str],
) -> dict[str, str] | None:
    """The mapping digests the last scan recorded for the sets this run does not evaluate
    again, when the catalog holds what that scan wrote: no write came after it (its
    ``generation``), ``--full`` was not asked for, and no contract proposal needs every
    set's entities. None: every set is mapped and planned."""
    if options.full or rules.proposals or last is None:
        return None
    mapped = (last.get("evaluation") or {}).get("mapped") or {}
    generation = mapped.get("generation")
    if generation is None or generation != catalog.generation():
        return None
    digests: Mapping[str, str] = mapped.get("sets") or {}
    return {qn: digests[qn] for qn in skipped if qn in digests}


def _schema_reader(catalog: Catalog, report: RunReport) -> Callable[[str, str], frozenset[str] | None]:
    """``catalog.columns``, a read that fails counting as "cannot tell" (the mapping to that
    product is then not checked) and said once per product."""

    def columns(type_name: str, qualified_name: str) -> frozenset[str] | None:
        try:
            found: frozenset[str] | None = catalog.columns(type_name, qualified_name)
        except CatalogError as err:
            report.warn(
                f"schema of {type_name} {qualified_name} not read, its column lineage unchecked: {err}"
            )
            return None
        return found

    return columns


def _profiles(
    options: ScanOptions,
    report: RunReport,
    catalog: Catalog | None,
    sets: list[FeatureSet],
    source_of: Mapping[tuple[str, str], str],
) -> Profiles:
    def previous(qns: Iterable[str]) -> Mapping[tuple[str, str], str]:
        if catalog is None:
            return {}
        try:
            return catalog.latest_profiles(qns)
        except CatalogError as err:
            report.warn(f"no previous profiles for drift: {err}")
            return {}

    return profile_sets(
        sets,
        report,
        sample_rows=options.sample_rows,
        previous=previous,
        reuse=not options.full,
        remote=options.profile_remote,
        engine=options.profile_engine,
        source_of=source_of,
    )


def _report_removed(report: RunReport, removed: Sequence[Removed], retire: bool) -> list[str]:
    """Name each source no longer scanned in the run report; the stores to retire."""
    stores: list[str] = []
    for source in removed:
        if retire:
            stores.extend(source.stores)
        report.count("sources_removed")
    return stores


def removed_message(entry: Mapping[str, Any], *, dry_run: bool = False) -> str:
    """What a run says of a source no longer scanned (``summary.removed_sources``)."""
    held = ", ".join(entry.get("stores") or [])
    if not held:
        return f"source {entry['uri']} is no longer scanned; no run recorded its stores, nothing to retire"
    if entry.get("retired") or (dry_run and entry.get("retiring")):
        done = "would retire" if dry_run else "retired"
        return f"source {entry['uri']} is no longer scanned: {done} the feature sets of {held}"
    return (
        f"source {entry['uri']} is no longer scanned (it left the config): {held} stay in the catalog "
        "as last scanned; 'featmesh scan --retire-removed' retires their feature sets"
    )


def _published(catalog: Catalog, stores: list[FeatureStore], report: RunReport) -> list[FeatureSet] | None:
    """The rest of the mesh, as published: what the mesh-wide rules compare with.
    Sets of the stores read in this run come from the run, not the catalog. None when
    the catalog could not say."""
    scanned = {(s.kind, s.name) for s in stores}
    try:
        published = catalog.published_feature_sets(exclude_stores=scanned)
    except CatalogError as err:
        report.warn(f"the published mesh could not be read; mesh-wide rules see this run only: {err}")
        return None
    return [fs for fs in published if (fs.store_kind, fs.store) not in scanned]


def _history(catalog: Catalog, report: RunReport) -> list[Mapping[str, Any]]:
    """The recent runs: the newest scan for the increment, and what earlier scans read
    (sources no longer scanned, the standing of sets other stores hold), each decoded
    only once asked about more than its header."""
    try:
        return catalog.recent_runs(10)
    except CatalogError as err:
        report.warn(f"no run history, every feature set is evaluated: {err}")
        return []


def _finish(
    options: ScanOptions,
    report: RunReport,
    catalog: Catalog,
    summary: dict[str, Any],
    plan: Plan,
    pending: tuple[list[dict[str, Any]], list[str]],
    evaluation: dict[str, Any] | None = None,
) -> ScanOutcome:
    progress.done()
    report.finish()
    summary["status"] = report.status
    summary["failures"] = report.failures.to_json()
    if not options.dry_run:
        record = {**report.to_json(), "summary": summary, "config_sources": options.config_sources}
        if summary.get("removed_sources"):
            record["removed_sources"] = summary["removed_sources"]
        if evaluation is not None:
            record["evaluation"] = evaluation
        if report.status != "ok" and not catalog.transactional and pending[0]:
            record["pending"] = {"entities": pending[0], "scopes": pending[1]}
        try:
            catalog.record_run(record)
        except FeatmeshError as err:  # a run nobody can find again is not a finished run
            log.info("could not record the run: %s", err)
            report.fail(f"the run was not recorded: {err}")
            summary["status"] = report.status
            summary["failures"] = report.failures.to_json()
    if report.status != "ok":
        code = EXIT_PARTIAL
    elif evaluation is not None:
        code = record_exit_code(evaluation, options.fail_on)
    else:
        code = EXIT_OK
    return ScanOutcome(summary=summary, exit_code=code, plan=plan, report=report)


def _resume(options: ScanOptions, report: RunReport, catalog: Catalog) -> ScanOutcome:
    """Finish the newest unfinished push to this catalog from its stored results,
    without reading the sources again."""
    history = [r for r in catalog.runs(5) if r.get("command") == "scan" and not r.get("dry_run")]
    record = history[0] if history else None
    if record is None or not record.get("pending") or record.get("status") == "ok":
        raise UsageError(f"nothing to resume: the last run on {catalog.uri} left no unfinished push")
    desired, scopes = record["pending"]["entities"], record["pending"]["scopes"]
    report.count("resumed_entities", len(desired))
    report.warn(f"resuming run {record['run_id']} from its stored results")
    plan, applied = push(
        dry_run=options.dry_run,
        keep_deleted=options.keep_deleted,
        report=report,
        catalog=catalog,
        desired=desired,
        scopes=scopes,
    )
    previous = record.get("summary") or {}
    summary = {
        **previous,
        "run_id": report.run_id,
        "resumed_from": record["run_id"],
        "dry_run": options.dry_run,
        "plan": plan.to_json(),
        "applied": applied,
        "warnings": report.warnings.to_json(),
        "failures": report.failures.to_json(),
    }
    return _finish(options, report, catalog, summary, plan, pending=(desired, scopes))


def counts(stores: Sequence[FeatureStore], mapping: MeshMapping | None = None) -> dict[str, int]:
    """The contract's ``counts``; the lineage count is the mapping's edges when mapped."""
    found = read_counts(stores)
    if mapping is not None:
        found["lineage"] = mapping.lineage_edges
    return found


def summarize(
    report: RunReport,
    stores: Sequence[FeatureStore],
    mapping: MeshMapping,
    plan: Plan,
    applied: dict[str, Any] | None,
    options: ScanOptions,
    evaluation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    blocks = {"findings": evaluation["counts"], "score": evaluation["score"]} if evaluation else {}
    return {
        "run_id": report.run_id,
        "status": report.status,
        "dry_run": options.dry_run,
        "catalog": options.catalog or "local",
        "sources": [
            {
                "uri": s.uri,
                "kind": s.kind,
                "status": s.status,
                "feature_sets": s.feature_sets,
                "error": s.error,
                **({"problems": [str(p) for p in s.problems]} if s.problems else {}),
            }
            for s in report.sources
        ],
        "counts": counts(stores, mapping),
        "plan": plan.to_json(),
        "applied": applied,
        "findings": blocks.get("findings", {"critical": 0, "error": 0, "warning": 0, "info": 0, "waived": 0}),
        "score": blocks.get("score", {"mesh": None, "grade": None, "domains": {}}),
        "evaluated": _evaluated(evaluation),
        "revisions": {
            qn: {k: v for k, v in entry["revision"].items() if k != "history"}
            for qn, entry in (evaluation or {}).get("sets", {}).items()
            if "revision" in entry
        },
        "warnings": report.warnings.to_json() + [w for s in report.sources for w in s.warnings.to_json()],
        "failures": report.failures.to_json(),
        "removed_sources": [],
    }


def _evaluated(evaluation: Mapping[str, Any] | None) -> dict[str, Any]:
    """How many feature sets this run evaluated and how many it skipped as unchanged."""
    increment = (evaluation or {}).get("increment") or {}
    return {
        "feature_sets": increment.get("evaluated", 0),
        "skipped": len(increment.get("skipped", [])),
        "previous_run": increment.get("previous_run"),
    }


__all__ = ["InputError", "ScanOptions", "ScanOutcome", "run_scan"]
