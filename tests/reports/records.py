"""Run records shaped like the ones ``featmesh scan`` stores, built small for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=2">'
XSS_SVG = '"><svg onload="window.__xss=3">'
XSS_CLOSE = "</script><script>window.__xss=4</script>"


def qn(store: str, name: str, version: str = "1") -> str:
    return f"featmesh://manifest/{store}/{name}@{version}"


def feature_set(
    store_name: str,
    set_name: str,
    *,
    domain: str,
    score: float,
    grade: str,
    compliant: bool = True,
    **extra: Any,
) -> tuple[str, dict[str, Any]]:
    body = {
        "name": set_name,
        "version": "1",
        "store": f"manifest/{store_name}",
        "domain": domain,
        "owner": f"{store_name}-team@contoso.com",
        "description": f"The {set_name} features.",
        "sources": [f"main.{store_name}.{set_name}_raw"],
        "derived_from": [],
        "score": score,
        "grade": grade,
        "compliant": compliant,
        "dimensions": {"documentation": score, "ownership": 100.0},
        "content_hash": "0" * 64,
    }
    body.update(extra)
    return qn(store_name, set_name), body


def finding(rule: str, target: str, severity: str = "warning", state: str = "failed", **extra: Any) -> dict:
    return {
        "rule": rule,
        "target": target,
        "state": state,
        "severity": severity,
        "message": f"{rule} on {target}",
        **extra,
    }


def waiver(rule: str, target: str, expires: str, owner: str = "gov@contoso.com") -> dict:
    return {
        "rule": rule,
        "target": target,
        "owner": owner,
        "reason": "accepted for this quarter",
        "expires": expires,
        "origin": "waivers.yaml:3 (waivers[0])",
    }


def record(
    run_id: str,
    started_at: str,
    *,
    sets: list[tuple[str, dict[str, Any]]] | None = None,
    findings: list[dict] | None = None,
    waivers: list[dict] | None = None,
    mesh: float | None = 80.0,
    domains: dict[str, float] | None = None,
    command: str = "scan",
    status: str = "ok",
    evaluated: bool = True,
) -> dict[str, Any]:
    domains = domains if domains is not None else {"payments": 70.0, "risk": 90.0}
    out: dict[str, Any] = {
        "run_id": run_id,
        "command": command,
        "status": status,
        "started_at": started_at,
        "finished_at": started_at,
        "sources": [
            {"uri": "manifest:mesh", "kind": "manifest", "status": "ok", "feature_sets": 3, "error": None}
        ],
        "counters": {},
        "warnings": [],
        "failures": [],
        "summary": {
            "counts": {"stores": 2, "feature_sets": len(sets or [])},
            "plan": {"create": 0, "update": 0, "delete": 0, "unchanged": 0},
            "findings": {"critical": 0, "error": 0, "warning": 0, "info": 0, "waived": 0},
            "score": {
                "mesh": mesh,
                "grade": "B" if mesh is not None else None,
                "domains": domains,
                "domain_grades": {d: "C" for d in domains},
                "dimensions": {},
            },
        },
    }
    if evaluated:
        out["evaluation"] = {
            "policy": {"name": "mesh-baseline", "version": "1.0.0", "packs": ["mesh-baseline@1.0.0"]},
            "sets": dict(sets or []),
            "domains": {
                d: {"score": s, "grade": "C", "dimensions": {"ownership": s}} for d, s in domains.items()
            },
            "findings": findings or [],
            "waivers": waivers or [],
        }
    return out


def mesh_records() -> list[dict[str, Any]]:
    """Three scan runs, newest first: the newest has three sets, findings and waivers."""
    cards = qn("payments", "cards")
    sets = [
        feature_set("payments", "cards", domain="payments", score=40.0, grade="F", compliant=False),
        feature_set("payments", "ledger", domain="payments", score=40.0, grade="F", compliant=False),
        feature_set("risk", "scores", domain="risk", score=95.0, grade="A", derived_from=[cards]),
        feature_set("risk", "clean", domain="risk", score=100.0, grade="A"),
    ]
    findings = [
        finding("pii-tagged", cards + "#email", "critical"),
        finding("pii-tagged", cards + "#phone", "critical"),
        finding("set-description", cards, "warning"),
        finding("pii-tagged", qn("payments", "ledger") + "#iban", "critical"),
        finding("set-description", qn("payments", "ledger"), "warning"),
        finding("set-description", qn("risk", "scores"), "warning"),
        finding("ttl-declared", qn("risk", "scores"), "info"),
        finding(
            "dtype-allowlist",
            cards + "#map_col",
            "error",
            state="skipped",
            reason="waived",
            waiver=waiver("dtype-allowlist", cards + "*", "2026-06-11"),
        ),
        finding("freshness", qn("risk", "scores"), "error", state="error"),
        finding("featmesh.waiver-expired", "waivers.yaml", "warning"),
    ]
    waivers = [
        waiver("dtype-allowlist", cards + "*", "2026-06-11"),
        waiver("ttl-declared", "featmesh://manifest/risk/*", "2026-08-01"),
        waiver("set-description", "featmesh://manifest/old/*", "2026-05-29"),
        waiver("feature-naming", "featmesh://manifest/risk/*", "2026-07-01"),
    ]
    return [
        record(
            "run3",
            "2026-05-31T02:00:00Z",
            sets=sets,
            findings=findings,
            waivers=waivers,
            mesh=81.5,
            domains={"payments": 40.0, "risk": 97.5},
        ),
        record(
            "run2", "2026-05-30T02:00:00Z", sets=sets[:2], mesh=78.0, domains={"payments": 45.0, "risk": 95.0}
        ),
        record("run1", "2026-05-29T02:00:00Z", sets=sets[:1], mesh=70.0, domains={"payments": 40.0}),
    ]
