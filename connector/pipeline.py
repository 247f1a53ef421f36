"""The reading stage every command shares: sources -> stores, domains, references.

``read_sources`` reads every source into the neutral model, recording each source's
outcome in the run report; a source that fails is recorded and the others go on.
``resolve_domains`` decides each feature set's domain, and ``resolve_references``
pins and checks the derived-from links across all stores read (and, where given, the
feature sets a catalog already holds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from connector.errors import FeatmeshError, InputError
from connector.model import FeatureSet, FeatureSetRef, FeatureStore, newest_version
from connector.runreport import RunReport
from connector.sources import SourceSpec, read_source

log = logging.getLogger(__name__)


@dataclass
class ReadResult:
    stores: list[FeatureStore] = field(default_factory=list)
    input_errors: list[InputError] = field(default_factory=list)
    """Input errors of failed sources, in source order (for exit code 2)."""

    @property
    def feature_sets(self) -> list[FeatureSet]:
        return [fs for store in self.stores for fs in store.feature_sets]


def read_sources(specs: Iterable[SourceSpec], report: RunReport) -> ReadResult:
    """Read each source; a failing one is recorded in ``report`` and skipped."""
    result = ReadResult()
    for spec in specs:
        source_report = report.source(spec.uri, spec.kind)
        try:
            stores = read_source(spec, source_report)
        except FeatmeshError as err:
            source_report.fail(str(err))
            log.error("source %s failed: %s", spec.uri, err)
            if isinstance(err, InputError):
                result.input_errors.append(err)
            continue
        except OSError as err:  # a permission error, a vanished file
            source_report.fail(f"cannot read: {err.strerror or err}")
            log.error("source %s failed: %s", spec.uri, err)
            continue
        log.info("source %s: %d feature sets", spec.uri, source_report.feature_sets)
        result.stores.extend(stores)
    return result


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
    return out


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
        "which no source read in this run"
        + (" nor the catalog" if elsewhere is not None else "")
        + " holds"
    )
    if place is None:
        raise InputError(message, path=fs.qualified_name)
    raise InputError(
        f"{place.pointer}: {message}" if place.pointer else message,
        path=place.path,
        where=str(place.line) if place.line else None,
    )
