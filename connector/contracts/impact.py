"""The ML impact of a data contract's breaking change, traced through the mesh graph.

Shared by ``featmesh contract diff`` (the graph of a catalog) and the scan, which shows a
proposed contract version's breaks in the report (the graph of the run's own mapping).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from featmesh.connector.contracts import Break, Proposal
from featmesh.connector.mapping.graph import SET, MeshGraph


def break_impact(graph: MeshGraph, item: Break) -> dict[str, Any]:
    """What one breaking change of a contract breaks in ``graph``: the feature sets reading
    its table (for a column, the features computed from it), everything downstream of them,
    models and endpoints included, and their owners."""
    sets = [qn for qn in graph.by_uri.get(item.table, ()) if graph.nodes[qn].kind == SET]
    starts = []
    for set_qn in sets:
        if item.column is None:
            starts.append(set_qn)
            continue
        for feature_qn in graph.features_of.get(set_qn, ()):
            if item.column in (graph.nodes[feature_qn].attributes.get("sourceColumns") or ()):
                starts.append(feature_qn)
    found: dict[str, dict[str, dict[str, Any]]] = {"feature_sets": {}, "models": {}, "serving_endpoints": {}}
    features: list[str] = []
    owners: set[str] = set()
    for start in starts:
        node = graph.nodes[start]
        closure = graph.downstream(start)
        home = graph.nodes.get(start.split("#", 1)[0])
        if home is not None:
            found["feature_sets"].setdefault(home.qualified_name, home.summary())
        if node.kind != SET:
            features.append(start)
        features.extend(closure.features)
        body = closure.to_json()
        for key in found:
            for row in body[key]:
                found[key].setdefault(row["qualifiedName"], row)
        owners.update(body["owners"])
    for rows in found.values():
        owners.update(r["owner"] for r in rows.values() if r.get("owner"))
    return {
        "table": item.table,
        "column": item.column,
        "change": item.change,
        "message": item.message,
        **{k: list(v.values()) for k, v in found.items()},
        "features": list(dict.fromkeys(features)),
        "owners": sorted(owners),
    }


def proposal_impacts(
    proposals: Iterable[Proposal], entities: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Each proposal with its breaks' impact on the mesh ``entities`` describe (Atlas JSON):
    ``{contract, current, proposed, status, breaks [...], breaks_downstream}``."""
    listed = list(proposals)
    if not listed:
        return []
    graph = MeshGraph.from_entities(entities)
    out = []
    for proposal in listed:
        breaks = [break_impact(graph, item) for item in proposal.breaks]
        out.append(
            {
                "contract": proposal.proposed.id,
                "name": proposal.proposed.name,
                "current": proposal.current.version,
                "proposed": proposal.proposed.version,
                "status": proposal.proposed.status,
                "path": proposal.proposed.path,
                "breaks": breaks,
                "breaks_downstream": any(b["feature_sets"] or b["models"] for b in breaks),
            }
        )
    return out
