"""The governance report as one self-contained HTML file.

Everything is inline: the stylesheet, a small script that sorts and filters tables, and
the score chart, drawn here as SVG so that it shows without the script. Nothing is
fetched when the file is viewed; its Content-Security-Policy forbids every fetch and lets
only the report's own script (by its SHA-256) run, a second wall behind escaping.

All metadata is escaped by Jinja's autoescape. The report data is embedded once more
for the script (and the "Download JSON" button) in a ``type="application/json"``
element, as JSON with ``<``, ``>``, ``&`` and ``'`` written as ``\\u`` escapes, so that
no value can close the element.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from featmesh.connector import __version__

CHART_WIDTH = 760
CHART_HEIGHT = 260
_MARGIN = {"left": 44, "right": 20, "top": 16, "bottom": 40}
DOMAIN_COLOURS = ("#0f766e", "#b45309", "#7c3aed", "#be185d", "#0369a1", "#4d7c0f", "#9f1239", "#475569")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    run_id: str
    score: float
    selected: bool


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    mesh: Line
    domains: list[Line]
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_labels: list[tuple[float, str, str]] = field(default_factory=list)  # x, text, text-anchor
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom


def score_chart(history: Sequence[Mapping[str, Any]]) -> Chart | None:
    """SVG geometry of the mesh score (and each domain's) over the runs, oldest left."""
    runs = [h for h in history if h.get("mesh") is not None]
    if not runs:
        return None
    left, top = _MARGIN["left"], _MARGIN["top"]
    right, bottom = CHART_WIDTH - _MARGIN["right"], CHART_HEIGHT - _MARGIN["bottom"]
    values = [float(h["mesh"]) for h in runs]
    values += [float(v) for h in runs for v in (h.get("domains") or {}).values() if v is not None]
    span = 100 - min(values)
    step = 10 if span <= 45 else 25
    low = max(0, min(100 - step, int(math.floor((min(values) - 2) / step) * step)))

    def x_of(i: int) -> float:
        return (left + right) / 2 if len(runs) == 1 else left + (right - left) * i / (len(runs) - 1)

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * (max(v, low) - low) / (100 - low)

    def line(name: str, colour: str, pick: Any) -> Line:
        points = []
        for i, h in enumerate(runs):
            value = pick(h)
            if value is None:
                continue
            points.append(
                Point(
                    x=x_of(i),
                    y=y_of(float(value)),
                    label=_short_time(h.get("started_at")),
                    run_id=str(h.get("run_id")),
                    score=float(value),
                    selected=bool(h.get("selected")),
                )
            )
        return Line(name=name, colour=colour, points=points)

    names = sorted({str(n) for h in runs for n in (h.get("domains") or {})})
    domains = [
        line(n, DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)], lambda h, n=n: (h.get("domains") or {}).get(n))
        for i, n in enumerate(names)
    ]
    every = max(1, math.ceil(len(runs) / 8))
    texts = [_short_time(h.get("started_at")) for h in runs]
    if len(set(texts)) < len(texts):  # several runs a minute: tell them apart by the second
        texts = [_short_time(h.get("started_at"), "%H:%M:%S") for h in runs]
    shown = [i for i in range(len(runs)) if i % every == 0]
    x_labels = [
        (
            x_of(i),
            texts[i],
            "end" if i == len(runs) - 1 and i else ("start" if i == 0 and len(runs) > 1 else "middle"),
        )
        for i in shown
    ]
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        mesh=line("mesh", "#1e3a8a", lambda h: h.get("mesh")),
        domains=domains,
        y_ticks=[(y_of(v), v) for v in range(low, 101, step)],
        x_labels=x_labels,
        plot=(left, top, right, bottom),
    )


def grade_class(grade: Any) -> str:
    letter = str(grade or "").strip().upper()[:1]
    return f"grade-{letter.lower()}" if letter in "ABCDEF" and letter else "grade-none"


def fmt_score(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def fmt_change(value: Any) -> str:
    if value is None:
        return ""
    return "±0.0" if value == 0 else f"{value:+.1f}"


def _short_time(value: Any, pattern: str = "%b %d %H:%M") -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "?")
    return moment.strftime(pattern)


@cache
def _asset(name: str) -> str:
    folder = resources.files("featmesh.connector.reports")
    return folder.joinpath(f"templates/{name}").read_text(encoding="utf-8")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("featmesh.connector.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["score"] = fmt_score
    env.filters["change"] = fmt_change
    env.filters["grade_class"] = grade_class
    return env


def render_html(report: Mapping[str, Any]) -> str:
    """The report (``governance.build_report``) as one HTML document."""
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    anchors = {s["qualified_name"]: f"set-{i}" for i, s in enumerate(report["sets"])}
    names = {s["qualified_name"]: f"{s['name']}@{s['version'] or 'latest'}" for s in report["sets"]}
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            chart=score_chart(report["history"]),
            anchors=anchors,
            names=names,
            severities=("critical", "error", "warning", "info"),
            # our own package files, not metadata: they go in verbatim
            style=Markup(_asset("report.css")),
            script=Markup(script),
            script_hash=f"sha256-{digest}",
            version=__version__,
        )
    )


__all__ = ["Chart", "grade_class", "render_html", "score_chart"]
