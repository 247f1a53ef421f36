"""The published mesh as a graph: data products -> feature sets -> derived sets -> models.

Built once from the Atlas JSON a catalog exports (``Catalog.export()``, local or remote),
in one pass over the entities: every lineage process becomes edges from its inputs to its
outputs, its ``columnMapping`` becomes column-level edges (a consumption's ``readsFeatures``,
or a model's ``features``, link each feature to the consumer), and a model's ``serves`` links
an endpoint to the models behind it. Questions (what is downstream of this product, set
or feature) are then answered by walking these indexes, never by rescanning entities, so
an impact query costs the size of its answer.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from featmesh.connector.mapping.entities import DATA_PRODUCT, FEATURE, FEATURE_SET, MODEL, PIPELINE

PRODUCT = "product"
SET = "feature_set"
FEATURE_NODE = "feature"
CONSUMER = "model"


@dataclass
class Node:
    qualified_name: str
    type_name: str
    kind: str
    """``product``, ``feature_set``, ``feature`` or ``model`` (any consumer)."""
    name: str
    owner: str | None = None
    domain: str | None = None
    version: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    classifications: tuple[str, ...] = ()

    @property
    def consumer_kind(self) -> str | None:
        kind = self.attributes.get("consumerKind")
        return str(kind) if kind else ("model" if self.kind == CONSUMER else None)

    @property
    def compliance(self) -> str | None:
        """``compliant``, ``non-compliant``, ``retired`` or None (not evaluated)."""
        if "FEATMESH.RETIRED" in self.classifications:
            return "retired"
        if "FEATMESH.NON_COMPLIANT" in self.classifications:
            return "non-compliant"
        if "FEATMESH.COMPLIANT" in self.classifications:
            return "compliant"
        return None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "qualifiedName": self.qualified_name,
            "typeName": self.type_name,
            "name": self.name,
            "owner": self.owner,
            "domain": self.domain,
        }
        if self.version is not None:
            out["version"] = self.version
        if self.kind == CONSUMER:
            out["kind"] = self.consumer_kind
            out["registeredAt"] = self.attributes.get("registeredAt")
        if self.compliance:
            out["compliance"] = self.compliance
        return out


class MeshGraph:
    """Indexes over the published mesh; build with :meth:`from_entities`."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.down: dict[str, list[str]] = {}
        """Set-level edges: product -> set, parent set -> derived set, set -> model,
        model -> endpoint that serves it."""
        self.up: dict[str, list[str]] = {}
        self.columns_down: dict[str, list[str]] = {}
        """Column-level edges, ``QN#column`` -> ``QN#feature`` (a model's sink is the model QN)."""
        self.features_of: dict[str, list[str]] = {}
        self.by_uri: dict[str, list[str]] = {}
        """A source URI or table name -> the feature sets reading it."""
        self.readers_of_feature: dict[str, list[str]] = {}
        """A feature QN -> the models that read exactly it."""

    # ----------------------------------------------------------------- building

    @classmethod
    def from_entities(cls, entities: Iterable[Mapping[str, Any]]) -> MeshGraph:
        graph = cls()
        processes = []
        for entity in entities:
            type_name = entity.get("typeName")
            if type_name == PIPELINE:
                processes.append(entity)
            else:
                graph._add_entity(entity)
        for process in processes:
            graph._add_process(process)
        for node in list(graph.nodes.values()):
            if node.kind == CONSUMER:
                for served in node.attributes.get("serves") or ():
                    graph._edge(served, node.qualified_name)
                for feature in node.attributes.get("features") or ():
                    graph.readers_of_feature.setdefault(feature, []).append(node.qualified_name)
        return graph

    def _add_entity(self, entity: Mapping[str, Any]) -> None:
        attrs = entity.get("attributes") or {}
        qn = attrs.get("qualifiedName")
        if not isinstance(qn, str):
            return
        type_name = str(entity.get("typeName"))
        kind = {FEATURE_SET: SET, FEATURE: FEATURE_NODE, MODEL: CONSUMER, DATA_PRODUCT: PRODUCT}.get(
            type_name
        )
        if kind is None:
            return
        node = Node(
            qualified_name=qn,
            type_name=type_name,
            kind=kind,
            name=str(attrs.get("name") or qn),
            owner=attrs.get("owner"),
            domain=attrs.get("domain"),
            version=attrs.get("version"),
            attributes=attrs,
            classifications=tuple(c.get("typeName", "") for c in entity.get("classifications") or ()),
        )
        self.nodes[qn] = node
        if kind == FEATURE_NODE:
            self.features_of.setdefault(qn.split("#", 1)[0], []).append(qn)
        elif kind == SET:
            for uri in attrs.get("sourceUris") or ():
                self.by_uri.setdefault(str(uri), []).append(qn)
        elif kind == PRODUCT and attrs.get("uri"):
            self.by_uri.setdefault(str(attrs["uri"]), [])

    def _add_process(self, process: Mapping[str, Any]) -> None:
        attrs = process.get("attributes") or {}
        inputs = [_qn_of(r) for r in attrs.get("inputs") or ()]
        outputs = [_qn_of(r) for r in attrs.get("outputs") or ()]
        for ref in list(attrs.get("inputs") or ()) + list(attrs.get("outputs") or ()):
            qn = _qn_of(ref)
            if qn and qn not in self.nodes:  # an existing catalog entity a rule resolved
                type_name = str(ref.get("typeName"))
                consumed = attrs.get("pipelineKind") == "consumption" and ref in (attrs.get("outputs") or ())
                kind = CONSUMER if consumed else PRODUCT
                self.nodes[qn] = Node(qualified_name=qn, type_name=type_name, kind=kind, name=qn)
        for source in inputs:
            for sink in outputs:
                if source and sink:
                    self._edge(source, sink)
        if attrs.get("pipelineKind") == "consumption":
            for feature in attrs.get("readsFeatures") or ():
                for sink in outputs:
                    self.readers_of_feature.setdefault(str(feature), []).append(sink)
        mapping = attrs.get("columnMapping")
        if isinstance(mapping, str) and mapping:
            try:
                entries = json.loads(mapping)
            except json.JSONDecodeError:
                return
            for entry in entries if isinstance(entries, list) else ():
                datasets = entry.get("DatasetMapping") or {}
                src, snk = str(datasets.get("Source")), str(datasets.get("Sink"))
                sink_is_set = snk in self.nodes and self.nodes[snk].kind == SET
                for column in entry.get("ColumnMapping") or ():
                    target = f"{snk}#{column.get('Sink')}" if sink_is_set else snk
                    self.columns_down.setdefault(f"{src}#{column.get('Source')}", []).append(target)

    def _edge(self, source: str, sink: str) -> None:
        children = self.down.setdefault(source, [])
        if sink not in children:
            children.append(sink)
            self.up.setdefault(sink, []).append(source)

    # ----------------------------------------------------------------- queries

    def resolve(self, target: str) -> list[str]:
        """The node(s) TARGET names: a qualifiedName of a product, set, feature or model,
        or a source URI / table name as feature sets wrote it. Empty when unknown."""
        if target in self.nodes:
            return [target]
        placeholder = f"featmesh://data-product/{target}"
        if placeholder in self.nodes:
            return [placeholder]
        if target in self.by_uri:
            sets = self.by_uri[target]
            products = {
                p
                for s in sets
                for p in self.up.get(s, ())
                if self.nodes[p].kind == PRODUCT and self.nodes[p].attributes.get("uri") == target
            }
            return sorted(products) or list(sets)
        return []

    def downstream(self, target: str) -> Impact:
        """Everything that reads ``target``, directly or through derived sets."""
        start = self.nodes[target]
        impact = Impact(target=start)
        if start.kind == FEATURE_NODE:
            self._feature_closure(target, impact)
        else:
            first = self.by_uri.get(str(start.attributes.get("uri")), []) if start.kind == PRODUCT else []
            self._set_closure(target, list(first), impact)
        return impact

    def _set_closure(self, target: str, extra_first: list[str], impact: Impact) -> None:
        depth = {target: 0}
        queue = deque([target])
        for qn in extra_first:
            if qn not in depth:
                depth[qn] = 1
                impact.via[qn] = target
                queue.append(qn)
        while queue:
            qn = queue.popleft()
            node = self.nodes.get(qn)
            if node is not None and qn != target:
                impact.add(node, depth[qn])
                if node.kind == SET:
                    impact.features.extend(self.features_of.get(qn, ()))
            for child in self.down.get(qn, ()):
                if child not in depth:
                    depth[child] = depth[qn] + 1
                    impact.via[child] = qn
                    queue.append(child)
        if self.nodes[target].kind == SET:
            impact.features[:0] = self.features_of.get(target, ())

    def _feature_closure(self, target: str, impact: Impact) -> None:
        depth = {target: 0}
        queue = deque([target])
        while queue:
            qn = queue.popleft()
            sinks = list(self.columns_down.get(qn, ())) + list(self.readers_of_feature.get(qn, ()))
            for sink in sinks:
                if sink in depth:
                    continue
                depth[sink] = depth[qn] + 1
                impact.via[sink] = qn
                node = self.nodes.get(sink)
                if node is not None and node.kind == CONSUMER:
                    impact.add(node, depth[sink])
                    for served in self.down.get(sink, ()):
                        if served not in depth and served in self.nodes:
                            depth[served] = depth[sink] + 1
                            impact.via[served] = sink
                            impact.add(self.nodes[served], depth[served])
                    continue
                impact.features.append(sink)
                parent = self.nodes.get(sink.split("#", 1)[0])
                if parent is not None and parent.qualified_name not in impact.seen:
                    impact.add(parent, depth[sink])
                queue.append(sink)


