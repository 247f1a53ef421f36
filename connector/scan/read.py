"""The reading stage every command shares: sources -> stores, domains, references.

``read_sources`` reads every source into the neutral model, recording each source's
outcome in the run report; a source that fails is recorded and the others go on.
``resolve_domains`` decides each feature set's domain, and ``resolve_references``
pins and checks the derived-from links across all stores read (and, where given, the
feature sets a catalog already holds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from featmesh.connector import progress
from featmesh.connector.errors import FeatmeshError, InputError, SourcesFailed
from featmesh.connector.model import FeatureSet, FeatureSetRef, FeatureStore, newest_version
from featmesh.connector.runreport import RunReport, SourceReport
from featmesh.connector.sources import SourceSpec, read_source

log = logging.getLogger(__name__)


@dataclass
class ReadResult:
    per_source: list[tuple[SourceReport, list[FeatureStore]]] = field(default_factory=list)
    """Each source's report and the stores it gave (none where it failed)."""
    input_errors: list[InputError] = field(default_factory=list)
    """Input errors of failed sources, in source order (for exit code 2)."""

    @property
    def stores(self) -> list[FeatureStore]:
        return [store for report, stores in self.per_source if report.status == "ok" for store in stores]

    @property
    def feature_sets(self) -> list[FeatureSet]:
        return [fs for store in self.stores for fs in store.feature_sets]

    def replace_stores(self, stores: list[FeatureStore]) -> None:
        """Swap in processed versions of the stores (same order, same names)."""
        by_key = {(s.kind, s.name): s for s in stores}
        self.per_source = [
            (report, [by_key.get((s.kind, s.name), s) for s in group]) for report, group in self.per_source
        ]


def read_sources(specs: Iterable[SourceSpec], report: RunReport) -> ReadResult:
    """Read each source; a failing one is recorded in ``report`` and skipped."""
    result = ReadResult()
    specs = list(specs)
    for number, spec in enumerate(specs, start=1):
        progress.step(f"reading source {number}/{len(specs)}: {spec.uri}")
        source_report = report.source(spec.uri, spec.kind)
        try:
            stores = read_source(spec, source_report)
        except FeatmeshError as err:
            source_report.fail(str(err))
            log.info("source %s failed: %s", spec.uri, err)
            if isinstance(err, InputError):
                result.input_errors.append(err)
            result.per_source.append((source_report, []))
            continue
        except OSError as err:  # a permission error, a vanished file
            source_report.fail(f"cannot read: {err.strerror or err}")
            log.info("source %s failed: %s", spec.uri, err)
            result.per_source.append((source_report, []))
            continue
        clash = _same_store(result, stores)
        if clash is not None:
            message = (
                f"store {clash[0]} is also read from source {clash[1]}: two sources may not describe "
                "the same store (each would delete the other's feature sets)"
            )
            source_report.fail(message)
            log.info("source %s failed: %s", spec.uri, message)
            result.input_errors.append(InputError(message, path=spec.uri))
            result.per_source.append((source_report, []))
            continue
        log.info("source %s: %d feature sets", spec.uri, source_report.feature_sets)
        source_report.stores = [store.qualified_name for store in stores]
        result.per_source.append((source_report, stores))
    progress.done()
    return result


def all_failed(result: ReadResult, report: RunReport) -> SourcesFailed:
    """The error that ends a run in which every source failed on its input."""
    sources = [
        {k: s.to_json()[k] for k in ("uri", "kind", "status", "feature_sets", "error")}
        for s in report.sources
    ]
    return SourcesFailed(result.input_errors[0], sources, report.run_id)


def _same_store(result: ReadResult, stores: list[FeatureStore]) -> tuple[str, str] | None:
    """(store, the source that read it first) when ``stores`` repeats a store already read."""
    seen = {(s.kind, s.name): report.uri for report, group in result.per_source for s in group}
    for store in stores:
        if (store.kind, store.name) in seen:
            return f"{store.kind}/{store.name}", seen[(store.kind, store.name)]
    return None


def read_counts(stores: Sequence[FeatureStore]) -> dict[str, int]:
    """The JSON contract's ``counts`` of what was read. ``lineage`` counts links: each
    distinct source of a set, and each parent of a derived set (as the mapping draws them)."""
    sets = [fs for s in stores for fs in s.feature_sets]
    return {
        "stores": len(stores),
        "feature_sets": len(sets),
        "features": sum(len(fs.features) for fs in sets),
        "entities": sum(len(s.entities) for s in stores),
        "lineage": sum(len({src.uri for src in fs.sources}) + len(fs.derived_from) for fs in sets),
    }


def check_references(result: ReadResult, elsewhere: KnownSets | None = None) -> None:
    """Pin and check derived-from references source by source. A source whose
    references do not resolve fails (its error recorded), and the others go on;
    this repeats until no more sources fail, since a failed source's sets are gone."""
    while True:
        stores = result.stores
        try:
            pinned = resolve_references(stores, elsewhere)
        except InputError as err:
            culprit = _source_of(result, err)
            if culprit is None:
                raise
            culprit.fail(str(err))
            result.input_errors.append(err)
            continue
        result.replace_stores(pinned)
        return


def _source_of(result: ReadResult, err: InputError) -> SourceReport | None:
    for report, stores in result.per_source:
        if report.status != "ok":
            continue
        for store in stores:
            for fs in store.feature_sets:
                if fs.origin and fs.origin.path == err.path:
                    return report
                if fs.origin is None and fs.qualified_name == err.path:
                    return report
    return None


