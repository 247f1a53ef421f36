"""``featmesh scan``: read the sources, map them, plan against the catalog, apply.

The stages are those of DESIGN.md; this module only strings them together and fills
the run report and the JSON summary (the machine-readable contract).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.catalog import Catalog, open_catalog
from connector.catalog.plan import Plan, compute_plan
from connector.errors import EXIT_OK, EXIT_PARTIAL, CatalogError, InputError, UsageError
from connector.mapping.entities import DATA_PRODUCT, MeshMapping, map_mesh
from connector.mapping.rules import DEFAULT_RULES, MappingRule
from connector.model import FeatureStore
from connector.pipeline import ReadResult, check_references, read_sources, resolve_domains
from connector.runreport import RunReport
from connector.sources import SourceSpec

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

    def catalog_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"keep_deleted": self.keep_deleted}
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
    if options.resume:
        catalog = open_catalog(options.catalog, **options.catalog_options())
        try:
            return _resume(options, report, catalog)
        finally:
            catalog.close()
    read = read_sources(options.sources, report)
    if not read.stores and read.input_errors:
        raise read.input_errors[0]
    catalog = open_catalog(options.catalog, read_only=options.dry_run, **options.catalog_options())
    try:
        return _scan(options, report, read, catalog)
    finally:
        catalog.close()


def _scan(options: ScanOptions, report: RunReport, read: ReadResult, catalog: Catalog) -> ScanOutcome:
    read.replace_stores(resolve_domains(read.stores, domain_mapping(read, options)))
    try:
        check_references(
            read, elsewhere=lambda ref: catalog.feature_set_versions(ref.store_kind, ref.store, ref.name)
        )
        if not read.stores and read.input_errors:
            raise read.input_errors[0]
        stores = read.stores
        mapping = map_mesh(stores, rules=options.rules, exists=catalog.exists)
    except CatalogError as err:
        # the catalog could not be read: what was read is still summarised and recorded
        report.fail(f"catalog unreachable, nothing was written: {err}")
        log.error("%s", err)
        stores = read.stores
        mapping = map_mesh(stores, rules=options.rules)
        summary = summarize(report, stores, mapping, Plan(), None, options)
        return _finish(options, report, catalog, summary, Plan(), pending=([], []))
    scopes = [store.qualified_name for store in stores]
    plan, applied = _push(options, report, catalog, mapping.entities, scopes)
    summary = summarize(report, stores, mapping, plan, applied, options)
    return _finish(options, report, catalog, summary, plan, pending=(mapping.entities, scopes))


def _push(
    options: ScanOptions,
    report: RunReport,
    catalog: Catalog,
    desired: list[dict[str, Any]],
    scopes: list[str],
) -> tuple[Plan, dict[str, Any] | None]:
    """Plan against the catalog and, unless a dry run, apply. A catalog failure is
    recorded in the report, never raised: what was read stays recorded."""
    try:
        current = catalog.current(
            [(e["typeName"], e["attributes"]["qualifiedName"]) for e in desired], scopes
        )
    except CatalogError as err:
        report.fail(f"catalog unreachable, nothing was written: {err}")
        log.error("%s", err)
        return Plan(), None
    plan = compute_plan(
        desired, current, delete_scope=scopes, protected=[DATA_PRODUCT], keep_deleted=options.keep_deleted
    )
    if options.dry_run:
        return plan, None
    if not catalog.transactional:
        # the run's results are stored locally before any push starts
        catalog.record_run(
            {**report.to_json(), "status": "pushing", "pending": {"entities": desired, "scopes": scopes}}
        )
    try:
        written = catalog.sync_typedefs()
        if written["create"] or written["update"]:
            report.count("typedefs_written", len(written["create"]) + len(written["update"]))
        applied = catalog.apply(plan, run_id=report.run_id)
    except CatalogError as err:
        report.fail(str(err))
        log.error("%s", err)
        return plan, None
    for failure in applied.failed:
        report.fail(failure)
    return plan, applied.to_json()


def _finish(
    options: ScanOptions,
    report: RunReport,
    catalog: Catalog,
    summary: dict[str, Any],
    plan: Plan,
    pending: tuple[list[dict[str, Any]], list[str]],
) -> ScanOutcome:
    report.finish()
    summary["status"] = report.status
    if not options.dry_run:
        record = {**report.to_json(), "summary": summary}
        if report.status != "ok" and not catalog.transactional and pending[0]:
            record["pending"] = {"entities": pending[0], "scopes": pending[1]}
        try:
            catalog.record_run(record)
        except CatalogError as err:
            log.error("could not record the run: %s", err)
    exit_code = EXIT_OK if report.status == "ok" else EXIT_PARTIAL
    return ScanOutcome(summary=summary, exit_code=exit_code, plan=plan, report=report)


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
    plan, applied = _push(options, report, catalog, desired, scopes)
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


def domain_mapping(read: ReadResult, options: ScanOptions) -> dict[str, str]:
    """The config's domain mapping, with each source's own ``domain`` for its stores
    (an explicit entry in ``domains`` wins)."""
    mapping = dict(options.domains)
    for report, stores in read.per_source:
        domain = options.source_domains.get(report.uri)
        if domain:
            for store in stores:
                mapping.setdefault(f"{store.kind}/{store.name}", domain)
    return mapping


def counts(stores: Sequence[FeatureStore], mapping: MeshMapping | None = None) -> dict[str, int]:
    sets = [fs for s in stores for fs in s.feature_sets]
    lineage = (
        mapping.lineage_edges
        if mapping is not None
        else sum(len({src.uri for src in fs.sources}) + len(fs.derived_from) for fs in sets)
    )
    return {
        "stores": len(stores),
        "feature_sets": len(sets),
        "features": sum(len(fs.features) for fs in sets),
        "entities": sum(len(s.entities) for s in stores),
        "lineage": lineage,
    }


def summarize(
    report: RunReport,
    stores: Sequence[FeatureStore],
    mapping: MeshMapping,
    plan: Plan,
    applied: dict[str, Any] | None,
    options: ScanOptions,
) -> dict[str, Any]:
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
            }
            for s in report.sources
        ],
        "counts": counts(stores, mapping),
        "plan": plan.to_json(),
        "applied": applied,
        "findings": {"critical": 0, "error": 0, "warning": 0, "info": 0, "waived": 0},
        "score": {"mesh": None, "grade": None, "domains": {}},
        "warnings": report.warnings.to_json() + [w for s in report.sources for w in s.warnings.to_json()],
        "failures": report.failures.to_json(),
    }


__all__ = ["InputError", "ScanOptions", "ScanOutcome", "run_scan"]
