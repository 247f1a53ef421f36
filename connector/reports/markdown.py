"""The governance report as a compact Markdown summary, for a wiki page or a PR comment.

Metadata comes from domain teams, so every value is escaped: Markdown's own marks get a
backslash, ``<``, ``>`` and ``&`` become entities (GitHub and most wikis render HTML in
Markdown), and line breaks become spaces so that a value never breaks a table row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_ROWS = 10

_MARKS = re.compile(r"([\\`*_\[\]|~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(value: Any) -> str:
    """One line of text that Markdown shows as it is."""
    if value is None:
        return "-"
    text = " ".join(str(value).split())
    text = "".join(_ENTITIES.get(c, c) for c in text)
    return _MARKS.sub(r"\\\1", text)


def _score(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def _change(value: Any) -> str:
    return "" if value is None else ("±0.0" if value == 0 else f"{value:+.1f}")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _names(keys: Any) -> str:
    listed = list(dict.fromkeys(keys))
    return escape(", ".join(listed)) if listed else "-"


def _models(report: Mapping[str, Any], consumers: list[Mapping[str, Any]]) -> list[str]:
    """Every model and consumer with the sets it reads, those reading a non-compliant set
    first."""
    lines = ["", "### Models and consumers", ""]
    if not consumers:
        return [*lines, "No model or other consumer of these feature sets is recorded in this run."]
    names = {s["qualified_name"]: f"{s['name']}@{s['version'] or 'latest'}" for s in report["sets"]}
    state = {True: "yes", False: "**no**", None: "-"}
    ranked = sorted(consumers, key=lambda c: (c["compliant"] is not False, str(c["domain"] or ""), c["key"]))
    lines += _table(
        ["Consumer", "Kind", "Domain", "Owner", "Reads compliant sets", "Feature sets read"],
        [
            [
                escape(c["name"] + (f"@{c['version']}" if c["version"] else "")),
                escape(c["kind"]),
                escape(c["domain"]),
                escape(c["owner"]),
                state[c["compliant"]],
                _names(names.get(qn, qn) for qn in c["reads"]),
            ]
            for c in ranked[:MAX_ROWS]
        ],
    )
    if len(ranked) > MAX_ROWS:
        more = len(ranked) - MAX_ROWS
        lines += ["", f"and {more} more consumer{'' if more == 1 else 's'}."]
    return lines


def _contract_changes(changes: list[Mapping[str, Any]]) -> list[str]:
    """Each proposed contract version's breaks, with the feature sets, models and owners
    each one breaks."""
    lines: list[str] = []
    for p in changes:
        title = f"{p['name'] or p['contract']} {p['current']} → {p['proposed']} ({p['status']})"
        lines += ["", f"### Proposed contract change: {escape(title)}", ""]
        if not p["breaks"]:
            lines.append("No breaking change from the version in force.")
            continue
        lines += _table(
            ["Table", "Change", "Feature sets", "Models and endpoints", "Owners"],
            [
                [
                    escape(b["table"]),
                    escape(b["message"]),
                    _names(qn.rsplit("/", 1)[-1] for qn in b["feature_sets"]),
                    _names(c["name"] + (f"@{c['version']}" if c["version"] else "") for c in b["consumers"]),
                    _names(b["owners"]),
                ]
                for b in p["breaks"]
            ],
        )
    return lines


def render_markdown(report: Mapping[str, Any]) -> str:
    """Mesh score and grade, domains (with their models), worst sets (with who reads
    them), definitions changed in the run (new revisions), models and consumers, proposed
    contract changes, most failed rules, expiring waivers."""
    run = report["run"]
    score = report["score"]
    lines = ["## featmesh governance report", ""]
    head = f"**Mesh score {_score(score['mesh'])}** (grade {escape(score['grade'])})"
    if score["change"] is not None:
        head += f", {_change(score['change'])} since the previous scan"
    head += f" · run {escape(run['run_id'])}, {escape(run['started_at'])}, {escape(run['status'])}"
    policy = report["policy"]
    if policy:
        head += f" · policy {escape(policy['name'])} {escape(policy['version'])}"
    lines.append(head)
    findings = report["findings"]
    counts = ", ".join(
        f"{findings.get(k, 0)} {k}" for k in ("critical", "error", "warning", "info", "waived")
    )
    if report["evaluated"]:
        c = report["compliance"]
        lines += ["", f"{c['feature_sets']} feature sets, {c['compliant']} compliant · findings: {counts}"]
    else:
        lines += ["", f"findings: {counts}"]
    for notice in report["notices"]:
        lines += ["", f"> **Note:** {escape(notice)}"]

    consumers = report.get("consumers") or []
    models_in: dict[Any, int] = {}
    for c in consumers:
        models_in[c["domain"]] = models_in.get(c["domain"], 0) + 1
    if report["domains"]:
        lines += ["", "### Domains", ""]
        lines += _table(
            ["Domain", "Score", "Grade", "Change", "Compliant sets", "Open findings", "Models"],
            [
                [
                    escape(d["name"]),
                    _score(d["score"]),
                    escape(d["grade"]),
                    _change(d["change"]),
                    f"{d['compliant']}/{d['feature_sets']}",
                    str(d["failed"]),
                    str(models_in.get(d["name"], 0)),
                ]
                for d in report["domains"]
            ],
        )
    readers = {s["qualified_name"]: [c["key"] for c in s.get("consumers") or []] for s in report["sets"]}
    if report["worst_sets"]:
        lines += ["", "### Worst feature sets", ""]
        lines += _table(
            ["Feature set", "Domain", "Owner", "Score", "Grade", "Critical", "Error", "Warning", "Read by"],
            [
                [
                    escape(f"{s['name']}@{s['version'] or 'latest'}"),
                    escape(s["domain"]),
                    escape(s["owner"]),
                    _score(s["score"]),
                    escape(s["grade"]) + (f", non-compliant: {escape(s['why'])}" if s.get("why") else ""),
                    str(s["failed"]["critical"]),
                    str(s["failed"]["error"]),
                    str(s["failed"]["warning"]),
                    _names(readers.get(s["qualified_name"], ())),
                ]
                for s in report["worst_sets"][:MAX_ROWS]
            ],
        )
    changed = report.get("revisions") or []
    if changed:
        lines += ["", "### Definitions changed in this run", ""]
        lines += _table(
            ["Feature set", "Revision", "Was"],
            [
                [
                    escape(f"{r['name']}@{r['version'] or 'latest'}"),
                    f"`{escape(r['id'])}`",
                    f"`{escape(r['earlier'][0])}`" if r["earlier"] else "",
                ]
                for r in changed[:MAX_ROWS]
            ],
        )
        if len(changed) > MAX_ROWS:
            more = len(changed) - MAX_ROWS
            lines += ["", f"and {more} more feature set{'' if more == 1 else 's'}."]
    lines += _models(report, consumers)
    lines += _contract_changes(report.get("contract_changes") or [])
    failing = [r for r in report["failed_rules"] if r["failed"]]
    if failing:
        lines += ["", "### Most failed rules", ""]
        lines += _table(
            ["Rule", "Severity", "Failures", "Feature sets", "Domains", "How to fix"],
            [
                [
                    escape(r["rule"]),
                    escape(r["severity"]),
                    str(r["failed"]),
                    str(r["feature_sets"]),
                    escape(", ".join(r["domains"])),
                    escape((report.get("rules") or {}).get(r["rule"], {}).get("fix") or "-"),
                ]
                for r in failing[:MAX_ROWS]
            ],
        )
        if len(failing) > MAX_ROWS:
            more = len(failing) - MAX_ROWS
            lines += ["", f"and {more} more rule{'' if more == 1 else 's'}."]
    lines += ["", "### Waivers expiring within 30 days", ""]
    if report["expiring_waivers"]:
        lines += _table(
            ["Expires", "Days left", "Rule", "Target", "Owner", "Reason"],
            [
                [
                    escape(w["expires"]),
                    "expired" if w["status"] == "expired" else str(w["days_left"]),
                    escape(w["rule"]),
                    escape(w["target"]),
                    escape(w["owner"]),
                    escape(w["reason"]),
                ]
                for w in report["expiring_waivers"]
            ],
        )
    else:
        lines.append("None.")
    lines += ["", f"<sub>featmesh report, generated {escape(report['generated_at'])}</sub>", ""]
    return "\n".join(lines)


__all__ = ["escape", "render_markdown"]
