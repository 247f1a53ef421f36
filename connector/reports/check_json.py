"""The ``featmesh check --json`` document (DESIGN.md "Machine-readable contract")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from featmesh.connector.reports.jsontext import dumps_indented
from featmesh.connector.runreport import InputProblem, RunReport
from featmesh.policies.engine import Evaluation, Result
from featmesh.policies.scoring import MeshScore, findings_block, score_block
from featmesh.policies.types import State


def check_document(
    evaluation: Evaluation,
    summary: MeshScore,
    report: RunReport,
    counts: Mapping[str, int],
    *,
    status: str | None = None,
    problems: Sequence[InputProblem] = (),
    failures: Sequence[str] = (),
    revisions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``run_id``, ``status``, ``sources``, ``counts``, ``findings``, ``score``, ``results``
    (every rule on every target, passed ones included), plus ``policy`` and ``sets`` (with
    each set's ``revision``: what a model names to say which definition it was trained on);
    ``problems`` lists each file that could not be used (path, line, message, source)
    and ``failures`` what else made the run incomplete."""
    return {
        "run_id": report.run_id,
        "status": status or report.status,
        "sources": [
            {k: s.to_json()[k] for k in ("uri", "kind", "status", "feature_sets", "error")}
            for s in report.sources
        ],
        "counts": dict(counts),
        "findings": findings_block(evaluation),
        "score": score_block(summary),
        "policy": {
            "name": evaluation.policy.name,
            "version": evaluation.policy.version,
            "packs": list(evaluation.policy.packs),
            "evaluated_at": evaluation.evaluated_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        },
        "sets": {
            qn: {
                "score": s.score,
                "grade": s.grade,
                "compliant": s.compliant,
                "dimensions": dict(s.dimensions),
                "revision": (revisions or {}).get(qn),
            }
            for qn, s in summary.sets.items()
        },
        "results": list(_results(evaluation)),
        "problems": [p.to_json() for p in problems],
        "failures": list(failures),
    }


def _results(evaluation: Evaluation) -> Iterator[dict[str, Any]]:
    """:func:`_result` of each of ``evaluation.results()``, the implicit passes (most of a
    large domain's results) written straight from their rule run: the same documents."""
    for runs in evaluation.runs.values():
        for run in runs:
            yield from map(_result, run.results)
            passed = run.passed_features()
            first = next(passed, None)
            if first is None:
                continue
            fs, origin = run.feature_set, run.feature_set.origin
            location = None if origin is None else {"path": origin.path, "line": origin.line}
            rule, severity = run.rule.id, run.rule.severity.value
            for name in (first, *passed):
                out: dict[str, Any] = {
                    "rule": rule,
                    "target": fs.feature_qn(name),
                    "state": State.PASSED.value,
                    "severity": severity,
                    "message": "",
                }
                if location is not None:
                    out["location"] = location
                yield out
    yield from map(_result, evaluation.extra)


def _result(r: Result) -> dict[str, Any]:
    """A result with where it is fixed (``location``: path and line, where known) and, for
    a mesh-wide conflict, the other definitions (``related``: target, path, line)."""
    out = r.to_json()
    if r.origin is not None:
        out["location"] = {"path": r.origin.path, "line": r.origin.line}
    if r.related:
        out["related"] = [
            {
                "target": o.target,
                "path": o.origin.path if o.origin else None,
                "line": o.origin.line if o.origin else None,
            }
            for o in r.related
        ]
    return out


def render_json(document: Mapping[str, Any]) -> str:
    return dumps_indented(document) + "\n"