# --------------------------------------------------------------------------- domains

DomainMap = Mapping[str, str]
"""Config mapping from ``KIND/STORE``, ``STORE`` or ``KIND/STORE/SET`` to a domain."""


def resolve_domains(stores: list[FeatureStore], mapping: DomainMap | None = None) -> list[FeatureStore]:
    """Decide each feature set's domain; first rule that matches wins.

    1. ``config``: the config's mapping for the set, its store or its project;
    2. ``declared``: the domain the definition declares (a manifest's ``domain``);
    3. ``tag``: a ``domain`` tag on the feature set;
    4. ``store``: the store's own grouping (its name: a Feast project, an Azure ML
       feature store, a Databricks schema, a Feathr workspace).
    """
    mapping = mapping or {}
    resolved = []
    for store in stores:
        sets = tuple(_domain_of(fs, store, mapping) for fs in store.feature_sets)
        resolved.append(replace(store, feature_sets=sets))
    return resolved


def domain_mapping(
    read: ReadResult, domains: DomainMap | None = None, source_domains: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A config's domain mapping, with each source's own ``domain`` (by source URI)
    applied to the stores it gave; an explicit entry in ``domains`` wins."""
    mapping = dict(domains or {})
    for report, stores in read.per_source:
        domain = (source_domains or {}).get(report.uri)
        if domain:
            for store in stores:
                mapping.setdefault(f"{store.kind}/{store.name}", domain)
    return mapping


def store_sources(read: ReadResult) -> dict[tuple[str, str], str]:
    """``(store kind, store name)`` -> the URI of the source that gave it."""
    return {(store.kind, store.name): report.uri for report, stores in read.per_source for store in stores}


def _domain_of(fs: FeatureSet, store: FeatureStore, mapping: DomainMap) -> FeatureSet:
    for key in (f"{fs.store_kind}/{fs.store}/{fs.name}", f"{fs.store_kind}/{fs.store}", fs.store):
        if key in mapping:
            return replace(fs, domain=mapping[key], domain_rule="config")
    if fs.domain and fs.domain_rule == "declared":
        return fs
    if fs.tags.get("domain"):
        return replace(fs, domain=fs.tags["domain"], domain_rule="tag")
    return replace(fs, domain=store.domain or store.name, domain_rule="store")


# --------------------------------------------------------------------------- references

KnownSets = Callable[[FeatureSetRef], list[str | None]]
"""Given a reference, the versions of that set found elsewhere (a catalog)."""


def resolve_references(stores: list[FeatureStore], elsewhere: KnownSets | None = None) -> list[FeatureStore]:
    """Pin unversioned derived-from references to the newest version and check that
    each names a feature set that was read or that ``elsewhere`` knows.

    Raises InputError at the deriving set's origin for a reference nothing resolves.
    """
    versions: dict[tuple[str, str, str], list[str | None]] = {}
    for store in stores:
        for fs in store.feature_sets:
            versions.setdefault((fs.store_kind, fs.store, fs.name), []).append(fs.version)
    out = []
    for store in stores:
        sets = []
        for fs in store.feature_sets:
            refs = tuple(_pin(ref, fs, versions, elsewhere) for ref in fs.derived_from)
            sets.append(replace(fs, derived_from=refs) if refs != fs.derived_from else fs)
        out.append(replace(store, feature_sets=tuple(sets)))
    _refuse_cycles(out)
    return out


def _refuse_cycles(stores: list[FeatureStore]) -> None:
    """Lineage between feature sets must not loop: a set derived from itself, or a
    cycle of sets, is an input error at the first set's origin naming the cycle
    (one depth-first pass, linear in sets and references)."""
    sets = {fs.qualified_name: fs for store in stores for fs in store.feature_sets}
    parents = {
        qn: [r.qualified_name for r in fs.derived_from if r.qualified_name in sets] for qn, fs in sets.items()
    }
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sets:
        if state.get(start):
            continue
        path, stack = [start], [iter(parents[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                fs = sets[nxt]
                what = "is derived from itself" if len(cycle) == 2 else "makes a cycle"
                message = f"derived_from {what}: {' -> '.join(cycle)}"
                place = fs.origin
                if place is None:
                    raise InputError(message, path=fs.qualified_name)
                raise InputError(
                    f"{place.pointer}: {message}" if place.pointer else message,
                    path=place.path,
                    where=str(place.line) if place.line else None,
                )
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(parents[nxt]))


def _pin(
    ref: FeatureSetRef,
    fs: FeatureSet,
    versions: Mapping[tuple[str, str, str], list[str | None]],
    elsewhere: KnownSets | None,
) -> FeatureSetRef:
    found = list(versions.get((ref.store_kind, ref.store, ref.name), []))
    if elsewhere is not None:
        found += [v for v in elsewhere(ref) if v not in found]
    if ref.version is None and found:
        return replace(ref, version=newest_version(found))
    if ref.version in found:
        return ref
    place = fs.origin
    message = (
        f"feature set '{fs.name}' is derived from {ref.qualified_name}, "
        "which no source read in this run" + (" nor the catalog" if elsewhere is not None else "") + " holds"
    )
    if place is None:
        raise InputError(message, path=fs.qualified_name)
    raise InputError(
        f"{place.pointer}: {message}" if place.pointer else message,
        path=place.path,
        where=str(place.line) if place.line else None,
    )
