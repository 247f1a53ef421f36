"""Human-readable ``featmesh check`` output."""

from __future__ import annotations

from collections.abc import Mapping

from featmesh.connector.runreport import RunReport
from featmesh.policies.engine import Evaluation, Result
from featmesh.policies.scoring import MeshScore, findings_block
from featmesh.policies.types import SkipReason, State

_MARK = {"critical": "CRIT", "error": "ERR ", "warning": "WARN", "info": "INFO"}


def _line(r: Result) -> str:
    if r.state is State.ERROR:
        mark = "FAIL"  # the check itself failed
        text = f"check error: {r.message}"
    elif r.reason is SkipReason.WAIVED:
        mark, text = "WAIV", r.message
    else:
        mark, text = _MARK[r.severity.value], r.message
    where = f" #{r.feature}" if r.feature else ""
    return f"  {mark} {r.rule}{where}: {text}"


def render_text(
    evaluation: Evaluation, summary: MeshScore, report: RunReport, counts: Mapping[str, int]
) -> str:
    lines: list[str] = []
    for source in report.sources:
        state = "ok" if source.status == "ok" else f"FAILED: {source.error}"
        lines.append(f"source {source.uri}: {source.feature_sets} feature sets, {state}")
    lines.append("")
    shown = {State.FAILED, State.ERROR}
    for fs in evaluation.feature_sets:
        qn = fs.qualified_name
        score = summary.sets[qn]
        verdict = "compliant" if score.compliant else "NON-COMPLIANT"
        lines.append(f"{qn}  score {score.score:g} ({score.grade}), {verdict}")
        problems = [
            r
            for run in evaluation.runs[qn]
            for r in run.results
            if r.state in shown or r.reason is SkipReason.WAIVED
        ]
        problems.sort(key=lambda r: (-r.severity.rank, r.rule, r.feature or ""))
        lines.extend(_line(r) for r in problems)
    if evaluation.extra:
        lines.append("waivers")
        lines.extend(_line(r) for r in evaluation.extra)
    lines.append("")
    for name, domain in summary.domains.items():
        dims = ", ".join(f"{d} {v:g}" for d, v in domain.dimensions.items())
        lines.append(f"domain {name}: {domain.score:g} ({domain.grade})  [{dims}]")
    found = findings_block(evaluation)
    lines.append(
        f"mesh score {summary.mesh:g} ({summary.grade}); "
        f"{counts.get('feature_sets', 0)} feature sets; findings: {found['critical']} critical, "
        f"{found['error']} error, {found['warning']} warning, "
        f"{found['info']} info, {found['waived']} waived"
        + (f"; {found['check_errors']} check errors" if found["check_errors"] else "")
    )
    return "\n".join(lines) + "\n"
