"""The mesh map: its nodes and edges per domain, its SVG, and how it stays legible at
500 feature sets (a collapsed group per domain, each holding its own share only)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from featmesh.connector.reports.governance import build_report
from featmesh.connector.reports.html import MAP_OPEN_SETS, mesh_map_layout, render_html
from tests.reports.records import NOW, XSS_IMG, XSS_SCRIPT, feature_set, qn, record


def _model(name: str, *, domain: str, version: str | None = "3", owner: str = "ml@contoso.com") -> dict:
    return {"kind": "model", "name": name, "version": version, "owner": owner, "domain": domain,
            "features": []}  # fmt: skip


def small_mesh() -> list[dict[str, Any]]:
    """payments: cards (non-compliant) and ledger; risk: scores derived from cards, and a
    model reading scores and ledger; marketing: a model reading cards."""
    cards, ledger, scores = qn("payments", "cards"), qn("payments", "ledger"), qn("risk", "scores")
    risk_model = _model("risk-model", domain="risk")
    churn = _model("churn-model", domain="marketing", version=None)
    sets = [
        feature_set(
            "payments", "cards", domain="payments", score=40.0, grade="F", compliant=False,
            consumers=[churn],
        ),
        feature_set("payments", "ledger", domain="payments", score=90.0, grade="A", consumers=[risk_model]),
        feature_set(
            "risk", "scores", domain="risk", score=95.0, grade="A", derived_from=[cards], sources=[],
            consumers=[risk_model],
        ),
    ]  # fmt: skip
    assert [s[0] for s in sets] == [cards, ledger, scores]
    return [record("run1", "2026-05-31T02:00:00Z", sets=sets, domains={"payments": 65.0, "risk": 95.0})]


def _group(report: dict, name: str) -> dict:
    return next(g for g in report["mesh_map"]["domains"] if g["name"] == name)


def _edges(group: dict) -> set[tuple[str, str]]:
    return {(e["source"], e["target"]) for e in group["edges"]}


def test_small_mesh_nodes_and_edges_per_domain() -> None:
    report = build_report(small_mesh(), now=NOW)
    cards, ledger, scores = qn("payments", "cards"), qn("payments", "ledger"), qn("risk", "scores")
    assert [g["name"] for g in report["mesh_map"]["domains"]] == ["marketing", "payments", "risk"]
    layers = ["Data products", "Feature sets", "Derived sets", "Models and consumers"]
    assert report["mesh_map"]["layers"] == layers

    payments = _group(report, "payments")
    nodes = {n["id"]: n for n in payments["nodes"]}
    assert nodes[f"set:{cards}"] | {} == {
        "id": f"set:{cards}", "type": "feature_set", "ref": cards, "label": "cards@1", "layer": 1,
        "domain": "payments", "compliant": False, "external": False,
    }  # fmt: skip
    # its own sets' products; the risk set derived from cards and the models reading its sets, external
    assert nodes[f"set:{scores}"]["type"] == "derived_set" and nodes[f"set:{scores}"]["external"]
    assert nodes["model:model/risk-model@3"]["layer"] == 3 and nodes["model:model/risk-model@3"]["external"]
    assert nodes["model:model/churn-model"]["compliant"] is False  # it reads a non-compliant set
    assert _edges(payments) == {
        ("product:main.payments.cards_raw", f"set:{cards}"),
        ("product:main.payments.ledger_raw", f"set:{ledger}"),
        (f"set:{cards}", f"set:{scores}"),
        (f"set:{cards}", "model:model/churn-model"),
        (f"set:{ledger}", "model:model/risk-model@3"),
    }
    assert payments["feature_sets"] == 2 and payments["non_compliant"] == 1 and payments["models"] == 0

    risk = _group(report, "risk")
    assert _edges(risk) == {
        (f"set:{cards}", f"set:{scores}"),
        (f"set:{scores}", "model:model/risk-model@3"),
        (f"set:{ledger}", "model:model/risk-model@3"),
    }
    external = {n["id"] for n in risk["nodes"] if n["external"]}
    assert external == {f"set:{cards}", f"set:{ledger}"}
    assert risk["models"] == 1 and risk["products"] == 0

    marketing = _group(report, "marketing")  # a domain with a model and no set of its own
    assert marketing["feature_sets"] == 0 and marketing["models"] == 1
    assert _edges(marketing) == {(f"set:{cards}", "model:model/churn-model")}

    consumers = {c["key"]: c for c in report["consumers"]}
    assert consumers["model/risk-model@3"]["reads"] == [ledger, scores]
    assert consumers["model/risk-model@3"]["compliant"] is True
    assert report["products"][0] == {"uri": "main.payments.cards_raw", "sets": [cards]}
    cards_row = next(s for s in report["sets"] if s["qualified_name"] == cards)
    assert cards_row["consumers"][0]["key"] == "model/churn-model"


def test_a_record_without_consumers_still_maps_sets_and_derivations() -> None:
    records = small_mesh()
    for body in records[0]["evaluation"]["sets"].values():
        del body["consumers"]  # a run recorded before consumers were kept
    report = build_report(records, now=NOW)
    assert report["consumers"] == []
    assert [g["name"] for g in report["mesh_map"]["domains"]] == ["payments", "risk"]
    assert report["mesh_map"]["layers"][-1] == "Models and consumers"
    assert all(n["type"] != "model" for g in report["mesh_map"]["domains"] for n in g["nodes"])


def test_derivation_levels_are_columns_and_a_cycle_does_not_hang() -> None:
    a, b, c = qn("s", "a"), qn("s", "b"), qn("s", "c")
    sets = [
        feature_set("s", "a", domain="d", score=90.0, grade="A"),
        feature_set("s", "b", domain="d", score=90.0, grade="A", derived_from=[a]),
        feature_set("s", "c", domain="d", score=90.0, grade="A", derived_from=[b]),
        feature_set("s", "x", domain="d", score=90.0, grade="A", derived_from=[qn("s", "y")]),
        feature_set("s", "y", domain="d", score=90.0, grade="A", derived_from=[qn("s", "x")]),
    ]
    report = build_report([record("r", "2026-05-31T02:00:00Z", sets=sets, domains={"d": 90.0})], now=NOW)
    layers = {n["ref"]: n["layer"] for n in report["mesh_map"]["domains"][0]["nodes"]}
    assert (layers[a], layers[b], layers[c]) == (1, 2, 3)
    titles = ["Derived sets", "Derived sets (level 2)", "Models and consumers"]
    assert report["mesh_map"]["layers"][2:] == titles


def big_mesh(domains: int = 10, per_domain: int = 50) -> list[dict[str, Any]]:
    """500 sets: each domain a base set per ten, the rest derived from them, a model
    each ten, and one model of the last domain reading a set of every domain."""
    sets = []
    shared_model = _model("mesh-wide-model", domain=f"d{domains - 1}")
    for d in range(domains):
        for i in range(per_domain):
            base = i % 10 == 0
            consumers = [_model(f"m{d}-{i}", domain=f"d{d}")] if i % 10 == 5 else []
            if i == 1:
                consumers.append(shared_model)
            sets.append(
                feature_set(
                    f"store{d}", f"set{i:03}", domain=f"d{d}", score=90.0, grade="A", compliant=i % 7 != 3,
                    derived_from=[] if base else [qn(f"store{d}", f"set{i - i % 10:03}")],
                    sources=[f"main.d{d}.table{i // 10}"] if base else [], consumers=consumers,
                )
            )  # fmt: skip
    scores = {f"d{d}": 90.0 for d in range(domains)}
    return [record("big", "2026-05-31T02:00:00Z", sets=sets, domains=scores)]


def test_500_sets_are_grouped_per_domain_each_group_its_own_share() -> None:
    report = build_report(big_mesh(), now=NOW)
    assert len(report["sets"]) == 500
    groups = report["mesh_map"]["domains"]
    assert [g["name"] for g in groups] == [f"d{d}" for d in range(10)]
    for g in groups[:-1]:
        own = [n for n in g["nodes"] if not n["external"]]
        assert g["feature_sets"] == 50 and len(own) == 5 + 50 + 5  # products, sets, models
        external = [n for n in g["nodes"] if n["external"]]
        assert [n["ref"] for n in external] == ["model/mesh-wide-model@3"]
    last = groups[-1]
    assert sum(1 for n in last["nodes"] if n["external"]) == 9  # the set of each other domain it reads
    assert max(len(g["nodes"]) for g in groups) <= 70

    layout = mesh_map_layout(report["mesh_map"], {}, total_sets=len(report["sets"]))
    assert len(layout) == 10 and not any(g.open for g in layout)  # collapsed: the summaries first
    tallest = max(len([n for n in g.nodes if n.x == g.nodes[0].x]) for g in layout)
    assert tallest <= 60
    for g in layout:  # nodes never overlap, labels fit their box
        spots = [(n.x, n.y) for n in g.nodes]
        assert len(spots) == len(set(spots))
        assert all(len(n.label) <= 26 for n in g.nodes)
        assert all(0 <= n.x < g.width and 0 <= n.y < g.height for n in g.nodes)


def test_small_mesh_renders_an_svg_per_domain_with_links_to_sections() -> None:
    report = build_report(small_mesh(), now=NOW)
    assert len(report["sets"]) <= MAP_OPEN_SETS
    html = render_html(report)
    doc = _Tags()
    doc.feed(html)
    maps = [a for t, a in doc.tags if t == "svg" and a.get("class") == "mesh-map"]
    assert len(maps) == 3
    details = [a for t, a in doc.tags if t == "details" and "mesh-domain" in (a.get("class") or "")]
    assert [d["data-domain"] for d in details] == ["marketing", "payments", "risk"]
    assert all("open" in d for d in details)
    ids = {a["id"] for _, a in doc.tags if a.get("id")}
    links = [a["href"] for t, a in doc.tags if t == "a" and a.get("class") == "map-link"]
    assert links and all(href[1:] in ids for href in links)  # every node's section exists
    assert {h.split("-")[0] for h in links} == {"#set", "#consumer", "#product"}
    bad = [a for t, a in doc.tags if t == "g" and "state-bad" in (a.get("class") or "")]
    assert bad  # cards, and the churn model reading it
    assert 'id="consumers-table"' in html and "churn-model" in html


def test_consumer_metadata_is_escaped_in_the_map_and_table() -> None:
    records = small_mesh()
    body = records[0]["evaluation"]["sets"][qn("payments", "ledger")]
    body["consumers"] = [_model(XSS_SCRIPT, domain="risk", owner=XSS_IMG)]
    html = render_html(build_report(records, now=NOW))
    assert XSS_SCRIPT not in html and XSS_IMG not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_an_endpoint_is_drawn_after_the_model_it_serves_linked_from_it() -> None:
    """The endpoint reads what its model reads: it is linked from the model, one column
    after it, and from a set only when the model does not read that set."""
    cards, ledger = qn("payments", "cards"), qn("payments", "ledger")
    model = _model("fraud-model", domain="risk", version="7")
    endpoint = {**_model("fraud-service", domain="risk", version=None), "kind": "serving-endpoint",
                "serves": ["model/fraud-model@7"]}  # fmt: skip
    sets = [
        feature_set(
            "payments", "cards", domain="payments", score=90.0, grade="A", consumers=[model, endpoint]
        ),
        feature_set("payments", "ledger", domain="payments", score=90.0, grade="A", consumers=[endpoint]),
    ]
    report = build_report([record("run1", "2026-05-31T02:00:00Z", sets=sets)], now=NOW)
    assert report["mesh_map"]["layers"][-2:] == ["Models and consumers", "Endpoints"]
    risk = _group(report, "risk")
    layer = {n["id"]: n["layer"] for n in risk["nodes"]}
    m, e = "model:model/fraud-model@7", "model:serving-endpoint/fraud-service"
    assert layer[e] == layer[m] + 1
    assert _edges(risk) == {(f"set:{cards}", m), (m, e), (f"set:{ledger}", e)}
    (group,) = [g for g in mesh_map_layout(report["mesh_map"], {}, total_sets=2) if g.name == "risk"]
    assert len(group.edges) == 3 and [t for _, t in group.columns][-1] == "Endpoints"
