"""The HTML report without a browser: escaping, self-containment, the chart's SVG."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest

from featmesh.connector.reports.governance import build_report
from featmesh.connector.reports.html import render_html, score_chart
from tests.reports.hostile import HOSTILE, hostile_records
from tests.reports.records import NOW, mesh_records, record

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "div", "span", "dl", "dt", "dd", "main",
    "p", "section", "b", "nav", "a", "h2", "figure", "svg", "line", "text", "polyline", "circle",
    "figcaption", "i", "table", "thead", "tbody", "tr", "th", "td", "button", "label", "input",
    "output", "details", "summary", "footer", "script", "path", "rect", "g", "article", "h3", "pre", "code",
}  # fmt: skip


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> Collect:
    parser = Collect()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile() -> tuple[dict, str]:
    report = build_report(hostile_records(), now=NOW)
    return report, render_html(report)


def test_hostile_metadata_makes_no_element_or_handler(hostile: tuple[dict, str]) -> None:
    _, html = hostile
    doc = parse(html)
    tags = {tag for tag, _ in doc.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert [t for t, _ in doc.tags].count("script") == 2  # the data and the report's own script
    map_groups = len(hostile[0]["mesh_map"]["domains"])
    assert [t for t, _ in doc.tags].count("svg") == 1 + map_groups  # the chart and a map per domain
    handlers = [(t, a) for t, attrs in doc.tags for a in attrs if a.startswith("on")]
    assert handlers == []
    assert "img" not in tags and "src" not in {a for _, attrs in doc.tags for a in attrs}
    for value in HOSTILE:
        assert value not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;window.__xss=2&#34;&gt;" in html
    assert 'href="javascript:' not in html


def test_embedded_data_is_the_whole_report_and_cannot_close_its_element(hostile: tuple[dict, str]) -> None:
    report, html = hostile
    doc = parse(html)
    data = next(attrs for tag, attrs in doc.tags if tag == "script" and attrs.get("type"))
    assert data == {"type": "application/json", "id": "featmesh-report-data"}
    embedded = doc.scripts[0]
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == json.loads(json.dumps(report))


def test_self_contained_and_only_its_own_script_may_run(hostile: tuple[dict, str]) -> None:
    _, html = hostile
    doc = parse(html)
    for tag, attrs in doc.tags:
        assert "src" not in attrs, tag
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), attrs["href"]
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    csp = next(
        a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp
    script = doc.scripts[1]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp


def test_chart_draws_one_point_per_scored_run() -> None:
    report = build_report(mesh_records(), now=NOW)
    doc = parse(render_html(report))
    points = [a for t, a in doc.tags if t == "circle" and "point" in (a.get("class") or "").split()]
    assert [p["data-run"] for p in points] == ["run1", "run2", "run3"]
    assert [p["class"] for p in points] == ["point", "point", "point selected"]
    ys = [float(p["cy"] or 0) for p in points]
    assert ys[0] > ys[1] > ys[2]  # scores rise: points climb (SVG y grows downwards)
    lines = [a["data-domain"] for t, a in doc.tags if t == "polyline" and a.get("data-domain")]
    assert lines == ["payments", "risk"]


def test_chart_geometry_stays_inside_the_plot() -> None:
    history = [{"run_id": f"r{i}", "started_at": f"2026-05-{i + 1:02}T00:00:00Z", "mesh": m, "domains": {}}
               for i, m in enumerate([12.0, 99.5, 100.0, 0.0])]  # fmt: skip
    chart = score_chart(history)
    assert chart is not None
    left, top, right, bottom = chart.plot
    assert [p.x for p in chart.mesh.points] == sorted(p.x for p in chart.mesh.points)
    assert all(left <= p.x <= right and top <= p.y <= bottom for p in chart.mesh.points)
    assert chart.mesh.points[2].y == top and chart.mesh.points[3].y == bottom
    assert score_chart([]) is None


def test_a_run_without_history_or_evaluation_still_renders() -> None:
    report = build_report([record("r", "2026-06-01T00:00:00Z", evaluated=False, mesh=None)], now=NOW)
    html = render_html(report)
    assert "No scan run with a score is recorded yet." in html
    assert "holds no per-feature-set evaluation" in html
    assert "<svg" not in html


def test_domain_table_names_each_dimension_in_full() -> None:
    report = build_report(mesh_records(), catalog="local")
    page = render_html(report)
    dimensions = {d for domain in report["domains"] for d in domain.get("dimensions") or {}}
    assert dimensions
    for name in dimensions:
        assert f'class="sort">{name.capitalize()}</button>' in page
    assert not re.search(r'class="sort">[A-Z][a-z]{3}\.</button>', page)
