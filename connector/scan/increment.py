"""Incremental scans: which feature sets need evaluating again, and what is kept.

A feature set is skipped (neither re-evaluated nor re-pushed) when, against the last
recorded scan of the same catalog:

- its definition hash is the same, and so is its data fingerprint when profiled;
- the rules are the same: pack names and versions and their full configuration, the
  waivers file's content, and the day (waivers expire, data ages);
- no changed, added or removed feature set can change its mesh-wide results: none
  shares one of its feature names (meaning conflicts), one of its sources (duplicate
  engineering) or a join key name whose types or domain changed (key types), and none is
  its parent or its child (stale derived sets).

Everything else is evaluated as usual, with the skipped sets as the rest of the mesh.
The skipped sets keep their scores and findings from that run, their classifications
stay as the catalog holds them, and the run record lists them with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from featmesh.connector.model import FeatureSet, stable_hash


@dataclass
class Increment:
    previous_run: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    """Skipped set qualifiedName -> why."""
    evaluate: list[FeatureSet] = field(default_factory=list)
    kept_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    kept_findings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "previous_run": self.previous_run,
            "evaluated": len(self.evaluate),
            "skipped": [{"feature_set": qn, "reason": why} for qn, why in sorted(self.skipped.items())],
        }


def rules_signature(
    policy: Any, waivers: Path | None, today: dt.date | None = None, contracts: Any = None
) -> str:
    """What, besides the definitions and the data, decides an evaluation's outcome
    (the data contracts' promises included, when there are any)."""
    text = waivers.read_bytes().hex() if waivers and waivers.exists() else ""
    where = str(waivers.resolve()) if waivers else ""  # findings about waivers carry their path
    parts: list[Any] = [canonical(policy), text, where, (today or dt.date.today()).isoformat()]
    if contracts:
        parts.append(sorted(stable_hash(canonical(t)) for t in contracts.values()))
    return stable_hash(parts)


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data that is the same in every process: dataclasses as
    their fields, sets sorted, functions by their qualified name, anything else by its
    ``repr`` (a ``repr`` of a set follows string hashing, which differs per process)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in fields(value)} | {
            "@type": type(value).__qualname__
        }
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return repr(value)


