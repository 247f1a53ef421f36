"""Benchmark: ``featmesh impact`` on a large published mesh, indexed vs rescanning.

Builds the Atlas JSON of a mesh of SETS feature sets x FEATURES features (default
2,000 x 20) in DOMAINS domains: each domain has one source data product read by its base
sets, every fifth set is derived from the previous one, and every tenth set is read by a
model. Times building :class:`MeshGraph` once plus QUERIES impact queries against the
peer a per-node scan would be: for each node reached, scanning every lineage process for
the ones that read it (what a closure without an index costs).

    python bench/impact_bench.py [--sets 2000] [--features 20] [--queries 50]
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from typing import Any

from featmesh.connector.mapping.graph import MeshGraph


def ref(type_name: str, qn: str) -> dict[str, Any]:
    return {"typeName": type_name, "uniqueAttributes": {"qualifiedName": qn}}


def mesh(sets: int, features: int, domains: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in range(domains):
        out.append(
            {
                "typeName": "featmesh_data_product",
                "attributes": {"qualifiedName": f"featmesh://data-product/t{d}", "uri": f"t{d}"},
            }
        )
    for i in range(sets):
        qn = f"featmesh://manifest/d{i % domains}/set{i}@1"
        out.append(
            {
                "typeName": "featmesh_feature_set",
                "attributes": {
                    "qualifiedName": qn,
                    "name": f"set{i}",
                    "owner": f"team{i % domains}",
                    "domain": f"d{i % domains}",
                },
            }
        )
        out += [
            {"typeName": "featmesh_feature", "attributes": {"qualifiedName": f"{qn}#f{j}", "name": f"f{j}"}}
            for j in range(features)
        ]
        if i % 5 and i > domains:
            parent = f"featmesh://manifest/d{(i - 1) % domains}/set{i - 1}@1"
            out.append(
                {
                    "typeName": "featmesh_feature_pipeline",
                    "attributes": {
                        "qualifiedName": qn + "/pipeline/derivation",
                        "inputs": [ref("featmesh_feature_set", parent)],
                        "outputs": [ref("featmesh_feature_set", qn)],
                    },
                }
            )
        else:
            out.append(
                {
                    "typeName": "featmesh_feature_pipeline",
                    "attributes": {
                        "qualifiedName": qn + "/pipeline/source",
                        "inputs": [ref("featmesh_data_product", f"featmesh://data-product/t{i % domains}")],
                        "outputs": [ref("featmesh_feature_set", qn)],
                    },
                }
            )
        if i % 10 == 0:
            model = f"featmesh://manifest/models/consumer/model/m{i}@1"
            out.append(
                {
                    "typeName": "featmesh_model",
                    "attributes": {
                        "qualifiedName": model,
                        "name": f"m{i}",
                        "featureSets": [qn],
                        "features": [f"{qn}#f0"],
                    },
                }
            )
            out.append(
                {
                    "typeName": "featmesh_feature_pipeline",
                    "attributes": {
                        "qualifiedName": model + "/pipeline/consumption",
                        "pipelineKind": "consumption",
                        "inputs": [ref("featmesh_feature_set", qn)],
                        "outputs": [ref("featmesh_model", model)],
                    },
                }
            )
    return out


def rescanning(entities: list[dict[str, Any]], target: str) -> int:
    """The peer: a closure that scans every process for each node it reaches."""
    processes = [e["attributes"] for e in entities if e["typeName"] == "featmesh_feature_pipeline"]
    seen, queue = {target}, deque([target])
    while queue:
        qn = queue.popleft()
        for p in processes:
            if any(r["uniqueAttributes"]["qualifiedName"] == qn for r in p.get("inputs", ())):
                for r in p.get("outputs", ()):
                    out = r["uniqueAttributes"]["qualifiedName"]
                    if out not in seen:
                        seen.add(out)
                        queue.append(out)
    return len(seen) - 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", type=int, default=2_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--domains", type=int, default=20)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    entities = mesh(args.sets, args.features, args.domains)
    targets = [f"featmesh://data-product/t{d % args.domains}" for d in range(args.queries)]
    start = time.perf_counter()
    graph = MeshGraph.from_entities(entities)
    built = time.perf_counter() - start
    start = time.perf_counter()
    reached = []
    for t in targets:
        found = graph.downstream(t)
        reached.append(len(found.feature_sets) + len(found.models) + len(found.endpoints))
    queried = time.perf_counter() - start
    start = time.perf_counter()
    peer_targets = targets[:2]
    peer = [rescanning(entities, t) for t in peer_targets]
    peer_time = (time.perf_counter() - start) / len(peer_targets) * len(targets)
    print(f"mesh: {args.sets} sets x {args.features} features, {len(entities)} entities")
    print(f"{args.queries} impact queries")
    print(f"indexed graph:   build {built:.2f} s + queries {queried:.3f} s = {built + queried:.2f} s")
    print(f"per-node rescan: {peer_time:.1f} s (extrapolated from {len(peer_targets)} queries)")
    print(f"speed-up: {peer_time / (built + queried):.0f}x")
    print(f"nodes reached by the first query: {reached[0]} (rescan: {peer[0]})")


if __name__ == "__main__":
    main()