@dataclass
class Impact:
    """The downstream closure of one target."""

    target: Node
    feature_sets: list[tuple[Node, int]] = field(default_factory=list)
    models: list[tuple[Node, int]] = field(default_factory=list)
    endpoints: list[tuple[Node, int]] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    via: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def add(self, node: Node, depth: int) -> None:
        if node.qualified_name in self.seen:
            return
        self.seen.add(node.qualified_name)
        if node.kind == SET:
            self.feature_sets.append((node, depth))
        elif node.kind == CONSUMER:
            bucket = self.endpoints if node.consumer_kind == "serving-endpoint" else self.models
            bucket.append((node, depth))

    @property
    def owners(self) -> list[str]:
        nodes = [n for n, _ in self.feature_sets + self.models + self.endpoints]
        return sorted({n.owner for n in nodes if n.owner})

    @property
    def domains(self) -> list[str]:
        nodes = [n for n, _ in self.feature_sets + self.models + self.endpoints]
        return sorted({n.domain for n in nodes if n.domain})

    def to_json(self) -> dict[str, Any]:
        def rows(items: list[tuple[Node, int]]) -> list[dict[str, Any]]:
            return [
                {**n.summary(), "depth": d, "via": self.via.get(n.qualified_name)}
                for n, d in sorted(items, key=lambda i: (i[1], i[0].qualified_name))
            ]

        return {
            "target": self.target.summary(),
            "feature_sets": rows(self.feature_sets),
            "features": list(dict.fromkeys(self.features)),
            "models": rows(self.models),
            "serving_endpoints": rows(self.endpoints),
            "owners": self.owners,
            "domains": self.domains,
        }


def _qn_of(ref: Any) -> str:
    if not isinstance(ref, Mapping):
        return ""
    unique = ref.get("uniqueAttributes") or {}
    return str(unique.get("qualifiedName") or "")