def last_scan(runs: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest scan run recorded with an evaluation (``runs`` newest first)."""
    return next((r for r in runs if r.get("command") == "scan" and r.get("evaluation")), None)


def previous_record(runs: Iterable[Mapping[str, Any]], signature: str) -> Mapping[str, Any] | None:
    """The newest scan run recorded with an evaluation, if it was under the same rules."""
    record = last_scan(runs)
    return record if record is not None and record["evaluation"].get("signature") == signature else None


def plan_increment(
    sets: Sequence[FeatureSet],
    record: Mapping[str, Any] | None,
    fingerprints: Mapping[str, str | None] | None = None,
    held: Callable[[str], bool] = lambda _qn: True,
    readers: Mapping[str, Any] | None = None,
) -> Increment:
    """Split ``sets`` into those to evaluate and those to skip. ``held`` says whether the
    catalog holds a set with its outcome: a set it lost (a new or wiped catalog) is
    evaluated and written again whatever the history says. ``readers`` are who reads
    each set now (``set_consumers``): a set whose readers changed since the record (a
    model added, or naming another revision) is evaluated again."""
    if record is None:
        return Increment(evaluate=list(sets))
    before: Mapping[str, Mapping[str, Any]] = record["evaluation"].get("sets", {})
    fingerprints = fingerprints or {}
    changed = [
        fs
        for fs in sets
        if fs.qualified_name not in before
        or before[fs.qualified_name].get("content_hash") != fs.content_hash
        or before[fs.qualified_name].get("data_fingerprint") != fingerprints.get(fs.qualified_name)
        or not held(fs.qualified_name)
    ]
    # who reads a set only matters to the rules about its own readers: no other set is touched
    reread = {
        id(fs) for fs in sets if _readers_changed(before.get(fs.qualified_name), readers, fs.qualified_name)
    }
    current = {fs.qualified_name for fs in sets}
    removed = [meta for qn, meta in before.items() if qn not in current]
    touched = _touched(changed, removed, before)
    changed_ids = {id(fs) for fs in changed}
    out = Increment(previous_run=record.get("run_id"))
    for fs in sets:
        if id(fs) in changed_ids or id(fs) in reread or _affected(fs, touched):
            out.evaluate.append(fs)
            continue
        out.skipped[fs.qualified_name] = (
            f"definition{' and data' if fingerprints.get(fs.qualified_name) else ''} unchanged "
            f"since run {record.get('run_id')}"
        )
        out.kept_sets[fs.qualified_name] = dict(before[fs.qualified_name])
    kept = set(out.kept_sets)
    out.kept_findings = [
        f for f in record["evaluation"].get("findings", []) if f.get("target", "").split("#", 1)[0] in kept
    ]
    return out


def _readers_changed(before: Mapping[str, Any] | None, readers: Mapping[str, Any] | None, qn: str) -> bool:
    """The set's readers differ from the record's (records older than the readers say nothing)."""
    if readers is None or before is None or "consumers" not in before:
        return False
    return list(before["consumers"]) != list(readers.get(qn) or [])


@dataclass
class _Touched:
    names: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    sets: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)


def key_types(fs: FeatureSet) -> list[list[str]]:
    """The set's join keys as recorded: ``[[name, dtype], ...]``."""
    return [[k.name, k.dtype] for k in fs.join_keys]


def mesh_facts(fs: FeatureSet) -> str:
    """A hash of what the mesh-wide rules compare of a set with other sets by feature name
    and by source: its domain, its sources and their columns, and each feature's name,
    type, tags, source columns and transformation. A set edited elsewhere (a description,
    an owner, a TTL) keeps it, and touches no other set through its names or sources."""
    return stable_hash(
        [
            fs.domain or fs.store,
            [[s.uri, list(s.columns)] for s in fs.sources],
            [
                [f.name, f.dtype, sorted(f.tags.items()), list(f.source_columns), f.transformation]
                for f in fs.features
            ],
        ]
    )[:32]


def _touched(
    changed: Sequence[FeatureSet],
    removed: Sequence[Mapping[str, Any]],
    before: Mapping[str, Mapping[str, Any]],
) -> _Touched:
    touched = _Touched()
    for fs in changed:
        prev = before.get(fs.qualified_name) or {}
        if not prev or prev.get("mesh_facts") != mesh_facts(fs):
            touched.names.update(f.name for f in fs.features)
            touched.sources.update(s.uri.rstrip("/") for s in fs.sources)
        # a set's join keys matter to other sets only where their types or domain changed
        # (most sets of a mesh share a key such as customer_id)
        keys = key_types(fs)
        if prev.get("join_keys") != keys or prev.get("domain") != (fs.domain or fs.store):
            touched.keys.update(name for name, _ in keys)
            touched.keys.update(entry[0] for entry in prev.get("join_keys") or ())
        touched.sets.add(fs.qualified_name)
        touched.parents.update(r.qualified_name for r in fs.derived_from)
    for meta in removed:
        touched.names.update(meta.get("features", []))
        touched.keys.update(entry[0] for entry in meta.get("join_keys") or ())
        touched.sources.update(s.rstrip("/") for s in meta.get("sources", []))
        touched.parents.update(meta.get("derived_from", []))
    return touched


def _affected(fs: FeatureSet, touched: _Touched) -> bool:
    return (
        any(f.name in touched.names for f in fs.features)
        or any(k.name in touched.keys for k in fs.join_keys)
        or any(s.uri.rstrip("/") in touched.sources for s in fs.sources)
        or any(r.qualified_name in touched.sets for r in fs.derived_from)
        or fs.qualified_name in touched.parents
    )


# --------------------------------------------------------------------------- merging


def merge_scores(sets: Mapping[str, Mapping[str, Any]], grade: Any) -> dict[str, Any]:
    """The contract's ``score`` block from per-set entries (the formula of
    ``policies.scoring``: a domain is the mean of its sets, the mesh of its domains)."""
    members: dict[str, list[Mapping[str, Any]]] = {}
    for meta in sets.values():
        members.setdefault(meta.get("domain") or "", []).append(meta)
    domains: dict[str, float] = {}
    dimensions: dict[str, dict[str, float]] = {}
    for name, metas in sorted(members.items()):
        domains[name] = round(fmean(m["score"] for m in metas), 1)
        dims: dict[str, list[float]] = {}
        for m in metas:
            for d, v in (m.get("dimensions") or {}).items():
                dims.setdefault(d, []).append(v)
        dimensions[name] = {d: round(fmean(v), 1) for d, v in sorted(dims.items())}
    mesh = round(fmean(domains.values()), 1) if domains else 100.0
    return {
        "mesh": mesh,
        "grade": grade(mesh),
        "domains": domains,
        "domain_grades": {name: grade(value) for name, value in domains.items()},
        "dimensions": dimensions,
    }


def count_findings(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The contract's ``findings`` block from recorded findings."""
    counts = {"critical": 0, "error": 0, "warning": 0, "info": 0, "waived": 0, "check_errors": 0}
    for finding in findings:
        if finding.get("reason") == "waived":
            counts["waived"] += 1
        elif finding.get("state") == "error":
            counts["check_errors"] += 1
        elif finding.get("state") == "failed":
            counts[finding["severity"]] += 1
    return counts
