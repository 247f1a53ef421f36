"""Publishing efficiency: requests featmesh sends to Atlas against a one-entity-per-call publisher.

Generates a mesh of N feature sets x M features (default 1,000 x 30) in one store,
publishes it to the stateful fake Atlas in tests/fakeatlas.py, re-publishes it
unchanged, and does the same with a publisher that writes one entity per call (as
Feathr's Purview registry does, through pyapacheatlas's upload_entities). Prints
request counts, the bound featmesh must meet (ceil(entities / batch size) bulk writes
plus the classification calls; no write at all on an unchanged re-publish), times, and
the ratios. Run from the repository root:

    python bench/publish_bench.py [--sets 1000] [--features 30] [--batch-size 100]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyapacheatlas.auth import BasicAuthentication
from pyapacheatlas.core import AtlasClient

from featmesh.connector import progress
from featmesh.connector.catalog.atlas import AtlasCatalog
from featmesh.connector.catalog.plan import compute_plan
from featmesh.connector.catalog.rest import AtlasRest, basic_auth_headers
from featmesh.connector.mapping.entities import DATA_PRODUCT, map_mesh
from featmesh.connector.model import Entity, Feature, FeatureSet, FeatureStore, KeyColumn, SourceRef
from featmesh.typedefs import load_typedefs
from tests.fakeatlas import FakeAtlas

BASE = "https://atlas.bench.example:21000/api/atlas/v2"
AUTH = ("bench", "bench-password")
WRITES = ("POST", "PUT", "DELETE")


def mesh(sets: int, features: int) -> list[FeatureStore]:
    feature_sets = tuple(
        FeatureSet(
            store_kind="manifest",
            store="bench",
            name=f"set_{i:05d}",
            version="1",
            owner="bench-team@contoso.com",
            description=f"Benchmark feature set number {i}.",
            entities=("customer",),
            join_keys=(KeyColumn(name="customer_id", dtype="string"),),
            timestamp_field="event_ts",
            ttl_seconds=86400,
            features=tuple(
                Feature(
                    name=f"f_{j:03d}",
                    dtype="float64",
                    description=f"Feature {j} of set {i}.",
                    source_columns=(f"c_{j % 10}",),
                )
                for j in range(features)
            ),
            sources=(
                SourceRef(
                    kind="adls",
                    uri=f"abfss://raw@benchlake.dfs.core.windows.net/t{i % 50}/",
                    columns=tuple(f"c_{k}" for k in range(10)),
                ),
            ),
        )
        for i in range(sets)
    )
    entity = Entity(name="customer", columns=(KeyColumn(name="customer_id", dtype="string"),))
    return [
        FeatureStore(
            kind="manifest", name="bench", uri="bench", entities=(entity,), feature_sets=feature_sets
        )
    ]


def outcomes(stores: list[FeatureStore]) -> dict[str, list[dict]]:
    return {
        fs.qualified_name: [
            {
                "typeName": "FEATMESH.COMPLIANT",
                "attributes": {"score": 100.0, "grade": "A", "policyPack": "mesh-baseline"},
            }
        ]
        for store in stores
        for fs in store.feature_sets
    }


def writes(atlas: FakeAtlas) -> int:
    """Requests that change state: searches are POSTs that read."""
    counts = atlas.request_counts.items()
    return sum(n for (method, path), n in counts if method in WRITES and not path.startswith("/search"))


def featmesh_publish(stores, batch_size: int) -> dict:
    with FakeAtlas(BASE, auth=AUTH, rollback=False) as atlas:
        catalog = AtlasCatalog(
            "atlas+https://atlas.bench.example:21000",
            AtlasRest(BASE, basic_auth_headers(*AUTH)),
            flavour="atlas",
            batch_size=batch_size,
        )
        runs = []
        for _ in range(2):
            before_writes, before_total = writes(atlas), sum(atlas.request_counts.values())
            started = time.perf_counter()
            mapping = map_mesh(stores, exists=catalog.exists, classifications=outcomes(stores))
            scopes = [s.qualified_name for s in stores]
            current = catalog.current(mapping.keys(), scopes)
            plan = compute_plan(mapping.entities, current, delete_scope=scopes, protected=[DATA_PRODUCT])
            catalog.sync_typedefs()
            result = catalog.apply(plan, run_id="bench")
            runs.append(
                {
                    "seconds": time.perf_counter() - started,
                    "writes": writes(atlas) - before_writes,
                    "requests": sum(atlas.request_counts.values()) - before_total,
                    "bulk": atlas.count("POST", "/entity/bulk"),
                    "classification_calls": atlas.count("POST", "/entity/guid/{guid}/classifications")
                    + atlas.count("PUT", "/entity/guid/{guid}/classifications"),
                    "entities": len(mapping.entities),
                    "failed": len(result.failed),
                }
            )
        return {"first": runs[0], "again": runs[1]}


def naive_publish(stores) -> dict:
    """One entity per call, every run: what a registry without plan/diff does."""
    entities = map_mesh(stores, classifications=outcomes(stores)).entities
    with FakeAtlas(BASE, auth=AUTH, rollback=False) as atlas:
        client = AtlasClient(BASE, BasicAuthentication(*AUTH))
        client.upload_typedefs({k: v for k, v in load_typedefs().items() if v})
        runs = []
        for _ in range(2):
            before = writes(atlas)
            started = time.perf_counter()
            for entity in entities:
                client.upload_entities({k: v for k, v in entity.items() if k != "classifications"})
            runs.append({"seconds": time.perf_counter() - started, "writes": writes(atlas) - before})
        return {"first": runs[0], "again": runs[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=1000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    progress.configure(enabled=False)
    stores = mesh(args.sets, args.features)
    ours = featmesh_publish(stores, args.batch_size)
    naive = naive_publish(stores)
    first, again = ours["first"], ours["again"]
    bound = math.ceil(first["entities"] / args.batch_size)
    print(
        f"mesh: {args.sets} feature sets x {args.features} features = {first['entities']} entities, "
        f"batch size {args.batch_size}"
    )
    print(
        f"featmesh first publish:   {first['writes']:>6} writes ({first['bulk']} bulk, "
        f"{first['classification_calls']} classification calls), {first['requests']} requests in all, "
        f"{first['seconds']:.1f} s"
    )
    print(
        f"  bound: ceil({first['entities']} / {args.batch_size}) = {bound} bulk writes "
        "+ classification calls: "
        f"{'met' if first['bulk'] <= bound else 'MISSED'}"
    )
    print(
        f"featmesh re-publish:      {again['writes']:>6} writes, {again['requests']} reads, "
        f"{again['seconds']:.1f} s ({'no write: met' if again['writes'] == 0 else 'MISSED'})"
    )
    print(
        f"one-entity-per-call:      {naive['first']['writes']:>6} writes first, "
        f"{naive['again']['writes']} writes again, "
        f"{naive['first']['seconds']:.1f} s + {naive['again']['seconds']:.1f} s"
    )
    print(
        f"ratio (one-per-call / featmesh writes), first publish: "
        f"{naive['first']['writes'] / max(first['writes'], 1):.0f}x; re-publish: "
        f"{naive['again']['writes']} vs {again['writes']}"
    )


if __name__ == "__main__":
    main()
