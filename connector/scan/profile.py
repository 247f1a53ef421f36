"""The profiling stage ``scan`` and ``check`` share: each feature set's source data.

``profile_sets`` profiles each feature set's sources with pyarrow (a source that cannot
be read is a warning for that set; the run goes on), computes drift against the previous
stored profile, and gives the compact per-feature ``profile`` attribute the catalog shows.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from featmesh.connector.model import DatasetProfile, FeatureDrift, FeatureSet, stable_hash
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
) -> Profiles:
    """Profile every feature set's file sources; never raises for one source's data.

    With ``reuse``, a source whose data fingerprint equals its stored profile's is not
    read again (incremental scans); drift is measured only on data that changed."""
    from featmesh.connector.commands.profile import StderrProgress
    from featmesh.connector.profiling import (
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
    before: dict[str, dict[str, str]] = {}  # set qualifiedName -> source -> stored profile
    for (qn, source), text in (previous(fs.qualified_name for fs in sets) if previous else {}).items():
        before.setdefault(qn, {})[source] = text
    out = Profiles()
    runner: Any = None
    if engine is not None:
        from featmesh.connector.commands.engine import open_engine
        from featmesh.connector.errors import FeatmeshError

        try:
            runner = open_engine(engine)
        except FeatmeshError as err:
            report.warn(f"profiling on {engine.engine} is not possible: {err}")
            return out
    for number, fs in enumerate(sets, start=1):
        if not fs.sources:
            continue
        if show:
            print(f"profiling {number}/{len(sets)}: {fs.qualified_name}", file=sys.stderr)
        stored = {
            source: profile_from_json(text) for source, text in before.get(fs.qualified_name, {}).items()
        }
        results = (
            _pushed_down(fs, runner, engine.engine, stored)
            if runner is not None
            else profile_feature_set(fs, options, earlier=stored if reuse else None)
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
                if earlier is not None:
                    drift = compute_drift(profile_from_json(earlier), result.profile)
                    out.drift.setdefault(fs.qualified_name, []).extend(drift)
        for name, (column, dataset) in feature_columns(fs, results).items():
            out.feature_attributes[fs.feature_qn(name)] = {"profile": feature_profile_json(column, dataset)}
    return out


def _pushed_down(
    fs: FeatureSet, runner: Any, name: str, stored: Mapping[str, DatasetProfile]
) -> tuple[Any, ...]:
    """Each source of ``fs`` profiled on the engine (a table name or a path it reads); drift
    bins are counted there against the stored profile's edges."""
    from featmesh.connector.errors import FeatmeshError
    from featmesh.connector.profiling import SourceProfile
    from featmesh.connector.profiling.locate import local_path
    from featmesh.connector.profiling.pushdown import PushdownOptions, profile_relation

    base_dir = os.path.dirname(os.path.abspath(fs.origin.path)) if fs.origin else None
    results = []
    for source in fs.sources:
        if source.kind not in ("file", "delta", "s3", "adls", "gcs", "table", "unity_catalog", "hive"):
            results.append(
                SourceProfile(
                    source=source,
                    uri=source.uri,
                    status="skipped",
                    error=f"a {source.kind} source is not a table",
                )
            )
            continue
        options = PushdownOptions(
            timestamp_column=source.timestamp_field or fs.timestamp_field, previous=stored.get(source.uri)
        )
        try:
            path = local_path(source.uri, base_dir) if source.kind != "table" else None
            target = str(path) if path is not None else source.uri
            relation = runner.relation(target, source.format.lower() if source.format else None)
            columns = {n for n, _ in runner.schema(relation)}
            if options.timestamp_column not in columns:
                options = PushdownOptions(previous=options.previous)
            profile = profile_relation(runner, relation, options, uri=source.uri, engine_name=name)
        except FeatmeshError as err:
            results.append(SourceProfile(source=source, uri=source.uri, status="failed", error=str(err)))
            continue
        results.append(SourceProfile(source=source, uri=source.uri, status="ok", profile=profile))
    return tuple(results)
