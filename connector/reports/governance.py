"""The governance report's data: ``featmesh report --format json``, and what the HTML
and Markdown renderers draw from.

:func:`build_report` takes run records (``Catalog.runs()``, newest first) and gives plain
dicts. The chosen run is ``run_id``, else the newest ``scan`` run that carries an
evaluation, else the newest run at all (then ``notices`` says what is missing). Every key
below is always present; values the run does not hold are ``null`` or empty.

Format (``format_version`` 1)::

    format_version   1
    generated_at     ISO 8601 UTC time the report was built
    catalog          the catalog URI the runs were read from, or null
    run              {run_id, command, status, started_at, finished_at,
                      warnings (count), failures (count),
                      sources [{uri, kind, status, feature_sets, error}]}
    evaluated        true when the run carries a per-feature-set evaluation
    notices          [str]: what the report cannot show, and why
    policy           {name, version, packs} or null
    score            {mesh, grade, previous (mesh score of the scan run before), change}
    counts           the scan's counts {stores, feature_sets, features, entities, lineage}
    findings         counts by severity {critical, error, warning, info, waived, check_errors}
    compliance       {feature_sets, compliant, non_compliant}
    domains          [{name, score, grade, previous, change, dimensions {dimension: score},
                       feature_sets, compliant, failed}] by name
    history          [{run_id, started_at, status, mesh, grade, domains {name: score},
                       selected}] the recent scan runs with a score (up to 30), oldest first
    worst_sets       [{qualified_name, name, version, domain, owner, score, grade, compliant,
                       failed {severity: count}, why, top_finding}] up to 10 sets that score below
                      100 or are not compliant: lowest score first, then most critical and
                      error findings
    failed_rules     [{rule, severity (highest failed), failed, errors, waived,
                       feature_sets, domains [name]}] every rule with a finding: most failures
                      first
    waivers          [{rule, target, owner, reason, expires, days_left, status
                       (active|expiring|expired|unknown), waived (findings it covers),
                       origin}] by expiry
    expiring_waivers the waivers whose expiry is within 30 days of generated_at, or past
    sets             [{qualified_name, name, version, store, domain, owner, description,
                       score, grade, compliant, why (what makes a non-compliant set so:
                       "1 unwaived error (owner-present)", else null), dimensions, sources [uri],
                       derived_from [qn], derived_sets [qn], failed {severity: count},
                       consumers [{key, kind, name, version, owner, domain, features,
                                   revision (the set's revision it was trained on, or null),
                                   outdated (true when that is not the set's revision now)}],
                       revision {id, first_seen, first_run, last_seen, last_run,
                                 earlier [id] (newest first), changed (first seen in this
                                 run, replacing an earlier one)} or null,
                       findings [{rule, target, feature_set, feature, state, severity,
                                  message, reason, waiver}]}] by domain, name, version
    other_findings   findings whose target is no feature set of the run (mesh-level ones)
    revisions        [{qualified_name, name, version, id, earlier}] the sets whose definition
                      changed in this run (a new revision replacing an earlier one), by name
    products         [{uri, sets [qn]}] the source data products the sets read, by URI
    consumers        [{key (KIND/NAME[@VERSION]), kind, name, version, owner, domain,
                       serves [key], reads [qn], compliant (false when a set it reads is non-compliant,
                       true when every one is compliant, else null)}] by domain, name
    contract_changes [{contract, name, current, proposed, status, breaks [{table, column,
                       change, message, feature_sets [qn], consumers [{kind, name, version,
                       owner}], owners}], breaks_downstream}]: proposed contract versions
                       (``contracts:`` in featmesh.yaml) and what each break would break
    rules            {rule: {title, explanation, fix}}: each rule with a finding, as
                       ``policies explain`` gives it (title and explanation null for a
                       rule featmesh does not know), and how to fix what it finds
    mesh_map         {layers [title], domains [{name, feature_sets, compliant,
                       non_compliant, products, models, nodes [{id, type (product |
                       feature_set | derived_set | model), ref (URI, qn or consumer key),
                       label, layer, domain, compliant, external}], edges [{source,
                       target}]}]}: the mesh map, a group per domain

The mesh map's groups hold each domain's own sets and models, its sets' data products,
and, marked ``external``, the nodes of other domains one edge away: the parents of its
derived sets, the sets its models read, and the derived sets and models built on its
sets. A node's ``layer`` is its column: 0 data products, 1 feature sets, 1 + n the sets
derived n levels deep, the models after the deepest set of the mesh, and the endpoints
serving those models one column after them (linked from the models they serve). Growing the mesh
grows each group by its own domain's share only.

A feature's finding (target ``SET#feature``) belongs to its set, with ``feature`` set; a
consumer rule's finding (target a model or endpoint) to the set it names as ``feature_set``.
The derived sets of a feature set are the sets whose ``derived_from`` names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from featmesh.connector.errors import InputError

FORMAT_VERSION = 1
HISTORY_RUNS = 30
WORST_SETS = 10
EXPIRY_DAYS = 30

SEVERITIES = ("critical", "error", "warning", "info")
_RANK = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}

Record = Mapping[str, Any]


def severity_rank(severity: Any) -> int:
    """critical 4, error 3, warning 2, info 1, anything else 0."""
    return _RANK.get(str(severity), 0)


def build_report(
    records: Sequence[Record],
    *,
    run_id: str | None = None,
    now: dt.datetime | None = None,
    catalog: str | None = None,
) -> dict[str, Any]:
    """The report of one run (``run_id``, or the newest evaluated scan) among ``records``,
    newest first. No records, or a ``run_id`` none of them has, is an :class:`InputError`."""
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    where = catalog or "the catalog"
    if not records:
        raise InputError(f"no runs recorded in {where}: run 'featmesh scan' first")
    chosen, notices = choose(records, run_id, where)
    summary = _mapping(chosen.get("summary"))
    evaluation = chosen.get("evaluation")
    evaluated = isinstance(evaluation, Mapping) and isinstance(evaluation.get("sets"), Mapping)
    ev: Record = evaluation if evaluated else {}  # type: ignore[assignment]
    if not evaluated:
        notices.append(
            f"run {chosen.get('run_id')} ({chosen.get('command') or 'unknown command'}, "
            f"{chosen.get('status') or 'unknown status'}) holds no per-feature-set evaluation: "
            "only its summary scores are shown"
        )

    for entry in _mapping(chosen.get("summary")).get("removed_sources") or []:
        if isinstance(entry, Mapping) and not entry.get("retired"):
            stores = ", ".join(str(s) for s in entry.get("stores") or []) or "its stores"
            notices.append(
                f"source {entry.get('uri')} is no longer scanned: {stores} stay in the catalog as last "
                "scanned ('featmesh scan --retire-removed' retires them)"
            )
    history = _history(records, chosen)
    previous = _previous(records, chosen)
    score_block = _mapping(summary.get("score"))
    mesh = _number(score_block.get("mesh"))
    prev_mesh = _number(_mapping(previous.get("summary")).get("score", {}).get("mesh")) if previous else None

    sets = _sets(ev, chosen.get("run_id"))
    qns = {s["qualified_name"] for s in sets}
    findings = [_finding(f) for f in ev.get("findings") or [] if isinstance(f, Mapping)]
    by_set: dict[str, list[dict[str, Any]]] = {qn: [] for qn in qns}
    other: list[dict[str, Any]] = []
    for finding in findings:
        owner_set = finding["feature_set"]
        (by_set[owner_set] if owner_set in qns else other).append(finding)
    for s in sets:
        s["findings"] = sorted(by_set[s["qualified_name"]], key=_finding_order)
        s["failed"] = _failed_counts(s["findings"])
        s["why"] = _why(s["findings"]) if s["compliant"] is False else None

    waivers = _waivers(ev, findings, now.date())
    consumers = _consumers(sets)
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "catalog": catalog if catalog is not None else summary.get("catalog"),
        "run": _run(chosen),
        "evaluated": evaluated,
        "notices": notices,
        "policy": _policy(ev.get("policy")),
        "score": {
            "mesh": mesh,
            "grade": score_block.get("grade"),
            "previous": prev_mesh,
            "change": _change(mesh, prev_mesh),
        },
        "counts": dict(_mapping(summary.get("counts"))),
        "findings": dict(_mapping(summary.get("findings"))),
        "compliance": {
            "feature_sets": len(sets),
            "compliant": sum(1 for s in sets if s["compliant"] is True),
            "non_compliant": sum(1 for s in sets if s["compliant"] is False),
        },
        "domains": _domains(ev, score_block, sets, previous),
        "history": history,
        "worst_sets": _worst(sets),
        "failed_rules": _failed_rules(findings, {s["qualified_name"]: s["domain"] for s in sets}),
        "waivers": waivers,
        "expiring_waivers": [w for w in waivers if w["status"] in ("expiring", "expired")],
        "sets": sets,
        "other_findings": sorted(other, key=_finding_order),
        "revisions": [
            {k: s[k] for k in ("qualified_name", "name", "version")}
            | {"id": s["revision"]["id"], "earlier": s["revision"]["earlier"][:1]}
            for s in sorted(sets, key=lambda s: (str(s["name"] or ""), s["qualified_name"]))
            if s["revision"] and s["revision"]["changed"]
        ],
        "products": _products(sets),
        "consumers": consumers,
        "mesh_map": _mesh_map(sets, consumers),
        "contract_changes": _contract_changes(ev.get("contract_changes")),
        "rules": _rules(ev, sorted({f["rule"] for f in findings})),
    }


def _contract_changes(raw: Any) -> list[dict[str, Any]]:
    """The proposed contract versions the run saw, each break with what it breaks."""
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        breaks = []
        for b in item.get("breaks") or []:
            if not isinstance(b, Mapping):
                continue
            readers = [*(b.get("models") or []), *(b.get("serving_endpoints") or [])]
            breaks.append(
                {
                    "table": b.get("table"),
                    "column": b.get("column"),
                    "change": b.get("change"),
                    "message": b.get("message"),
                    "feature_sets": [str(r.get("qualifiedName")) for r in b.get("feature_sets") or []],
                    "consumers": [
                        {
                            "kind": r.get("kind") or "model",
                            "name": r.get("name"),
                            "version": r.get("version"),
                            "owner": r.get("owner"),
                        }
                        for r in readers
                        if isinstance(r, Mapping)
                    ],
                    "owners": [str(o) for o in b.get("owners") or []],
                }
            )
        out.append(
            {
                "contract": item.get("contract"),
                "name": item.get("name"),
                "current": item.get("current"),
                "proposed": item.get("proposed"),
                "status": item.get("status"),
                "breaks": breaks,
                "breaks_downstream": bool(item.get("breaks_downstream")),
            }
        )
    return out


# --------------------------------------------------------------------------- run choice


def choose(records: Sequence[Record], run_id: str | None, where: str) -> tuple[Record, list[str]]:
    """The run reported on: ``run_id``'s, else the newest scan holding an evaluation, else
    the newest scan (with a notice saying so)."""
    if run_id is not None:
        for record in records:
            if record.get("run_id") == run_id:
                return record, []
        raise InputError(
            f"no run '{run_id}' among the {len(records)} most recent runs in {where} (see 'featmesh runs')"
        )
    scans = [r for r in records if r.get("command") == "scan"]
    for record in scans:
        if isinstance(record.get("evaluation"), Mapping):
            return record, []
    chosen = scans[0] if scans else records[0]
    return chosen, [f"no recent scan run of {where} holds an evaluation; showing the newest run"]


def _scored(record: Record) -> bool:
    score = _mapping(_mapping(record.get("summary")).get("score"))
    return record.get("command") == "scan" and _number(score.get("mesh")) is not None


def _history(records: Sequence[Record], chosen: Record) -> list[dict[str, Any]]:
    rows = []
    for record in [r for r in records if _scored(r)][:HISTORY_RUNS]:
        score = _mapping(_mapping(record.get("summary")).get("score"))
        rows.append(
            {
                "run_id": record.get("run_id"),
                "started_at": record.get("started_at"),
                "status": record.get("status"),
                "mesh": _number(score.get("mesh")),
                "grade": score.get("grade"),
                "domains": {str(k): _number(v) for k, v in sorted(_mapping(score.get("domains")).items())},
                "selected": record is chosen,
            }
        )
    rows.reverse()
    return rows


def _previous(records: Sequence[Record], chosen: Record) -> Record | None:
    """The newest scored scan run older than the chosen one."""
    older = False
    for record in records:
        if record is chosen:
            older = True
        elif older and _scored(record):
            return record
    return None


def _run(record: Record) -> dict[str, Any]:
    sources = []
    for source in record.get("sources") or []:
        if isinstance(source, Mapping):
            sources.append({k: source.get(k) for k in ("uri", "kind", "status", "feature_sets", "error")})
    return {
        "run_id": record.get("run_id"),
        "command": record.get("command"),
        "status": record.get("status"),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "warnings": len(record.get("warnings") or []),
        "failures": len(record.get("failures") or []),
        "sources": sources,
    }


def _policy(policy: Any) -> dict[str, Any] | None:
    if not isinstance(policy, Mapping):
        return None
    return {
        "name": policy.get("name"),
        "version": policy.get("version"),
        "packs": [str(p) for p in policy.get("packs") or []],
    }


# --------------------------------------------------------------------------- sets and findings


def _sets(ev: Record, run_id: Any = None) -> list[dict[str, Any]]:
    raw = _mapping(ev.get("sets"))
    derived: dict[str, list[str]] = {}
    for qn, s in raw.items():
        for parent in _mapping(s).get("derived_from") or []:
            derived.setdefault(str(parent), []).append(str(qn))
    sets = []
    for qn, value in raw.items():
        s = _mapping(value)
        sets.append(
            {
                "qualified_name": str(qn),
                "name": s.get("name"),
                "version": s.get("version"),
                "store": s.get("store"),
                "domain": s.get("domain"),
                "owner": s.get("owner"),
                "description": s.get("description"),
                "score": _number(s.get("score")),
                "grade": s.get("grade"),
                "compliant": s.get("compliant") if isinstance(s.get("compliant"), bool) else None,
                "dimensions": _dimensions(s.get("dimensions")),
                "sources": [str(u) for u in s.get("sources") or []],
                "derived_from": [str(p) for p in s.get("derived_from") or []],
                "derived_sets": sorted(derived.get(str(qn), [])),
                "consumers": [
                    _set_consumer(c, s) for c in s.get("consumers") or [] if isinstance(c, Mapping)
                ],
                "revision": _revision(s.get("revision"), run_id),
            }
        )
    sets.sort(
        key=lambda s: (
            str(s["domain"] or ""),
            str(s["name"] or ""),
            str(s["version"] or ""),
            s["qualified_name"],
        )
    )
    return sets


def _finding(raw: Record) -> dict[str, Any]:
    target = str(raw.get("target") or "")
    waiver = raw.get("waiver")
    return {
        "rule": str(raw.get("rule") or "?"),
        "target": target,
        "feature_set": str(raw.get("feature_set") or target.split("#", 1)[0]),
        "feature": target.split("#", 1)[1] if "#" in target else None,
        "state": raw.get("state"),
        "severity": raw.get("severity"),
        "message": raw.get("message"),
        "reason": raw.get("reason"),
        "waiver": dict(waiver) if isinstance(waiver, Mapping) else None,
    }


def _why(findings: Sequence[Mapping[str, Any]], most: int = 3) -> str | None:
    """``2 unwaived error (owner-present, ttl-declared)``: the unwaived failures at error or
    critical that make a set non-compliant, by severity, naming up to ``most`` rules each."""
    parts = []
    for severity in ("critical", "error"):
        failed = [f for f in findings if f["state"] == "failed" and f["severity"] == severity]
        if not failed:
            continue
        rules = list(dict.fromkeys(f["rule"] for f in failed))
        named = ", ".join(rules[:most]) + (f", +{len(rules) - most} more" if len(rules) > most else "")
        parts.append(f"{len(failed)} unwaived {severity} ({named})")
    return ", ".join(parts) or None


def _rules(ev: Record, rule_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What ``policies explain`` says of each rule, from the packs the run used (the
    built-in ones; a rule of a pack file is explained by its check, recorded with the run)."""
    if not rule_ids:
        return {}
    from featmesh.connector.errors import FeatmeshError
    from featmesh.policies import all_checks, builtin_packs, load_policy
    from featmesh.policies.explain import explain, explain_check

    policy_block = _mapping(ev.get("policy"))
    names = [str(p).split("@", 1)[0] for p in policy_block.get("packs") or []]
    builtin = [n for n in dict.fromkeys(names) if n in builtin_packs()]
    try:
        policy = load_policy(builtin or None)
    except FeatmeshError:
        policy = load_policy(None)
    checks = _mapping(policy_block.get("checks"))
    out: dict[str, dict[str, Any]] = {}
    for rule_id in rule_ids:
        found = explain(policy, rule_id)
        if found is None:
            chk = all_checks().get(str(checks.get(rule_id) or rule_id.replace("-", "_")))
            found = explain_check(chk) if chk is not None else None
        out[rule_id] = (
            {"title": found.title, "explanation": found.text, "fix": found.fix}
            if found is not None
            else {"title": None, "explanation": None, "fix": ""}
        )
    return out


