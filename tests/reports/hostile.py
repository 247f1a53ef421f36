"""A run whose metadata tries every way out of its HTML context."""

from __future__ import annotations

from typing import Any

from tests.reports.records import (
    XSS_CLOSE,
    XSS_IMG,
    XSS_SCRIPT,
    XSS_SVG,
    feature_set,
    finding,
    mesh_records,
    qn,
    waiver,
)

HOSTILE = (XSS_SCRIPT, XSS_IMG, XSS_SVG, XSS_CLOSE)


def hostile_records() -> list[dict[str, Any]]:
    records = mesh_records()
    newest = records[0]
    bad_qn = qn("ops", "agent_load")
    key, body = feature_set(
        "ops",
        "agent_load",
        domain=f"ops|{XSS_SVG}",
        score=55.0,
        grade=f"D{XSS_IMG}",
        compliant=False,
        owner=XSS_IMG,
        description=f"Load per agent {XSS_SCRIPT} and {XSS_CLOSE} | pipe `tick`",
        name=f"agent{XSS_SVG}",
        store=f"manifest/ops{XSS_CLOSE}",
        sources=[f"abfss://ops@x.dfs.core.windows.net/{XSS_SVG}", "javascript:window.__xss=5"],
        derived_from=[f"featmesh://x/{XSS_SCRIPT}"],
    )
    assert key == bad_qn
    newest["evaluation"]["sets"][bad_qn] = body
    newest["evaluation"]["findings"] += [
        finding(f"rule{XSS_SCRIPT}", f"{bad_qn}#{XSS_IMG}", "critical", message=f"bad {XSS_CLOSE}"),
        finding("owner-principal", bad_qn, f"warning{XSS_SVG}", message=XSS_IMG),
    ]
    newest["evaluation"]["waivers"].append(
        {**waiver(f"w{XSS_SVG}", f"{bad_qn}{XSS_SCRIPT}", "2026-06-05", owner=XSS_IMG), "reason": XSS_CLOSE}
    )
    newest["evaluation"]["domains"][f"ops|{XSS_SVG}"] = {
        "score": 55.0,
        "grade": XSS_IMG,
        "dimensions": {XSS_SVG: 1.0},
    }
    newest["evaluation"]["policy"]["name"] = XSS_SCRIPT
    newest["run_id"] = f"run3{XSS_SVG}"
    newest["summary"]["score"]["grade"] = XSS_IMG
    newest["summary"]["catalog"] = XSS_CLOSE
    return records
