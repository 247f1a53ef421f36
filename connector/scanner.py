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
from connector.errors import EXIT_OK, EXIT_PARTIAL, CatalogError, InputError
from connector.mapping.entities import DATA_PRODUCT, MeshMapping, map_mesh
from connector.mapping.rules import DEFAULT_RULES, MappingRule
from connector.model import FeatureStore
from connector.pipeline import ReadResult, check_references, read_sources, resolve_domains
from connector.runreport import RunReport
from connector.sources import SourceSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ScanOptions:
    sources: tuple[SourceSpec, ...]
    catalog: str | None = None
    dry_run: bool = False
    rules: tuple[MappingRule, ...] = DEFAULT_RULES
    domains: Mapping[str, str] = field(default_factory=dict)


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
    read = read_sources(options.sources, report)
    if not read.stores and read.input_errors:
        raise read.input_errors[0]
    catalog = open_catalog(options.catalog, read_only=options.dry_run)
    try:
        return _scan(options, report, read, catalog)
    finally:
        catalog.close()


def _scan(options: ScanOptions, report: RunReport, read: ReadResult, catalog: Catalog) -> ScanOutcome:
    read.replace_stores(resolve_domains(read.stores, options.domains))
    check_references(
        read, elsewhere=lambda ref: catalog.feature_set_versions(ref.store_kind, ref.store, ref.name)
    )
    if not read.stores and read.input_errors:
        raise read.input_errors[0]
    stores = read.stores
    mapping = map_mesh(stores, rules=options.rules, exists=catalog.exists)
    scopes = [store.qualified_name for store in stores]
    current = catalog.current(mapping.keys(), scopes)
    plan = compute_plan(mapping.entities, current, delete_scope=scopes, protected=[DATA_PRODUCT])
    applied = None
    if not options.dry_run:
        try:
            typedef_changes = catalog.sync_typedefs()
            if typedef_changes["create"] or typedef_changes["update"]:
                report.count(
                    "typedefs_written", len(typedef_changes["create"]) + len(typedef_changes["update"])
                )
            applied = catalog.apply(plan, run_id=report.run_id)
            for failure in applied.failed:
                report.fail(failure)
        except CatalogError as err:
            report.fail(str(err))
            log.error("%s", err)
    report.finish()
    summary = summarize(report, stores, mapping, plan, applied.to_json() if applied else None, options)
    if not options.dry_run:
        try:
            catalog.record_run({**report.to_json(), "summary": summary})
        except CatalogError as err:
            log.error("could not record the run: %s", err)
    exit_code = EXIT_OK if report.status == "ok" else EXIT_PARTIAL
    return ScanOutcome(summary=summary, exit_code=exit_code, plan=plan, report=report)


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
