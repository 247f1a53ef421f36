"""The governance report as one self-contained HTML file.

Everything is inline: the stylesheet, a small script that sorts and filters tables, the
score chart and the mesh map, both drawn here as SVG so that they show without the script. Nothing is
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


MAP_COLUMN = 236
MAP_NODE_WIDTH = 196
MAP_NODE_HEIGHT = 22
MAP_ROW = 28
MAP_TOP = 30
MAP_LABEL_CHARS = 26
MAP_OPEN_SETS = 60
"""The mesh map's domain groups start open when the mesh has at most this many sets."""


@dataclass(frozen=True)
class MapNode:
    x: float
    y: float
    label: str
    title: str
    href: str | None
    css: str


@dataclass(frozen=True)
class MapGroup:
    name: str
    width: int
    height: int
    columns: list[tuple[float, str]]  # x, title
    nodes: list[MapNode]
    edges: list[tuple[str, str]]  # SVG path, css class
    summary: Mapping[str, Any]
    open: bool


def _shorten(text: str, limit: int = MAP_LABEL_CHARS, *, keep_end: bool = False) -> str:
    """At most ``limit`` characters; a data product keeps its end (the table's name)."""
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1) :] if keep_end else text[: limit - 1] + "…"


def _node_css(node: Mapping[str, Any]) -> str:
    state = {True: "ok", False: "bad"}.get(node["compliant"], "unknown")
    kind = "product" if node["type"] == "product" else f"{node['type'].replace('_', '-')} state-{state}"
    return f"map-node {kind}" + (" external" if node["external"] else "")


def _place(
    members: Sequence[Mapping[str, Any]], neighbours: Mapping[str, list[str]], rows: dict[str, int]
) -> None:
    """Rows for one column: by the mean row of each node's placed neighbours, nodes
    without one last, in their given order."""

    def centre(n: Mapping[str, Any]) -> float:
        placed = [rows[m] for m in neighbours.get(n["id"], ()) if m in rows]
        return sum(placed) / len(placed) if placed else float("inf")

    ordered = sorted(enumerate(members), key=lambda p: (centre(p[1]), p[0]))
    for row, (_, n) in enumerate(ordered):
        rows[n["id"]] = row


def mesh_map_layout(
    mesh_map: Mapping[str, Any], hrefs: Mapping[str, str], *, total_sets: int
) -> list[MapGroup]:
    """SVG geometry of each domain group of the mesh map: a column per layer the group
    uses, nodes ordered so that edges cross little (each column by the mean row of the
    nodes it is linked to in the column before; data products by the sets they feed)."""
    titles = list(mesh_map.get("layers") or [])
    groups = []
    for group in mesh_map.get("domains") or []:
        nodes = list(group["nodes"])
        edges = [(e["source"], e["target"]) for e in group["edges"]]
        preds: dict[str, list[str]] = {}
        succs: dict[str, list[str]] = {}
        for a, b in edges:
            preds.setdefault(b, []).append(a)
            succs.setdefault(a, []).append(b)
        layers = sorted({n["layer"] for n in nodes})
        column = {layer: i for i, layer in enumerate(layers)}
        rows: dict[str, int] = {}
        by_layer = {layer: [n for n in nodes if n["layer"] == layer] for layer in layers}

        for layer in layers:
            if layer == 0:
                continue
            _place(by_layer[layer], preds, rows)
        if 0 in by_layer:
            _place(by_layer[0], succs, rows)
        height = MAP_TOP + max((len(m) for m in by_layer.values()), default=0) * MAP_ROW + 6
        placed = []
        position: dict[str, tuple[float, float]] = {}
        for n in nodes:
            x, y = 8 + column[n["layer"]] * MAP_COLUMN, MAP_TOP + rows[n["id"]] * MAP_ROW
            position[n["id"]] = (x, y)
            where = n["domain"] or "no domain"
            state = {True: "compliant", False: "non-compliant"}.get(n["compliant"], "compliance unknown")
            kind = n["type"].replace("_", " ")
            title = f"{kind} {n['ref']}" + ("" if n["type"] == "product" else f" · {where} · {state}")
            placed.append(
                MapNode(
                    x=x,
                    y=y,
                    label=_shorten(
                        ("↗ " if n["external"] else "") + n["label"], keep_end=n["type"] == "product"
                    ),
                    title=title,
                    href=hrefs.get(n["id"]),
                    css=_node_css(n),
                )
            )
        paths = []
        half = MAP_NODE_HEIGHT / 2
        for a, b in edges:
            (x1, y1), (x2, y2) = position[a], position[b]
            x1, y1, y2 = x1 + MAP_NODE_WIDTH, y1 + half, y2 + half
            mid = (x1 + x2) / 2
            paths.append(
                (f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}", "map-edge")
            )
        groups.append(
            MapGroup(
                name=group["name"] or "no domain",
                width=16 + len(layers) * MAP_COLUMN - (MAP_COLUMN - MAP_NODE_WIDTH),
                height=int(height),
                columns=[
                    (8 + column[layer] * MAP_COLUMN, titles[layer] if layer < len(titles) else "")
                    for layer in layers
                ],
                nodes=placed,
                edges=paths,
                summary={k: v for k, v in group.items() if k not in ("nodes", "edges")},
                open=total_sets <= MAP_OPEN_SETS,
            )
        )
    return groups


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
    consumer_anchors = {c["key"]: f"consumer-{i}" for i, c in enumerate(report.get("consumers") or [])}
    product_anchors = {p["uri"]: f"product-{i}" for i, p in enumerate(report.get("products") or [])}
    hrefs = {f"set:{qn}": f"#{a}" for qn, a in anchors.items()}
    hrefs |= {f"model:{key}": f"#{a}" for key, a in consumer_anchors.items()}
    hrefs |= {f"product:{uri}": f"#{a}" for uri, a in product_anchors.items()}
    mesh_map = report.get("mesh_map") or {}
    rules = report.get("rules") or {}
    rule_anchors = {rule_id: f"rule-{i}" for i, rule_id in enumerate(sorted(rules))}
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            chart=score_chart(report["history"]),
            anchors=anchors,
            names=names,
            rule_anchors=rule_anchors,
            rules=rules,
            consumer_anchors=consumer_anchors,
            product_anchors=product_anchors,
            mesh_map=mesh_map_layout(mesh_map, hrefs, total_sets=len(report["sets"])),
            map_node=(MAP_NODE_WIDTH, MAP_NODE_HEIGHT),
            severities=("critical", "error", "warning", "info"),
            # our own package files, not metadata: they go in verbatim
            style=Markup(_asset("report.css")),
            script=Markup(script),
            script_hash=f"sha256-{digest}",
            version=__version__,
        )
    )


__all__ = ["Chart", "MapGroup", "grade_class", "mesh_map_layout", "render_html", "score_chart"]