def _finding_order(f: Mapping[str, Any]) -> tuple[Any, ...]:
    waived = f["state"] == "skipped"
    return (waived, -severity_rank(f["severity"]), f["rule"], f["target"])


def _failed_counts(findings: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        if f["state"] == "failed" and f["severity"] in counts:
            counts[f["severity"]] += 1
    return counts


def _worst(sets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    def order(s: Mapping[str, Any]) -> tuple[Any, ...]:
        failed = s["failed"]
        score = s["score"]
        return (
            score is None,
            score if score is not None else 0.0,
            -failed["critical"],
            -failed["error"],
            -sum(failed.values()),
            s["qualified_name"],
        )

    below = [s for s in sets if (s["score"] is not None and s["score"] < 100) or s["compliant"] is False]
    worst = []
    for s in sorted(below, key=order)[:WORST_SETS]:
        problems = [f for f in s["findings"] if f["state"] in ("failed", "error")]
        worst.append(
            {
                **{
                    k: s[k]
                    for k in (
                        "qualified_name",
                        "name",
                        "version",
                        "domain",
                        "owner",
                        "score",
                        "grade",
                        "compliant",
                    )
                },
                "failed": dict(s["failed"]),
                "why": s["why"],
                "top_finding": problems[0]["message"] if problems else None,
            }
        )
    return worst


def _failed_rules(
    findings: Sequence[Mapping[str, Any]], domain_of: Mapping[str, Any]
) -> list[dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    sets: dict[str, set[str]] = {}
    for f in findings:
        row = rules.setdefault(
            f["rule"],
            {"rule": f["rule"], "severity": None, "failed": 0, "errors": 0, "waived": 0, "domains": set()},
        )
        if f["state"] == "failed":
            row["failed"] += 1
            if severity_rank(f["severity"]) > severity_rank(row["severity"]):
                row["severity"] = f["severity"]
            target = f["feature_set"]
            if target in domain_of:
                sets.setdefault(f["rule"], set()).add(target)
                if domain_of[target]:
                    row["domains"].add(domain_of[target])
        elif f["state"] == "error":
            row["errors"] += 1
        elif f["state"] == "skipped" and f["reason"] == "waived":
            row["waived"] += 1
    out = []
    for rule, row in rules.items():
        if row["severity"] is None:  # nothing failed: the highest severity seen
            ranked = [f["severity"] for f in findings if f["rule"] == rule]
            row["severity"] = max(ranked, key=severity_rank) if ranked else None
        out.append({**row, "feature_sets": len(sets.get(rule, ())), "domains": sorted(row["domains"])})
    out.sort(
        key=lambda r: (
            -r["failed"],
            -r["feature_sets"],
            -severity_rank(r["severity"]),
            -r["errors"],
            r["rule"],
        )
    )
    return out


def _domains(
    ev: Record, score_block: Mapping[str, Any], sets: Sequence[Mapping[str, Any]], previous: Record | None
) -> list[dict[str, Any]]:
    evaluated = _mapping(ev.get("domains"))
    scores = _mapping(score_block.get("domains"))
    grades = _mapping(score_block.get("domain_grades"))
    dimensions = _mapping(score_block.get("dimensions"))
    prev_scores = (
        _mapping(_mapping(_mapping(previous.get("summary")).get("score")).get("domains")) if previous else {}
    )
    names = sorted({str(n) for n in (*evaluated, *scores)} | {str(s["domain"]) for s in sets if s["domain"]})
    rows = []
    for name in names:
        own = _mapping(evaluated.get(name))
        members = [s for s in sets if s["domain"] == name]
        score = _number(own.get("score", scores.get(name)))
        prev = _number(prev_scores.get(name))
        rows.append(
            {
                "name": name,
                "score": score,
                "grade": own.get("grade", grades.get(name)),
                "previous": prev,
                "change": _change(score, prev),
                "dimensions": _dimensions(own.get("dimensions", dimensions.get(name))),
                "feature_sets": len(members),
                "compliant": sum(1 for s in members if s["compliant"] is True),
                "failed": sum(sum(s["failed"].values()) for s in members),
            }
        )
    return rows


# --------------------------------------------------------------------------- the mesh map

LAYER_TITLES = ("Data products", "Feature sets", "Derived sets")


def _revision(raw: Any, run_id: Any) -> dict[str, Any] | None:
    """A set's revision as the report shows it (None for runs that predate revisions)."""
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    earlier = [str(h["id"]) for h in raw.get("history") or [] if isinstance(h, Mapping) and h.get("id")]
    return {
        "id": str(raw["id"]),
        **{k: raw.get(k) for k in ("first_seen", "first_run", "last_seen", "last_run")},
        "earlier": earlier,
        "changed": bool(earlier) and run_id is not None and raw.get("first_run") == run_id,
    }


def _set_consumer(raw: Record, owner_set: Record | None = None) -> dict[str, Any]:
    kind, name = str(raw.get("kind") or "model"), str(raw.get("name") or "?")
    version = None if raw.get("version") is None else str(raw.get("version"))
    trained = str(raw["revision"]) if raw.get("revision") else None
    digest = str(_mapping(_mapping(owner_set).get("revision")).get("content_hash") or "")
    return {
        "key": f"{kind}/{name}" + (f"@{version}" if version else ""),
        "kind": kind,
        "name": name,
        "version": version,
        "owner": raw.get("owner"),
        "domain": raw.get("domain"),
        "features": [str(f) for f in raw.get("features") or []],
        "revision": trained,
        "outdated": bool(trained and digest and not digest.startswith(trained.lower())),
        "serves": [str(k) for k in raw.get("serves") or []],
    }


def _products(sets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    readers: dict[str, list[str]] = {}
    for s in sets:
        for uri in s["sources"]:
            readers.setdefault(uri, []).append(s["qualified_name"])
    return [{"uri": uri, "sets": qns} for uri, qns in sorted(readers.items())]


def _consumers(sets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every consumer the sets name, once, with the sets it reads."""
    by_key: dict[str, dict[str, Any]] = {}
    for s in sets:
        for c in s["consumers"]:
            row = by_key.setdefault(
                c["key"],
                {k: c[k] for k in ("key", "kind", "name", "version", "owner", "domain", "serves")}
                | {"reads": {}},
            )
            row["domain"] = row["domain"] or c["domain"] or s["domain"]
            row["reads"][s["qualified_name"]] = None
    compliant = {s["qualified_name"]: s["compliant"] for s in sets}
    for row in by_key.values():
        row["reads"] = list(row["reads"])
        states = [compliant.get(qn) for qn in row["reads"]]
        row["compliant"] = False if False in states else (True if states and all(states) else None)
    return sorted(by_key.values(), key=lambda c: (str(c["domain"] or ""), c["name"], c["key"]))


def _depths(sets: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many derivation levels deep each set is (0: built on data products only);
    a parent outside the run counts as level 0, a cycle is cut where it closes."""
    parents = {s["qualified_name"]: s["derived_from"] for s in sets}
    depth: dict[str, int] = {}
    for start in parents:
        if start in depth:
            continue
        stack = [start]
        on_path = {start}
        while stack:
            qn = stack[-1]
            pending = [p for p in parents[qn] if p in parents and p not in depth and p not in on_path]
            if pending:
                stack.append(pending[0])
                on_path.add(pending[0])
                continue
            known = [depth.get(p, 0) for p in parents[qn] if p in parents and p not in on_path]
            depth[qn] = (1 + max(known, default=0)) if parents[qn] else 0
            stack.pop()
            on_path.discard(qn)
    return depth


class _Group:
    """One domain's nodes and edges, each once."""

    def __init__(self, domain: Any, by_qn: Mapping[str, Mapping[str, Any]], depth: Mapping[str, int]):
        self.domain = domain
        self.by_qn = by_qn
        self.depth = depth
        self.model_layer = 2 + max(depth.values(), default=0)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[tuple[str, str], None] = {}

    def edge(self, source: str, target: str) -> None:
        self.edges[(source, target)] = None

    def product(self, uri: str) -> str:
        node_id = f"product:{uri}"
        self.nodes.setdefault(
            node_id,
            {
                "id": node_id,
                "type": "product",
                "ref": uri,
                "label": uri.rstrip("/").rsplit("/", 1)[-1] or uri,
                "layer": 0,
                "domain": None,
                "compliant": None,
                "external": False,
            },
        )
        return node_id

    def feature_set(self, qn: str) -> str:
        node_id = f"set:{qn}"
        if node_id not in self.nodes:
            s = self.by_qn.get(qn)
            layer = 1 + self.depth.get(qn, 0)
            self.nodes[node_id] = {
                "id": node_id,
                "type": "derived_set" if layer > 1 else "feature_set",
                "ref": qn,
                "label": f"{s['name']}@{s['version'] or 'latest'}" if s else qn.rsplit("/", 1)[-1],
                "layer": layer,
                "domain": s["domain"] if s else None,
                "compliant": s["compliant"] if s else None,
                "external": s is None or s["domain"] != self.domain,
            }
        return node_id

    def model(self, c: Mapping[str, Any], front: bool = False) -> str:
        """A consumer's node; ``front``: it serves other consumers of the map (an endpoint
        in front of its models), one column after them."""
        node_id = f"model:{c['key']}"
        self.nodes.setdefault(
            node_id,
            {
                "id": node_id,
                "type": "model",
                "ref": c["key"],
                "label": c["name"] + (f"@{c['version']}" if c["version"] else ""),
                "layer": self.model_layer + int(front),
                "domain": c["domain"],
                "compliant": c["compliant"],
                "external": c["domain"] != self.domain,
            },
        )
        return node_id


def _mesh_map(sets: Sequence[Mapping[str, Any]], consumers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    by_qn = {s["qualified_name"]: s for s in sets}
    depth = _depths(sets)
    readers: dict[str, list[Mapping[str, Any]]] = {}
    for c in consumers:
        for qn in c["reads"]:
            readers.setdefault(qn, []).append(c)
    domains = sorted(
        {s["domain"] for s in sets} | {c["domain"] for c in consumers},
        key=lambda d: (d is None, str(d or "")),
    )
    own_sets: dict[Any, list[Mapping[str, Any]]] = {d: [] for d in domains}
    for s in sets:
        own_sets[s["domain"]].append(s)
    own_models: dict[Any, list[Mapping[str, Any]]] = {d: [] for d in domains}
    for c in consumers:
        own_models[c["domain"]].append(c)

    # an endpoint serving models of the map is drawn after them, linked from each, and
    # linked to a set only when none of the models it serves reads that set
    by_key = {c["key"]: c for c in consumers}
    served = {c["key"]: [by_key[k] for k in c.get("serves") or () if k in by_key] for c in consumers}
    through = {
        key: {qn for model in models for qn in model["reads"]} for key, models in served.items() if models
    }

    def direct(c: Mapping[str, Any], qn: str) -> bool:
        return qn not in through.get(c["key"], ())

    groups = []
    for domain in domains:
        g = _Group(domain, by_qn, depth)

        def node(c: Mapping[str, Any], g: _Group = g) -> str:
            return g.model(c, front=c["key"] in through)

        for s in own_sets[domain]:
            me = g.feature_set(s["qualified_name"])
            for uri in s["sources"]:
                g.edge(g.product(uri), me)
            for parent in s["derived_from"]:
                g.edge(g.feature_set(parent), me)
            for child in s["derived_sets"]:
                g.edge(me, g.feature_set(child))
            for c in readers.get(s["qualified_name"], ()):
                if direct(c, s["qualified_name"]):
                    g.edge(me, node(c))
        for c in own_models[domain]:
            me = node(c)
            for qn in c["reads"]:
                if direct(c, qn):
                    g.edge(g.feature_set(qn), me)
            for model in served[c["key"]]:
                g.edge(node(model), me)
        members = own_sets[domain]
        groups.append(
            {
                "name": domain,
                "feature_sets": len(members),
                "compliant": sum(1 for s in members if s["compliant"] is True),
                "non_compliant": sum(1 for s in members if s["compliant"] is False),
                "products": sum(1 for n in g.nodes.values() if n["type"] == "product"),
                "models": len(own_models[domain]),
                "nodes": sorted(
                    g.nodes.values(), key=lambda n: (n["layer"], n["external"], n["label"], n["id"])
                ),
                "edges": [{"source": a, "target": b} for a, b in g.edges],
            }
        )
    levels = range(1, max(depth.values(), default=0) + 1)
    derived = [LAYER_TITLES[2] if n == 1 else f"{LAYER_TITLES[2]} (level {n})" for n in levels]
    fronts = ["Endpoints"] if through else []
    return {"layers": [*LAYER_TITLES[:2], *derived, "Models and consumers", *fronts], "domains": groups}


# --------------------------------------------------------------------------- waivers


def _waivers(ev: Record, findings: Sequence[Mapping[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    declared = [w for w in ev.get("waivers") or [] if isinstance(w, Mapping)]
    used = [f["waiver"] for f in findings if f["waiver"]]
    for raw in (*declared, *used):
        key = (raw.get("rule"), raw.get("target"), raw.get("owner"), raw.get("expires"))
        if key in seen:
            continue
        expires = _date(raw.get("expires"))
        days_left = (expires - today).days if expires else None
        if days_left is None:
            status = "unknown"
        elif days_left < 0:
            status = "expired"
        elif days_left <= EXPIRY_DAYS:
            status = "expiring"
        else:
            status = "active"
        seen[key] = {
            "rule": raw.get("rule"),
            "target": raw.get("target"),
            "owner": raw.get("owner"),
            "reason": raw.get("reason"),
            "expires": raw.get("expires"),
            "days_left": days_left,
            "status": status,
            "waived": 0,
            "origin": raw.get("origin"),
        }
    for f in findings:
        w = f["waiver"]
        if w and f["state"] == "skipped":
            seen[(w.get("rule"), w.get("target"), w.get("owner"), w.get("expires"))]["waived"] += 1
    return sorted(seen.values(), key=lambda w: (w["days_left"] is None, w["days_left"] or 0, str(w["rule"])))


# --------------------------------------------------------------------------- values


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 1)


def _dimensions(value: Any) -> dict[str, float | None]:
    return {str(k): _number(v) for k, v in sorted(_mapping(value).items())}


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


__all__ = ["FORMAT_VERSION", "HISTORY_RUNS", "build_report", "severity_rank"]
