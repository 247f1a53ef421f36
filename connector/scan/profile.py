"""The profiling stage ``scan`` and ``check`` share: each feature set's source data.

``profile_sets`` profiles each feature set's sources with pyarrow (a source that cannot
be read is a warning for that set; the run goes on), computes drift against the previous
stored profile, and gives the compact per-feature ``profile`` attribute the catalog shows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from featmesh.connector.model import DatasetProfile, FeatureDrift, FeatureSet, SourceRef, stable_hash
from featmesh.connector.runreport import RunReport

log = logging.getLogger(__name__)

Previous = Callable[[Iterable[str]], Mapping[tuple[str, str], str]]
"""Given feature set qualifiedNames, the newest stored profile JSON per (set, source)."""


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
    engine: Any = None,
    source_of: Mapping[tuple[str, str], str] | None = None,
) -> Profiles:
    """Profile every feature set's sources; never raises for one source's data.

    ``engine`` is an ``EnginePlan`` (or one ``EngineChoice`` for every set), and
    ``source_of`` names the config source each store came from (``(kind, store)`` ->
    source URI), for the sources' own engines. Unity Catalog tables go to their
    warehouse (``route``); pyarrow never pulls them.

    With ``reuse``, a source whose data fingerprint equals its stored profile's is not
    read again (incremental scans); drift is measured only on data that changed."""
    from featmesh.connector import progress as shown
    from featmesh.connector.profiling import ProfileOptions

    with_sources = [fs for fs in sets if fs.sources]
    bar = (
        shown.meter("profiling sources", len(with_sources), "sets") if progress is not False else shown.SILENT
    )
    rows = shown.StderrProgress(into=bar) if bar is not shown.SILENT else None
    options = ProfileOptions(sample_rows=sample_rows, progress=rows, remote=remote)
    log.info("profiling the sources of %d feature sets", len(with_sources))
    before: dict[str, dict[str, str]] = {}  # set qualifiedName -> source -> stored profile
    for (qn, source), text in (previous(fs.qualified_name for fs in sets) if previous else {}).items():
        before.setdefault(qn, {})[source] = text
    out = Profiles()
    plan = _as_plan(engine)
    runners = _Runners(report)
    with bar:
        for fs in with_sources:
            choice = route(fs, plan.for_source((source_of or {}).get((fs.store_kind, fs.store))))
            runner = runners.get(choice) if choice.engine != "local" else None
            if choice.engine == "local" or runner is not None:
                _profile_one(fs, report, out, before, options, reuse, runner, choice.engine)
            bar.detail = ""  # the rows of the set just done
            bar.advance()
    return out


def _profile_one(
    fs: FeatureSet,
    report: RunReport,
    out: Profiles,
    before: Mapping[str, Mapping[str, str]],
    options: Any,
    reuse: bool,
    runner: Any,
    engine: str,
) -> None:
    from featmesh.connector.profiling import (
        compute_drift,
        feature_columns,
        feature_profile_json,
        profile_from_json,
        profile_to_json,
    )

    stored = {source: profile_from_json(text) for source, text in before.get(fs.qualified_name, {}).items()}
    results = (
        _pushed_down(fs, runner, engine, stored, reuse=reuse)
        if runner is not None
        else _local(fs, options, stored if reuse else None)
    )
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
            earlier = before.get(fs.qualified_name, {}).get(key)
            if result.profile.drift:  # computed by the metrics source (a monitor)
                out.drift.setdefault(fs.qualified_name, []).extend(result.profile.drift)
            elif earlier is not None:
                drift = compute_drift(profile_from_json(earlier), result.profile)
                out.drift.setdefault(fs.qualified_name, []).extend(drift)
    for name, (column, dataset) in feature_columns(fs, results).items():
        out.feature_attributes[fs.feature_qn(name)] = {"profile": feature_profile_json(column, dataset)}


def _as_plan(engine: Any) -> Any:
    from featmesh.connector.scan.engine import EngineChoice, EnginePlan

    if engine is None:
        return EnginePlan()
    if isinstance(engine, EngineChoice):
        return EnginePlan(forced=engine, default=engine)
    return engine


def is_unity_table(fs: FeatureSet, source: SourceRef) -> bool:
    """``source`` is the Unity Catalog table a ``databricks:`` feature set is."""
    return fs.store_kind == "databricks" and bool(source.name) and source.name == fs.extra.get("full_name")


def route(fs: FeatureSet, choice: Any) -> Any:
    """Where ``fs`` is profiled: the chosen engine, except that a Unity Catalog feature
    table goes to Databricks SQL when no engine was named and a warehouse is configured
    (the source's or the top-level one); the workspace is the one the set was read from."""
    from dataclasses import replace
    from urllib.parse import urlparse

    unity = any(is_unity_table(fs, s) for s in fs.sources)
    if unity and choice.engine == "local" and not choice.named and choice.warehouse_id:
        choice = replace(choice, engine="databricks-sql")
    if unity and choice.engine == "databricks-sql" and not choice.databricks_host and fs.origin:
        host = urlparse(fs.origin.path).netloc
        choice = replace(choice, databricks_host=host or None)
    return choice


class _Runners:
    """One engine per choice for the whole run; one that cannot start is reported once."""

    def __init__(self, report: RunReport) -> None:
        self.report = report
        self.opened: dict[Any, Any] = {}

    def get(self, choice: Any) -> Any:
        from featmesh.connector.errors import FeatmeshError
        from featmesh.connector.scan.engine import open_engine

        if choice not in self.opened:
            try:
                self.opened[choice] = open_engine(choice)
            except FeatmeshError as err:
                self.report.warn(f"profiling on {choice.engine} is not possible: {err}")
                self.opened[choice] = None
        return self.opened[choice]


def _local(fs: FeatureSet, options: Any, earlier: Mapping[str, DatasetProfile] | None) -> tuple[Any, ...]:
    """The pyarrow profiler, except for Unity Catalog tables: their data stays in the
    workspace (a warehouse profiles them)."""
    from dataclasses import replace

    from featmesh.connector.profiling import SourceProfile, profile_feature_set

    unity = [s for s in fs.sources if is_unity_table(fs, s)]
    if not unity:
        return profile_feature_set(fs, options, earlier=earlier)
    rest = profile_feature_set(
        replace(fs, sources=tuple(s for s in fs.sources if s not in unity)), options, earlier=earlier
    )
    skipped = tuple(
        SourceProfile(
            source=s,
            uri=s.uri,
            status="skipped",
            error=f"{s.name} is a Unity Catalog table: it is profiled on a SQL warehouse "
            "(profiling.warehouse_id), never pulled here",
        )
        for s in unity
    )
    return skipped + tuple(rest)


_TABLE_KINDS = ("file", "delta", "s3", "adls", "gcs", "table", "unity_catalog", "hive")


def _pushed_down(
    fs: FeatureSet, runner: Any, name: str, stored: Mapping[str, DatasetProfile], *, reuse: bool = False
) -> tuple[Any, ...]:
    """Each source of ``fs`` profiled on the engine (a table name or a path it reads); drift
    bins are counted there against the stored profile's edges. A Unity Catalog table with
    a snapshot monitor is read from the monitor's metric tables; with ``reuse``, a table
    whose fingerprint (``DESCRIBE DETAIL``, or file sizes and times) is unchanged is not
    profiled again."""
    from featmesh.connector.errors import FeatmeshError
    from featmesh.connector.profiling import SourceProfile
    from featmesh.connector.profiling.engines import is_table_name
    from featmesh.connector.profiling.locate import local_path
    from featmesh.connector.profiling.monitoring import monitored_profile
    from featmesh.connector.profiling.pushdown import PushdownOptions, profile_relation

    base_dir = os.path.dirname(os.path.abspath(fs.origin.path)) if fs.origin else None
    results = []
    for source in fs.sources:
        if source.kind not in _TABLE_KINDS:
            results.append(
                SourceProfile(
                    source=source,
                    uri=source.uri,
                    status="skipped",
                    error=f"a {source.kind} source is not a table",
                )
            )
            continue
        previous = stored.get(source.uri)
        options = PushdownOptions(
            timestamp_column=source.timestamp_field or fs.timestamp_field, previous=previous
        )
        unity = is_unity_table(fs, source) and name != "spark"
        try:
            if unity and source.name and is_table_name(source.name):
                target = source.name
            else:
                where = source.location or source.uri  # a file of the store's folder: on this machine
                path = local_path(where, base_dir) if source.kind != "table" else None
                target = str(path) if path is not None else source.uri
            relation = runner.relation(target, source.format.lower() if source.format else None)
            detail = _detail(runner, relation, target)
            fingerprint = _fingerprint(detail, target)
            if reuse and previous is not None and fingerprint and previous.fingerprint == fingerprint:
                results.append(
                    SourceProfile(
                        source=source, uri=source.uri, status="ok", profile=_aged(previous), reused=True
                    )
                )
                continue
            columns = {n for n, _ in runner.schema(relation)}
            if options.timestamp_column not in columns:
                options = PushdownOptions(previous=options.previous)
            profile = None
            if unity and hasattr(runner, "get"):
                profile = monitored_profile(
                    runner, str(source.name), relation, options, detail, source.uri, name
                )
            if profile is None:
                profile = profile_relation(runner, relation, options, uri=source.uri, engine_name=name)
        except FeatmeshError as err:
            results.append(SourceProfile(source=source, uri=source.uri, status="failed", error=str(err)))
            continue
        results.append(
            SourceProfile(
                source=source, uri=source.uri, status="ok", profile=replace_fp(profile, fingerprint)
            )
        )
    return tuple(results)


def _detail(runner: Any, relation: str, target: str) -> dict[str, Any] | None:
    if os.path.exists(target) or not hasattr(runner, "describe_detail"):
        return None
    found = runner.describe_detail(relation)
    return found if isinstance(found, dict) else None


def _fingerprint(detail: Mapping[str, Any] | None, target: str) -> str | None:
    """A cheap fingerprint of the data: a Delta table's ``DESCRIBE DETAIL`` (its id, last
    modification, file count and size), or a local path's file sizes and times."""
    from featmesh.connector.profiling.locate import path_fingerprint

    if detail:
        keys = ("id", "location", "lastModified", "numFiles", "sizeInBytes")
        return stable_hash([str(detail.get(k)) for k in keys])
    if os.path.exists(target):
        return path_fingerprint(target)
    return None


def replace_fp(profile: DatasetProfile, fingerprint: str | None) -> DatasetProfile:
    from dataclasses import replace

    return replace(profile, fingerprint=fingerprint) if fingerprint else profile


def _aged(profile: DatasetProfile) -> DatasetProfile:
    from featmesh.connector.profiling.profiler import ProfileOptions, _aged

    return _aged(profile, ProfileOptions())
