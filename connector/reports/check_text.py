"""Human-readable ``featmesh check`` output, read like ruff's: one line per finding,
``path:line:col: RULE-ID [severity] target: message``, grouped per file, then each set's
score and a summary. A file that could not be used is a ``featmesh.input-error`` line at
its own place; a finding whose definition has no file is grouped under its store."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from featmesh.connector.runreport import InputProblem, RunReport
from featmesh.connector.textsafe import counted
from featmesh.policies.engine import Evaluation, Result
from featmesh.policies.scoring import MeshScore, findings_block
from featmesh.policies.types import SkipReason, State

INPUT_ERROR = "featmesh.input-error"


_SHOWN: dict[tuple[str, str], str] = {}
"""Each path as shown, by (working folder, path): a report names a file once per finding."""


def shown_path(path: str) -> str:
    """A path as the user would type it: relative to the working folder below it, normalised."""
    key = (os.getcwd(), path)
    shown = _SHOWN.get(key)
    if shown is None:
        if len(_SHOWN) >= 65536:
            _SHOWN.clear()
        shown = _SHOWN[key] = _shown(path)
    return shown


def _shown(path: str) -> str:
    try:
        relative = os.path.relpath(os.path.abspath(path))
    except ValueError:  # another drive on Windows
        return os.path.normpath(path)
    return relative if not relative.startswith("..") else os.path.normpath(path)


def _where(r: Result) -> tuple[str, int]:
    if r.origin is not None:
        return shown_path(r.origin.path), r.origin.line or 0
    return r.feature_set.rsplit("/", 1)[0] if r.feature_set else "waivers", 0


def _line(r: Result, line: int) -> str:
    if r.state is State.ERROR:
        mark, text = "check-error", r.message
    elif r.reason is SkipReason.WAIVED:
        mark, text = "waived", r.message
    else:
        mark, text = r.severity.value, r.message
    name = r.feature or (r.feature_set or r.target).rsplit("/", 1)[-1]
    return f"{line or 1}:1: {r.rule} [{mark}] {name}: {text}{_also(r)}"


def _also(r: Result) -> str:
    """Where the other side of a mesh-wide conflict is written, when this run read it."""
    places = [f"{shown_path(o.origin.path)}:{o.origin.line or 1}" for o in r.related if o.origin is not None]
    return f" (other definition at {', '.join(places)})" if places else ""


def render_text(
    evaluation: Evaluation,
    summary: MeshScore,
    report: RunReport,
    counts: Mapping[str, int],
    *,
    problems: Sequence[InputProblem] = (),
    failures: Sequence[str] = (),
) -> str:
    lines: list[str] = []
    for source in report.sources:
        state = "ok" if source.status == "ok" else f"FAILED: {source.error}"
        broken = f", {counted(len(source.problems), 'file')} not used" if source.problems else ""
        lines.append(f"source {source.uri}: {source.feature_sets} feature sets{broken}, {state}")
    lines.append("")
    shown = {State.FAILED, State.ERROR}
    by_file: dict[str, list[tuple[int, int, str]]] = {}
    for problem in problems:
        by_file.setdefault(shown_path(problem.path), []).append(
            (problem.line or 0, -99, f"{problem.line or 1}:1: {INPUT_ERROR} [error] {problem.message}")
        )
    every = [
        r for fs in evaluation.feature_sets for run in evaluation.runs[fs.qualified_name] for r in run.results
    ]
    for r in [*every, *evaluation.extra]:
        if r.state in shown or r.reason is SkipReason.WAIVED:
            path, line = _where(r)
            by_file.setdefault(path, []).append((line, -r.severity.rank, _line(r, line)))
    for path in sorted(by_file):
        for _line_no, _rank, text in sorted(by_file[path]):
            lines.append(f"{path}:{text}")
    if by_file:
        lines.append("")
    for fs in evaluation.feature_sets:
        qn = fs.qualified_name
        score = summary.sets[qn]
        if score.compliant:
            verdict = "compliant"
        else:
            failed = [
                r for run in evaluation.runs.get(qn, ()) for r in run.results if r.state is State.FAILED
            ]
            parts = []
            for k in ("critical", "error"):
                if score.counts.get(k):
                    rules = ", ".join(dict.fromkeys(r.rule for r in failed if r.severity.value == k))
                    parts.append(f"{score.counts[k]} unwaived {k} ({rules})")
            why = ", ".join(parts)
            verdict = f"NON-COMPLIANT: {why}"
        lines.append(f"{qn}  score {score.score:g} ({score.grade}), {verdict}")
    for name, domain in summary.domains.items():
        dims = ", ".join(f"{d} {v:g}" for d, v in domain.dimensions.items())
        lines.append(f"domain {name}: {domain.score:g} ({domain.grade})  [{dims}]")
    found = findings_block(evaluation)
    for message in failures:
        lines.append(f"incomplete: {message}")
    lines.append(
        f"mesh score {summary.mesh:g} ({summary.grade}); "
        f"{counts.get('feature_sets', 0)} feature sets; findings: {found['critical']} critical, "
        f"{found['error']} error, {found['warning']} warning, "
        f"{found['info']} info, {found['waived']} waived"
        + (f"; {found['check_errors']} check errors" if found["check_errors"] else "")
        + (f"; {counted(len(problems), 'file')} not used" if problems else "")
        + f"; in {counted(len(by_file), 'file')}"
    )
    return "\n".join(lines) + "\n"
